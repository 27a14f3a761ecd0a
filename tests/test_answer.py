"""Sentence selection, refusal and follow-up resolution (fake encoder: fast and deterministic)."""
from __future__ import annotations

import numpy as np
import pytest

from index.answer import FEATURES, Evidence, clip, said_before
from index.coverage import coverage
from index.followup import Resolution, is_followup, points_back, resolve_query, rests_on_story
from index.kinds import expected_kind, kind_match
from index.build import build_index
from index.engine import Engine
from index.lexical import Analyzer, read_alias_text
from index.records import Turn
from index.settings import Settings
from tests.support.encoder import FakeEncoder

SEED_TEXT = (
    "Putin visita Corea del Norte\n"
    "El presidente ruso viajará a Pionyang el martes.\n"
    "Funcionarios estadounidenses han acusado a Corea del Norte de suministrar a Rusia artillería, misiles y "
    "otros equipos militares. A cambio, Pionyang podría estar recibiendo tecnologías militares clave y ayuda. "
    "No obstante, Moscú y Pionyang han negado estas acusaciones.\n"
)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(read_alias_text())


@pytest.fixture
def engine(fake_settings: Settings) -> Engine:
    folder = fake_settings.articles_dir
    (folder / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
    (folder / "cocina.txt").write_text("Recetas\nLa paella valenciana lleva arroz, pollo y azafrán. "
                                       "Se cocina a fuego lento.\n", encoding="utf-8")
    (folder / "futbol.txt").write_text("Liga\nEl Madrid ganó al Barcelona por dos goles. "
                                       "El entrenador dijo que el equipo jugó bien.\n", encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    return Engine.open(fake_settings, FakeEncoder())


@pytest.mark.parametrize("question", ["¿Y qué recibe a cambio?", "y eso cuando", "¿quién lo dijo?", "¿Y?", "¿por qué?",
                                      "¿Cuándo la firmaron?", "¿dónde lo anunció el presidente?", "¿Quién la firmó?",
                                      "¿Por qué la cerraron?", "¿Quién ganó?", "¿qué dijo él?"])
def test_elliptical_questions_are_followups(analyzer: Analyzer, question: str) -> None:
    assert is_followup(question, analyzer)


@pytest.mark.parametrize("question", ["¿Qué recibe Pionyang a cambio?", "¿Qué acusa EE. UU.?",
                                      "¿Cuántos goles marcó el Madrid al Barcelona?",
                                      "¿Qué lleva la paella valenciana?", "¿Quién ganó el premio principal del festival?",
                                      "¿Qué es la carabela portuguesa?", "que es la carabela portuguesa",
                                      "¿Qué es la OTAN?", "¿Quién es Putin?"])
def test_standalone_questions_are_not_followups(analyzer: Analyzer, question: str) -> None:
    assert not is_followup(question, analyzer)


@pytest.mark.parametrize(("question", "expected"), [
    ("¿quién lo dijo?", True), ("¿Por qué?", True), ("¿Cuándo la firmaron?", True), ("¿qué dijo él?", True),
    ("¿Y en cuál fue la situación más grave?", True), ("¿De cuáles se habló?", True),
    ("¿En cuál ciudad fue la cumbre?", False), ("¿Cuál fue la situación más grave?", False),
    ("¿Dónde estuvo el youtuber?", False), ("¿Y qué recibe a cambio?", False), ("¿Qué es la carabela portuguesa?", False)])
def test_points_back_only_by_a_pronoun_or_saying_nothing(analyzer: Analyzer, question: str, expected: bool) -> None:
    """A follow-up that points back stays in its story; one that only says little may leave it."""
    assert points_back(question, analyzer) is expected


@pytest.mark.parametrize(("question", "expected"), [
    ("¿Por qué?", True), ("¿Cuándo?", True), ("¿quién lo dijo?", True), ("¿Dónde?", True), ("¿Por qué lo hizo?", True),
    ("¿Cómo?", False), ("¿Y eso?", False), ("¿Y qué recibe a cambio?", False), ("¿Cuándo será la visita de Putin?", False)])
def test_a_followup_rests_on_its_story_when_it_asks_only_for_a_kind_of_answer(analyzer: Analyzer, question: str,
                                                                            expected: bool) -> None:
    assert rests_on_story(question, analyzer) is expected


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("¿Cuánto pagaron por la carta?", "Se vendió por más de 2 millones de dólares.", 1.0),
    ("¿Cuánto pagaron por la carta?", "Se vendió por 1.500 euros.", 1.0),
    ("¿Cuánto pagaron por la carta?", "La carta de 1954 presenta a un Einstein cortés.", 0.0),  # a year, an article
    ("¿Cuántos millones costó?", "Costó millones.", 0.0),  # only what the question already says
    ("¿Cuántos hijos tiene?", "Tiene tres hijos.", 1.0),
    ("¿Cuándo murió?", "Murió en 1954.", 1.0),
    ("¿Cuándo murió?", "Murió en la ciudad.", 0.0),
    ("¿Cuándo entraron los ladrones?", "Ingresaron el pasado sábado al domicilio.", 1.0),
    ("¿Cuándo llegó?", "Llegó en MARZO.", 1.0),
    ("¿Cuándo llegó el sábado?", "Llegó el sábado.", 0.0),  # only what the question already says
    ("¿Quién lo compró?", "Lo compró Erik Gutkind en la subasta.", 1.0),
    ("¿Quién lo compró?", "Lo compró un coleccionista.", 0.0),
    ("¿Por qué?", "Le acusan de enviar armas para prolongar la guerra.", 1.0),
    ("¿Por qué lo cerraron?", "Lo cerraron debido a las lluvias.", 1.0),
    ("¿Para qué sirve?", "Sirve para medir la lluvia.", 1.0),
    ("¿Por qué lo cerraron?", "Lo cerraron el martes.", 0.0),
    ("¿Dónde?", "Se reunieron en Pionyang el martes.", 1.0),
    ("¿Dónde nació?", "Nació en la ciudad.", 0.0),
    ("¿Dónde está Pionyang?", "Viajará a Pionyang.", 0.0),  # only what the question already says
])
def test_kind_match_wants_what_the_question_word_asks_for(question: str, sentence: str, expected: float) -> None:
    assert kind_match(expected_kind(question), sentence, question) == expected


def test_resolve_query_uses_history_only_for_followups(analyzer: Analyzer) -> None:
    history = [Turn("¿Qué acusa EE. UU.?", "Funcionarios…", ("seed",))]
    resolution = resolve_query("¿Y qué recibe a cambio?", history, analyzer)
    assert "acusa" in resolution.text and resolution.article_ids == ("seed",)
    assert resolution.said == ("Funcionarios…",)
    assert resolve_query("¿Cuántos goles marcó el Madrid?", history, analyzer) == Resolution("¿Cuántos goles marcó el Madrid?")
    assert resolve_query("¿Y qué recibe a cambio?", [], analyzer) == Resolution("¿Y qué recibe a cambio?")


def test_a_followup_of_a_followup_keeps_the_thread(analyzer: Analyzer) -> None:
    """Found in the console: after a refused "¿Por qué?", "¿Y qué recibe a cambio?" lost the story."""
    history = [Turn("¿Qué lleva la paella valenciana?", "Arroz…", ("cocina",)),
               Turn("¿Qué acusa EE. UU.?", "Funcionarios…", ("seed",)),
               Turn("¿Por qué?", "", ("otro",)),
               Turn("¿quién lo dijo?", "Lo dijo el portavoz.", ("seed",))]
    resolution = resolve_query("¿Y qué recibe a cambio?", history, analyzer)
    assert "acusa" in resolution.text and "¿Por qué?" in resolution.text and "paella" not in resolution.text
    assert resolution.article_ids == ("seed",)  # the latest answered turn of the thread
    assert set(resolution.said) == {"Funcionarios…", "Lo dijo el portavoz."}


def test_a_thread_starts_at_the_last_question_that_named_its_subject(analyzer: Analyzer) -> None:
    history = [Turn("¿Qué acusa EE. UU.?", "Funcionarios…", ("seed",)),
               Turn("¿Y qué es la carabela portuguesa?", "Una medusa…", ("carabela",))]
    resolution = resolve_query("¿Es peligrosa?", history, analyzer)
    assert "carabela" in resolution.text and "acusa" not in resolution.text
    assert resolution.article_ids == ("carabela",) and resolution.said == ("Una medusa…",)


def test_a_thread_anchored_on_a_refused_question_boosts_no_article(analyzer: Analyzer) -> None:
    """A refusal keeps no story (the bot's turn of an off-topic reply has no article: its closest
    titles are not the story the user is following), and the story before it is another thread."""
    history = [Turn("¿Qué acusa EE. UU.?", "Funcionarios…", ("seed",)),
               Turn("¿Cuándo ocurrió el terremoto?", "", ())]
    resolution = resolve_query("¿Y cuántos murieron?", history, analyzer)
    assert "terremoto" in resolution.text and "acusa" not in resolution.text
    assert resolution.article_ids == () and resolution.said == ()


def test_a_followup_embeds_only_its_own_words_when_its_thread_was_just_asked(fake_settings: Settings) -> None:
    """The query embedding is most of a question's time; a follow-up used to embed its thread's text too."""
    folder = fake_settings.articles_dir
    (folder / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    encoder = FakeEncoder()
    engine = Engine.open(fake_settings, encoder)
    first = engine.ask("¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?")
    turn = Turn(first.question, first.answer, ("seed",))
    encoder.calls = 0
    follow = engine.ask("¿Y qué recibe a cambio?", history=[turn])
    assert encoder.calls == 1 and "A cambio, Pionyang" in follow.answer


def test_a_sentence_of_a_joined_or_clipped_answer_counts_as_said() -> None:
    first = "A cambio, Pionyang podría estar recibiendo tecnologías militares clave y ayuda."
    second = "No obstante, tanto Moscú como Pionyang han negado estas acusaciones, las cuales constituirían una violación."
    joined = f"{first} {second}"
    clipped = clip(joined, 120)
    assert clipped.endswith("…") and second not in clipped
    for answer in (joined, clipped):
        assert said_before(first, [answer]) and said_before(second, [answer])
    assert said_before("A cambio,  Pionyang podría\nestar recibiendo tecnologías militares clave y ayuda.", [first])
    assert not said_before("El Kremlin lo niega.", [joined]) and not said_before("", [joined])


def test_followup_does_not_repeat_a_sentence_of_a_two_sentence_answer(engine: Engine) -> None:
    given = ("Funcionarios estadounidenses han acusado a Corea del Norte de suministrar a Rusia artillería, "
             "misiles y otros equipos militares. A cambio, Pionyang podría estar recibiendo tecnologías militares clave y ayuda.")
    turn = Turn("¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?", given, ("seed",))
    follow = engine.ask("¿Y qué más recibe?", history=[turn])
    assert follow.passages and "A cambio" not in follow.answer
    # Unless every word of the follow-up points at it: then that sentence is what it asks for.
    again = engine.ask("¿Y qué recibe a cambio?", history=[turn])
    assert again.answered and again.answer.startswith("A cambio")


def test_irregular_verb_form_finds_its_sentence(engine: Engine) -> None:
    """"niega" and "negado" only meet through the lemma table (the fake encoder sees words, not stems)."""
    answer = engine.ask("¿Quién niega las acusaciones?")
    assert answer.answered and "han negado estas acusaciones" in answer.answer


def test_answer_is_the_matching_sentence_with_highlight(engine: Engine) -> None:
    answer = engine.ask("¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?")
    assert answer.answered
    assert answer.answer.startswith("Funcionarios estadounidenses han acusado")
    first = answer.passages[0]
    assert first.hit.article_id == "seed"
    (start, end), *_ = first.highlight
    assert first.hit.text[start:end] in answer.answer
    assert answer.answer in engine._index().article_text("seed")  # extractive: copied, never invented


def test_each_scored_sentence_knows_its_own_vector_row(engine: Engine) -> None:
    """The tuning scripts read a candidate's sentence vector by its row: that vector must be the
    one its dense score came from, for every candidate."""
    question = "¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?"
    evidence = engine.evidence(question)
    assert isinstance(evidence, Evidence) and len(evidence.sentences) > 3
    stored = engine._index()
    vector = engine.queries.encode_queries([question])[0]
    cosines = stored.sentence_cosines(vector, [s.row for s in evidence.sentences])
    assert len({s.row for s in evidence.sentences}) == len(evidence.sentences)
    assert np.allclose(cosines, [s.dense for s in evidence.sentences], atol=1e-6)


def test_followup_is_answered_from_the_same_story(engine: Engine) -> None:
    first = engine.ask("¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?")
    turn = Turn(first.question, first.answer, tuple(p.hit.article_id for p in first.passages[:1]))
    follow = engine.ask("¿Y qué recibe a cambio?", history=[turn])
    assert follow.answered and follow.passages[0].hit.article_id == "seed"
    assert "A cambio, Pionyang podría estar recibiendo" in follow.answer
    # A standalone question after it is not pulled towards the previous story.
    other = engine.ask("¿Qué lleva la paella valenciana?", history=[turn])
    assert other.passages[0].hit.article_id == "cocina"
    # Nor is one that starts like a follow-up but names another story: its answer is not kept inside the first.
    moved_on = engine.ask("¿Y qué lleva la paella valenciana?", history=[turn])
    assert moved_on.answered and "arroz" in moved_on.answer and moved_on.passages[0].hit.article_id == "cocina"


def test_followup_that_asks_only_for_a_kind_is_answered_from_its_story(engine: Engine) -> None:
    """Found in the console: "¿Cuándo?", "¿quién lo dijo?" after an answer were refused, their own
    words being none. The story answers them, by a sentence holding what the question word asks for."""
    given = "Funcionarios estadounidenses han acusado a Corea del Norte de suministrar a Rusia artillería, misiles y otros equipos militares."
    history = [Turn("¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?", given, ("seed",))]
    when = engine.ask("¿Cuándo?", history=history)
    assert when.answered and when.answer == "El presidente ruso viajará a Pionyang el martes."
    assert when.passages[0].hit.article_id == "seed" and when.passages[0].highlight
    # The sentence just given may answer again: it names who accused.
    who = engine.ask("¿quién lo dijo?", history=history)
    assert who.answered and who.answer.startswith("Funcionarios estadounidenses")
    # No sentence of the story holds an amount: refused, not answered from another story.
    how_many = engine.ask("¿Cuántos?", history=history)
    assert not how_many.answered and how_many.answer == ""
    # Without an answered story to lean on, nothing changes: a bare question is refused.
    assert not engine.ask("¿Cuándo?").answered


def _engine_with(settings: Settings, name: str, text: str) -> Engine:
    """An engine over one article (fake encoder)."""
    (settings.articles_dir / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index(settings, encoder=FakeEncoder())
    return Engine.open(settings, FakeEncoder())


# Found on the news tune half: a follow-up whose fact a sentence already given holds gets that
# sentence again, though said sentences are left out otherwise.
_SAID_AGAIN = {
    # An answer of two sentences held the next fact too; excluded as said, the follow-up was
    # told the article does not say it.
    "reina": ("La reina se vacuna\nLa reina, de 94 años, habló con los médicos. Su esposo, el príncipe Felipe, "
              "de 99 años, recibió la vacuna. La campaña de vacunación sigue en marzo.\n",
              "¿Qué edad tiene la reina?", "La reina, de 94 años, habló con los médicos. Su esposo, el príncipe "
              "Felipe, de 99 años, recibió la vacuna.", "¿Y cuántos años tiene su esposo?", "de 99 años"),
    # The first answer told last year's figure; "¿Y cuántos salían el año pasado?" got this year's.
    "autos": ("Salida de autos en Semana Santa\nEste jueves salen dos o tres autos por minuto por la caseta.\n\n"
              "El año pasado salían 30 autos por minuto en Jueves Santo.\n\nEl portavoz dijo que la caseta abrió "
              "de noche.\n\nLo contó en una entrevista con la radio NPR.\n",
              "¿Cuántos autos por minuto salen por la caseta?", "El año pasado salían 30 autos por minuto en Jueves "
              "Santo.", "¿Y cuántos salían el año pasado?", "30 autos"),
    # Three words of its own, two in the said sentence: "pidió" where the sentence says "propuso".
    "juicio": ("Juicio por una mordedura\nLa Fiscalía solicitó dos años de prisión para el joven.\n\nLa "
               "asociación, que ejerce la acusación particular, propuso la pena máxima: cinco años.\n\nEl juicio "
               "quedó visto para sentencia el lunes.\n",
               "¿Cuántos años de prisión pidió la Fiscalía?", "La asociación, que ejerce la acusación particular, "
               "propuso la pena máxima: cinco años.", "¿Y cuántos pidió la acusación particular?", "cinco años"),
}


def _said_again(settings: Settings, name: str) -> tuple[Engine, list[Turn]]:
    """An engine over the ``_SAID_AGAIN`` article ``name`` and the turn that already gave its sentence."""
    text, first, given, _, _ = _SAID_AGAIN[name]
    return _engine_with(settings, name, text), [Turn(first, given, (name,))]


@pytest.mark.parametrize("name", list(_SAID_AGAIN))
def test_a_followup_whose_fact_a_said_sentence_holds_gets_it_again(fake_settings: Settings, name: str) -> None:
    engine, history = _said_again(fake_settings, name)
    *_, followup, expected = _SAID_AGAIN[name]
    again = engine.ask(followup, history=history)
    assert again.outcome == "answered" and expected in again.answer


def test_where_another_sentence_answers_the_said_ones_are_not_repeated(fake_settings: Settings) -> None:
    engine, history = _said_again(fake_settings, "reina")
    other = engine.ask("¿Y cuándo sigue la campaña de vacunación?", history=history)
    assert other.answered and other.answer == "La campaña de vacunación sigue en marzo."


def test_one_word_in_common_with_a_said_sentence_does_not_ask_for_it_again(fake_settings: Settings) -> None:
    """"¿Y en qué emisora lo dijo?" shares "dijo" with the sentence given, and asks a new fact."""
    engine, _ = _said_again(fake_settings, "autos")
    said = "El portavoz dijo que la caseta abrió de noche."
    other = engine.ask("¿Y en qué emisora lo dijo?", history=[Turn("¿Qué dijo el portavoz?", said, ("autos",))])
    assert other.passages and "abrió de noche" not in other.answer


def test_a_kind_only_followup_with_a_word_of_its_own_gets_the_sentence_holding_it(fake_settings: Settings) -> None:
    """Found on the news tune half: "¿Y cuándo fue la última?" after a postponed summit got the
    postponement again, which the thread's words describe, not the date of the last summit."""
    engine = _engine_with(fake_settings, "cumbre", "Cumbre aplazada\nEspaña y Marruecos aplazaron hasta febrero la "
                          "reunión de alto nivel prevista en Rabat.\n\nLa última se celebró en junio de 2015 en Madrid.\n")
    given = "España y Marruecos aplazaron hasta febrero la reunión de alto nivel prevista en Rabat."
    history = [Turn("¿Hasta cuándo aplazaron España y Marruecos la reunión de alto nivel?", given, ("cumbre",))]
    last = engine.ask("¿Y cuándo fue la última?", history=history)
    assert last.answered and last.answer == "La última se celebró en junio de 2015 en Madrid."
    # With no word of its own, the thread decides, and the sentence just given may answer again.
    bare = engine.ask("¿Cuándo?", history=history)
    assert bare.answered and bare.answer == given


def test_a_followup_in_other_words_stays_in_the_story_that_holds_the_kind_it_asks(fake_settings: Settings) -> None:
    """Found on fresh tune questions: "y cuánto duró la rueda de prensa" after the mission's
    story (which tells of "una conferencia de prensa de tres horas") left for another story that
    says "rueda de prensa", and was refused as off-topic. A follow-up that continues with "y"
    stays when its story holds the kind it asks and shares a word with it."""
    (fake_settings.articles_dir / "alcalde.txt").write_text(
        "Rueda de prensa del alcalde\nEl alcalde dio una rueda de prensa sobre la rueda de la feria.\n",
        encoding="utf-8")
    engine = _engine_with(fake_settings, "mision", "Misión en Wuhan\nLa misión de la OMS en Wuhan reunió a 17 "
                          "científicos.\n\nEl equipo dio una conferencia de prensa de tres horas en Wuhan.\n")
    history = [Turn("¿Cuántos científicos formaron la misión de la OMS en Wuhan?",
                    "La misión de la OMS en Wuhan reunió a 17 científicos.", ("mision",))]
    answer = engine.ask("y cuanto duro la rueda de prensa", history=history)
    assert answer.answered and "tres horas" in answer.answer
    # Asking for nothing the story holds, it leaves for the story its words are about.
    other = engine.ask("y qué dijo de la rueda de la feria", history=history)
    assert other.passages[0].hit.article_id == "alcalde"


def test_a_followup_of_a_story_that_did_not_say_stays_in_that_story(engine: Engine, fake_settings: Settings) -> None:
    """Found on fresh tune questions: after "the article does not say how many", "¿Y quiénes
    son?" was searched over every article and refused as off-topic. The reply named the story;
    the follow-up asks about it."""
    # The fixture's index, with off-topic thresholds on the fake encoder's scale.
    gated = Engine.open(fake_settings.model_copy(update={"refusal_threshold": 0.7, "refusal_min_coverage": 0.2}),
                        FakeEncoder())
    first = gated.ask("¿Cuántos misiles ha enviado Corea del Norte a Rusia?")
    assert first.outcome == "not_in_article"
    turn = Turn(first.question, "", tuple(dict.fromkeys(p.hit.article_id for p in first.passages if p.highlight)))
    assert turn.article_ids == ("seed",)
    follow = gated.ask("¿Y quién lo dice?", history=[turn])
    assert follow.answered and follow.passages[0].hit.article_id == "seed"
    assert resolve_query("¿Y quién lo dice?", [turn], gated._index().analyzer).article_ids == ("seed",)
    # An off-topic reply marks no passage as its story, so its turn keeps none.
    refused = gated.ask("¿Cuál es la capital de Mongolia?")
    assert refused.outcome == "off_topic" and not any(p.highlight for p in refused.passages)


def test_a_pronoun_does_not_keep_a_question_that_names_another_story_in_the_thread(engine: Engine) -> None:
    """Found in the console: after a question about vultures, "¿Qué le pasa a Messi?" stayed in
    the vultures' story for its "le" and was refused; the name says whom the pronoun means."""
    history = [Turn("¿Qué lleva la paella valenciana?", "La paella valenciana lleva arroz, pollo y azafrán.", ("cocina",))]
    answer = engine.ask("¿Qué le dijo el entrenador del Madrid?", history=history)
    assert answer.answered and answer.passages[0].hit.article_id == "futbol" and "jugó bien" in answer.answer
    # A pronoun without a name still keeps its story.
    assert engine.ask("¿Cómo se cocina?", history=history).passages[0].hit.article_id == "cocina"


def test_followup_after_an_unrelated_turn_is_not_refused_for_its_words(engine: Engine) -> None:
    """The previous question's words join the retrieval text, but the evidence of the follow-up's
    own words is enough: "terremoto" appears in no article and must not sink the paella."""
    turn = Turn("¿Cuándo ocurrió el terremoto de magnitud siete?", "", ())
    follow = engine.ask("¿Y qué lleva la paella valenciana?", history=[turn])
    assert "terremoto" in follow.resolved_query
    assert follow.answered and "arroz" in follow.answer


def test_refusal_when_evidence_is_weak(engine: Engine, fake_settings: Settings) -> None:
    strict = Engine.open(fake_settings.model_copy(update={"refusal_threshold": 0.5}), FakeEncoder())
    answer = strict.ask("¿Cuál es la capital de Mongolia?")
    assert not answer.answered and answer.answer == ""
    assert answer.closest_titles and len(answer.closest_titles) <= 3
    assert strict.ask("¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?").answered


def test_off_topic_reads_the_cosines_beside_the_score(engine: Engine, fake_settings: Settings) -> None:
    """A best sentence scoring below the refusal threshold stays on topic when its own and its
    passage's cosines with the question, weighted, lift its topicality above it."""
    question = "¿Qué acusan los funcionarios de EE. UU. a Corea del Norte?"
    evidence = engine.evidence(question, [])
    assert isinstance(evidence, Evidence)
    best = evidence.sentences[0]
    cosines = best.dense + best.features[FEATURES.index("context")]
    assert cosines > 0
    by_score = fake_settings.model_copy(update={"refusal_threshold": best.score + cosines / 2})
    assert Engine.open(by_score, FakeEncoder()).ask(question).outcome == "off_topic"
    weighted = by_score.model_copy(update={"refusal_dense_weight": 1.0, "refusal_context_weight": 1.0})
    assert Engine.open(weighted, FakeEncoder()).ask(question).answered
    covered = by_score.model_copy(update={"refusal_coverage_weight": 10.0})  # the passage holds the question's words
    assert Engine.open(covered, FakeEncoder()).ask(question).answered


@pytest.mark.parametrize("question", ["¿Por qué?", "¿Cuándo?", "y eso", "¿Quién es él?"])
def test_a_question_that_names_nothing_and_follows_nothing_asks_for_its_subject(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.answered and answer.needs_subject and not answer.passages and not answer.closest_titles
    assert answer.to_json()["needs_subject"] is True
    # After a refused question there is a subject, only no answer: the usual refusal.
    refused = engine.ask(question, history=[Turn("¿Cuál es la capital de Mongolia?", "", ())])
    assert not refused.needs_subject
    # A question that names something is looked up as ever.
    assert not engine.ask("¿Por qué cerraron la OTAN?").needs_subject


@pytest.mark.parametrize("question", ["", "   ", "🙂", "???", "\u200b\u200f"])
def test_empty_or_symbol_questions_are_not_answered(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.answered and answer.answer == ""


def test_very_long_question_is_handled(engine: Engine) -> None:
    answer = engine.ask("paella " * 2000)
    assert answer.passages and answer.passages[0].hit.article_id == "cocina"


def test_clip_cuts_at_a_word() -> None:
    assert clip("corto", 10) == "corto"
    clipped = clip("una frase bastante larga para cortar", 16)
    assert clipped.endswith("…") and len(clipped) <= 16 and " ".join(clipped[:-1].split()) in "una frase bastante"


LONG = ("El especialista del Instituto de Investigaciones Jurídicas dijo que es urgente que se reforme la ley de "
        "partidos para que establezcan mejores prácticas democráticas en su vida interna y para que los ciudadanos "
        "tengan mayor libertad para organizarse en cualquier momento, y no cada seis años como lo marca la ley electoral.")


def test_a_long_sentence_is_clipped_around_what_was_asked(analyzer: Analyzer) -> None:
    """The length asked for comes in the sentence's last line: the clip keeps it, marked at both
    ends, and a follow-up still counts the sentence as said."""
    question = "¿Cada cuánto permite la ley electoral formar nuevos partidos?"
    clipped = clip(LONG, 160, question, analyzer)
    assert clipped.startswith("…") and "cada seis años como lo marca la ley electoral." in clipped
    assert len(clipped) <= 160 and clipped[1:].split()[0] in LONG.split()
    assert said_before(LONG, [clipped]) and not said_before("Otra frase.", [clipped])
    # Where the beginning holds as much of what was asked, it is kept as before.
    assert clip(LONG, 160, "¿Qué dijo el especialista del Instituto de Investigaciones Jurídicas?",
                analyzer) == clip(LONG, 160)


SUPPORT = ("La actriz quiso con esta publicación ratificar sus declaraciones y alentar a otras mujeres a hablar, "
           "dejando en segundo plano el nombre del agresor, y recibió el apoyo inmediato de varias compañeras "
           "actrices como Zuria Vega y Alessandra Rosaldo.")


def test_a_long_sentence_is_clipped_around_the_names_a_which_noun_asks_for(analyzer: Analyzer) -> None:
    """"¿Qué actrices…?" asks for names as "¿Quién…?" does: the clip keeps them, though the
    sentence's opening holds as many of the question's words."""
    clipped = clip(SUPPORT, 120, "y q actrices la apoyaron", analyzer)
    assert "Zuria Vega y Alessandra Rosaldo." in clipped and clipped.startswith("…")


def test_answer_respects_max_chars(engine: Engine) -> None:
    answer = engine.ask("¿Qué recibe Pionyang a cambio?")
    assert len(answer.answer) <= engine.settings.answer_max_chars


def test_json_shape(engine: Engine) -> None:
    data = engine.ask("¿Qué lleva la paella?").to_json()
    assert {"question", "answered", "answer", "passages"} <= set(data)
    assert {"article_id", "chunk_id", "title", "text", "score", "url", "source", "date", "highlight"} <= set(data["passages"][0])


def test_question_about_something_no_article_mentions_is_refused(engine: Engine) -> None:
    answer = engine.ask("¿Cuál es la capital de Mongolia?")
    assert not answer.answered and answer.closest_titles


def test_unknown_terms_weigh_more_in_coverage(engine: Engine) -> None:
    from index.coverage import passage_coverage

    stored = engine._index()
    chunk = stored.chunks([0])[0]
    known = stored.analyzer.terms(chunk.text)[0]
    partly = passage_coverage(stored, f"{known} zzzdesconocida", chunk)
    assert 0 < partly < 0.4


FESTIVAL = (
    "El festival de cometas Zumárraga-Ópalo reúne a miles de personas en Teruel\n"
    "El primer festival de cometas Zumárraga-Ópalo se celebró el sábado en Teruel.\n"
    "El premio principal del festival fue para la ingeniera Remedios Ortigosa.\n"
)


def _festival_passages(fake_settings: Settings, fused: list[float]):
    from index.search import Candidate

    (fake_settings.articles_dir / "festival.txt").write_text(FESTIVAL, encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    engine = Engine.open(fake_settings, FakeEncoder())
    stored = engine._index()
    chunks = stored.chunks(list(range(stored.vectors.ntotal)))
    assert len(chunks) == 2  # one chunk a paragraph
    return stored, [(Candidate(c.row, f, 0.0, 0.0), c) for c, f in zip(chunks, fused)]


def test_answer_sentence_is_read_with_its_title(fake_settings: Settings) -> None:
    """The answer names the prize but not the festival; the title does, so the sentence covers the question."""
    from index.answer import AnswerWeights, score_sentences

    stored, passages = _festival_passages(fake_settings, [1.0, 0.95])
    question = "¿Quién ganó el premio principal del festival Zumárraga-Ópalo?"
    vector = FakeEncoder().encode_queries([question])[0]
    ranked = score_sentences(stored, question, vector, passages, AnswerWeights(1.0, 0.0, 0.0))
    assert ranked[0].text.startswith("El premio principal")
    terms, an = stored.analyzer.terms(question), stored.analyzer
    idf = stored.bm25.idf(terms)
    alone = coverage(terms, set(an.terms(ranked[0].text)), idf)
    with_title = coverage(terms, set(an.terms(ranked[0].text + " " + ranked[0].chunk.title)), idf)
    assert ranked[0].lexical == pytest.approx(with_title)
    assert ranked[0].lexical > alone


def test_passage_prior_is_the_retrieval_score_relative_to_the_best(fake_settings: Settings) -> None:
    from index.answer import AnswerWeights, score_sentences

    stored, passages = _festival_passages(fake_settings, [0.8, 0.6])
    question = "premio festival"
    vector = FakeEncoder().encode_queries([question])[0]
    weights = AnswerWeights(0.4, 0.2, 0.5)
    for s in score_sentences(stored, question, vector, passages, weights):
        fused = passages[s.rank][0].fused
        assert s.score == pytest.approx(0.4 * s.lexical + 0.2 * s.dense + 0.5 * fused / 0.8)


def test_rerank_prefers_the_passage_whose_one_sentence_holds_the_question(fake_settings: Settings) -> None:
    from index.coverage import best_coverage
    from index.search import Candidate, rerank

    folder = fake_settings.articles_dir
    (folder / "a.txt").write_text("Crónica\nEl tratado fue firmado por fin. La paz llegó en marzo.\n", encoding="utf-8")
    (folder / "b.txt").write_text("Diplomacia\nEl tratado de paz fue firmado en marzo.\n", encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    stored = Engine.open(fake_settings, FakeEncoder())._index()
    by_article = {c.article_id: c for c in stored.chunks(list(range(stored.vectors.ntotal)))}
    passages = [(Candidate(by_article["a"].row, 0.95, 0.0, 0.0), by_article["a"]),
                (Candidate(by_article["b"].row, 0.90, 0.0, 0.0), by_article["b"])]
    question = "¿Cuándo se firmó el tratado de paz?"
    assert rerank(stored, question, passages, 0.0) == passages
    reranked = rerank(stored, question, passages, 0.3)
    assert [chunk.article_id for _, chunk in reranked] == ["b", "a"]
    terms = stored.analyzer.terms(question)
    idf = stored.bm25.idf(terms)
    assert best_coverage(stored, terms, idf, by_article["b"]) == pytest.approx(1.0)
    assert reranked[0][0].fused == pytest.approx(0.90 + 0.3)


def test_a_followup_whose_story_was_all_said_is_answered_again(fake_settings: Settings) -> None:
    """Every sentence of the story was in the last answer: the one holding the asked kind answers
    again (nothing else is left to answer from, nor to crash on)."""
    engine = _engine_with(fake_settings, "vacuna", "La reina, de 94 años, recibió la vacuna.\n")
    given = "La reina, de 94 años, recibió la vacuna."
    evidence = engine.evidence("¿Y cuántos años tiene la reina?", [Turn("¿Quién recibió la vacuna?", given, ("vacuna",))])
    assert isinstance(evidence, Evidence) and [s.text for s in evidence.sentences] == [given]
    answer = engine.ask("¿Y cuántos años tiene la reina?", history=[Turn("¿Quién recibió la vacuna?", given, ("vacuna",))])
    assert answer.answered and "94 años" in answer.answer


def test_the_evidence_the_tuning_reads_is_that_of_the_cleaned_question(engine: Engine) -> None:
    """scripts/tune_answer.py learns from ``evidence``: it must see the question as ``ask`` does."""
    plain = engine.evidence("¿Qué recibe Pionyang a cambio?")
    noisy = engine.evidence("Hola!! <b>q recibe Pionyang a cambio</b> 🙏 por favor")
    assert isinstance(plain, Evidence) and isinstance(noisy, Evidence)
    assert [s.text for s in noisy.sentences] == [s.text for s in plain.sentences]
    assert [s.features for s in noisy.sentences] == [s.features for s in plain.sentences]
