"""'¿Es verdad que…?' gets the verdict the story states (``index.verdict``)."""
from __future__ import annotations

import pytest

from index.build import build_index
from index.engine import Engine
from index.noise import strip_noise
from index.settings import Settings
from index.verdict import VERDICT_WITHIN, claim_request, verdict_at
from tests.support.encoder import FakeEncoder


@pytest.mark.parametrize("question, claim", [
    ("¿Es verdad que la vacuna deja estériles a las mujeres?", "la vacuna deja estériles a las mujeres"),
    ("es cierto q la vacuna del covid te deja esteril?", "la vacuna del covid te deja esteril"),
    ("Oye, ¿es un bulo que detuvieron al papa?", "detuvieron al papa"),
    ("¿Es falso que la OMS recomienda la ivermectina?", "la OMS recomienda la ivermectina"),
    ("¿Es cierto lo de Charles Lieber?", "Charles Lieber"),
    ("¿Es cierto o no que AMLO cobrará un impuesto?", "AMLO cobrará un impuesto"),
    ("¿Verdad que Messi no juega?", "Messi no juega"),
    ("lo del apagon en el vaticano es verdad?", "apagon en el vaticano"),  # the claim first
    ("el dióxido de cloro cura el covid, ¿es cierto?", "el dióxido de cloro cura el covid"),
    ("la vacuna deja esteril o es fake?", "la vacuna deja esteril"),
])
def test_claims_asked_about(question: str, claim: str) -> None:
    assert claim_request(strip_noise(question)) == claim


@pytest.mark.parametrize("question", [
    "¿Es verdad?", "¿es verdad eso?", "la noticia es falsa?", "¿Qué es verdad?", "¿Por qué es falso?",
    "¿Quién dijo que es mentira?", "¿Cuál es la verdad?", "¿Qué acusa EE. UU.?", "¿Es la vacuna segura?",
])
def test_what_asks_no_claim(question: str) -> None:
    assert claim_request(strip_noise(question)) is None


def test_the_headline_s_verdict_comes_first() -> None:
    assert verdict_at("Es falso que la vacuna esterilice a las mujeres", ["Circula un video.", "Es un bulo."]) == -1


@pytest.mark.parametrize("title", [
    "Desmienten a Trump: la gripe no es más letal que la covid", "Yeidckol Polevnsky desmiente estar en terapia",
    "La discoteca ha desmentido su cierre", "El PSUV desmintió las pintas", "El aeropuerto niega el aterrizaje",
    "Son afirmaciones erróneas", "No, no han detenido al Papa", "No hay evidencia de que el matarratón cure",
    "No existe ningún estudio que lo confirme",
])
def test_ways_a_headline_says_a_claim_is_false(title: str) -> None:
    assert verdict_at(title, ["Circula un mensaje."]) == -1


def test_a_false_verdict_comes_before_a_concession() -> None:
    sentences = ["Es cierto que a veces una mascarilla es incómoda.", "Lo que no es cierto es que envenene."]
    assert verdict_at("¿Es cierto que la mascarilla envenena?", sentences) == 1  # a headline that asks states none


def test_a_true_verdict_and_none() -> None:
    assert verdict_at("Los disquetes no mueren", ["Parece broma, pero es real y se sigue haciendo."]) == 0
    assert verdict_at("Messi, descartado", ["Messi no jugará el amistoso."]) is None
    late = ["Una frase más."] * VERDICT_WITHIN + ["Todo es falso."]
    assert verdict_at("Un reportaje", late) is None  # a fact-check says it early


CHECKED = (
    "Es falso que la vacuna esterilice a las mujeres\n"
    "Un video difundido en redes afirma que la vacuna contra el covid busca esterilizar a las mujeres.\n\n"
    "El genetista que lo dice no presenta ningún estudio y las agencias sanitarias lo niegan.\n"
)
ASKED = (
    "¿Es verdad que el alcalde cobrará un impuesto por tener perros?\n"
    "Circula en redes que el alcalde cobrará un impuesto anual por tener perros en casa. "
    "Sin embargo esto es totalmente falso.\n\n"
    "La noticia salió de un blog sin firma.\n"
)
REPORT = "Messi, descartado para el amistoso\nLeo Messi no jugará el amistoso contra España por una lesión.\n"


@pytest.fixture
def engine(fake_settings: Settings) -> Engine:
    for name, text in (("vacuna", CHECKED), ("perros", ASKED), ("messi", REPORT)):
        (fake_settings.articles_dir / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    return Engine.open(fake_settings, FakeEncoder())


def test_a_claim_the_headline_judges_gets_the_headline(engine: Engine) -> None:
    answer = engine.ask("¿Es verdad que la vacuna contra el covid esteriliza a las mujeres?")
    assert answer.outcome == "answered" and answer.answer == "Es falso que la vacuna esterilice a las mujeres"
    assert answer.passages[0].hit.article_id == "vacuna" and answer.passages[0].hit.text.startswith("Un video")


def test_a_short_verdict_in_the_text_comes_with_the_claim_before_it(engine: Engine) -> None:
    answer = engine.ask("es cierto q el alcalde va a cobrar impuesto x tener perros?")
    said = ("Circula en redes que el alcalde cobrará un impuesto anual por tener perros en casa. "
            "Sin embargo esto es totalmente falso.")
    assert answer.outcome == "answered" and answer.answer == said
    first = answer.passages[0]
    assert first.hit.article_id == "perros" and first.hit.text[slice(*first.highlight[-1])].endswith("falso.")


def test_a_story_without_a_verdict_answers_the_claim_as_a_question(engine: Engine) -> None:
    answer = engine.ask("¿Es verdad que Messi no jugará el amistoso contra España?")
    assert answer.answered and answer.answer.startswith("Leo Messi no jugará el amistoso")


def test_a_claim_nothing_is_about_is_off_topic(engine: Engine) -> None:
    assert engine.ask("¿Es verdad que la Tierra es plana?").outcome == "off_topic"


def test_verdicts_can_be_turned_off(engine: Engine) -> None:
    plain = Engine.open(engine.settings.model_copy(update={"verdicts": False}), FakeEncoder())
    question = "¿Es verdad que la vacuna contra el covid esteriliza a las mujeres?"
    assert plain.ask(question).answer != "Es falso que la vacuna esterilice a las mujeres"



def test_a_short_verdict_comes_alone_when_the_claim_before_it_would_not_fit(engine: Engine) -> None:
    """A cut answer would lose the verdict at its end."""
    narrow = Engine.open(engine.settings.model_copy(update={"answer_max_chars": 120}), FakeEncoder())
    answer = narrow.ask("es cierto q el alcalde va a cobrar impuesto x tener perros?")
    assert answer.outcome == "answered" and answer.answer == "Sin embargo esto es totalmente falso."
