"""Questions that ask what a story is about get its lead (``index.gist``)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from index.build import build_index
from index.engine import Engine
from index.gist import LEAD_COVERAGE, TopicRequest, about_story, more_request, news_request, topic_request
from index.noise import strip_noise
from index.records import Turn
from index.settings import Settings
from index.wording import not_in_article
from tests.support.encoder import FakeEncoder

SEED_TEXT = (
    "Putin visita Corea del Norte\n"
    "El presidente ruso viajará a Pionyang el martes para reunirse con Kim Jong-un.\n\n"
    "Funcionarios estadounidenses han acusado a Corea del Norte de suministrar a Rusia artillería, misiles y "
    "otros equipos militares. A cambio, Pionyang podría estar recibiendo tecnologías militares clave y ayuda.\n"
)
LEAD = "El presidente ruso viajará a Pionyang el martes para reunirse con Kim Jong-un."


@pytest.mark.parametrize("question, subject", [
    ("¿De qué trata la noticia de Putin?", "Putin"),
    ("¿Qué dice el artículo sobre Rusia?", "Rusia"),
    ("¿qué dicen las noticias sobre el covid?", "el covid"),
    ("resumen de lo de Piqué", "Piqué"),
    ("Resúmeme la noticia del censo", "censo"),
    ("háblame de la vacuna del coronavirus", "la vacuna del coronavirus"),
    ("noticias de messi", "messi"),
    ("¿De qué habla la columna sobre las mentiras?", "las mentiras"),
    ("Hazme un resumen de lo que advierte la OMS", "lo que advierte la OMS"),  # "lo que" names, does not ask
    ("¿Y de qué va la noticia?", ""),
    ("¿Hay noticias sobre Messi?", "Messi"),
    ("¿Qué noticias hay de Televisa?", "Televisa"),
    ("¿Tienes algo sobre el coronavirus en Tailandia?", "el coronavirus en Tailandia"),
    ("¿Sabes algo de Marchesín?", "Marchesín"),  # "sabes" cleaned first
    ("¿Algo nuevo del censo?", "censo"),
    ("el censo, ¿qué dice la noticia?", "el censo"),
    ("lo de Putin ¿de qué trata el artículo?", "Putin"),
])
def test_frames_that_ask_what_a_story_says(question: str, subject: str) -> None:
    assert topic_request(strip_noise(question)) == TopicRequest(subject, True)


@pytest.mark.parametrize("question, subject", [
    ("¿Qué pasó con Messi?", "Messi"),
    ("que paso con putin", "putin"),
    ("cuentame q paso con chivas y televisa", "chivas y televisa"),  # "cuéntame" and "q" cleaned first
    ("¿Qué ha pasado en Tailandia?", "Tailandia"),
    ("¿Qué se sabe del brote de coronavirus?", "brote de coronavirus"),
    ("¿Qué hay de nuevo sobre el censo?", "el censo"),
    ("Cuéntame sobre la vacuna", "la vacuna"),
    ("¿De qué trata la ley?", "la ley"),  # may ask what one law of the story says
    ("cuentame lo de los migrantes del open arms", "los migrantes del open arms"),
    ("q paso entre chicharito y yuya", "chicharito y yuya"),
    ("q onda con la carta q le mando slim", "la carta que le mando slim"),
    ("¿Qué pasó con la mujer que subió a la estatua?", "la mujer que subió a la estatua"),  # "que" names her
    ("¿Qué pasó con el presupuesto después del aterrizaje?", "el presupuesto después del aterrizaje"),
    ("Putin, ¿de qué trata?", "Putin"),  # the frame after its subject
    ("lo de Messi, ¿qué pasó?", "Messi"),
    ("y lo de piqué q onda", "piqué"),
    ("Oye, la vacuna: ¿qué se sabe?", "la vacuna"),
])
def test_frames_that_may_ask_about_a_detail(question: str, subject: str) -> None:
    assert topic_request(strip_noise(question)) == TopicRequest(subject, False)


@pytest.mark.parametrize("question", [
    "¿Qué acusa EE. UU.?", "¿Qué dice Putin?", "¿Sobre qué habló Putin?", "¿De qué murió el niño?",
    "¿De qué va acusado el joven?", "¿De qué habla el papa en la catequesis?", "¿De dónde es Marchesín?",
    "De la vacuna, ¿cuántas dosis llegaron?", "¿Qué pasó con el dinero que donaron? ¿cuánto fue?",
    "¿Y de Messi?", "¿De qué trata?", "¿Qué hay en la caja?", "¿Cuántos misiles ha enviado Corea del Norte?",
    "¿Qué pasa con los tapones de plomo si el nivel de agua de la caldera baja?", "de donde es marchesin",
    "¿Qué pasa con el agua cuando hierve?", "de cuantos años es la condena", "sobre que hablo putin",
    "que tal de salud esta el papa", "de quienes es la casa", "¿Hay algo de verdad en eso?", "¿Hay noticias?",
    "¿Qué pasa con la picadura de la carabela portuguesa?",  # the present asks what a thing does
    "y eso, ¿de qué trata?", "Hola, ¿qué tal?", "¿Cuándo llegó la policía y qué pasó?", "¿Qué pasó?",
])
def test_questions_about_a_fact_are_not_topic_requests(question: str) -> None:
    assert topic_request(strip_noise(question)) is None


def test_an_event_frame_gets_the_lead_only_when_the_lead_is_about_its_subject() -> None:
    event, explicit = TopicRequest("Messi", False), TopicRequest("Messi", True)
    assert about_story(LEAD_COVERAGE, event) and not about_story(LEAD_COVERAGE - 0.01, event)
    assert about_story(0.0, explicit)


@pytest.fixture
def engine(fake_settings: Settings) -> Engine:
    (fake_settings.articles_dir / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
    (fake_settings.articles_dir / "cocina.txt").write_text(
        "Recetas\nLa paella valenciana lleva arroz, pollo y azafrán.\n\nSe cocina a fuego lento con caldo.\n",
        encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    return Engine.open(fake_settings.model_copy(update={"refusal_threshold": 0.7, "refusal_min_coverage": 0.2}),
                       FakeEncoder())


def test_what_a_story_is_about_is_answered_with_its_lead(engine: Engine) -> None:
    asked = ("¿De qué trata la noticia sobre Putin?", "¿Qué pasó con Putin?", "resumen de lo de Corea del Norte",
             "Putin, ¿de qué trata?")
    for question in asked:
        answer = engine.ask(question)
        assert answer.outcome == "answered" and answer.answer == LEAD, question
        assert answer.question == question and answer.passages[0].hit.article_id == "seed"
        first = answer.passages[0]
        assert first.hit.text[slice(*first.highlight[0])] == LEAD


@pytest.mark.parametrize("opening", [
    "\"Gracias a esta tierra por darme a estos dos hijitos\".",  # a pull quote
    "Salió a cantar ante miles de personas en su ciudad. ¿Para acallar los rumores?",  # a subhead that asks
])
def test_a_story_that_opens_with_a_quote_or_a_question_is_read_on_into_its_lead(
        fake_settings: Settings, opening: str) -> None:
    lead = "Shakira dio este sábado un concierto en Barcelona con sus dos hijos en primera fila."
    text = f"{opening}\n\n{lead}\n\nEl público coreó sus canciones durante dos horas."
    (fake_settings.articles_dir / "shakira.txt").write_text(f"Shakira canta en Barcelona\n{text}\n", encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    answer = Engine.open(fake_settings, FakeEncoder()).ask("¿De qué trata la noticia de Shakira?")
    assert answer.outcome == "answered" and answer.answer == f"{opening} {lead}"
    first, second = answer.passages[:2]
    assert first.hit.text[slice(*first.highlight[-1])] == opening.split(". ")[-1]
    assert second.hit.text[slice(*second.highlight[0])] == lead


def test_story_leads_can_be_turned_off(engine: Engine) -> None:
    """For articles whose first passage does not sum them up, the question is answered as any other."""
    plain = Engine.open(engine.settings.model_copy(update={"story_leads": False}), FakeEncoder())
    answer = plain.ask("¿De qué trata la noticia sobre Putin?")
    assert answer.answer != LEAD and engine.ask("¿De qué trata la noticia sobre Putin?").answer == LEAD


def test_a_topic_nothing_is_about_is_off_topic(engine: Engine) -> None:
    answer = engine.ask("¿De qué trata la noticia sobre la capital de Mongolia?")
    assert answer.outcome == "off_topic" and answer.answer == ""


def test_a_detail_of_a_story_is_answered_as_a_question(engine: Engine) -> None:
    """"¿Qué pasó con…?" of something the headline does not name asks about that, not for the lead."""
    answer = engine.ask("¿Qué pasó con la artillería?")
    assert answer.outcome == "answered" and "artillería" in answer.answer and answer.answer != LEAD


def test_what_the_conversation_s_story_is_about(engine: Engine) -> None:
    first = engine.ask("¿Qué lleva la paella valenciana?")
    assert first.answered and first.passages[0].hit.article_id == "cocina"
    turn = Turn(first.question, first.answer, ("cocina",))
    answer = engine.ask("¿Y de qué va la noticia?", history=[turn])
    # A lead this short is read on into the next passage (``answer.SHORT_READ``).
    lead = "La paella valenciana lleva arroz, pollo y azafrán. Se cocina a fuego lento con caldo."
    assert answer.outcome == "answered" and answer.answer == lead


def test_what_no_story_is_about_asks_for_the_subject(engine: Engine) -> None:
    assert engine.ask("¿De qué va la noticia?").outcome == "needs_subject"
    gone = Turn("¿Qué pasó?", "Algo pasó.", ("borrado-en-la-ultima-reconstruccion",))
    assert engine.ask("¿Y de qué va la noticia?", history=[gone]).outcome == "needs_subject"


@pytest.fixture
def dated(fake_settings: Settings) -> Engine:
    stories = [
        ("lunes", "2021-03-08", ("El volcán de La Palma entra en erupción.\n\n"
                                 "La lava avanza hacia el mar y la lava quema casas.")),
        ("martes", "2021-03-09", ("Los vecinos de La Palma vuelven a sus casas tras tres semanas fuera.\n\n"
                                  "La lava del volcán se detiene; la lava se enfría.")),
    ]
    records = [{"id": key, "title": f"Noticia del {key}", "text": text, "date": day} for key, day, text in stories]
    path = fake_settings.articles_dir / "news.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    return Engine.open(fake_settings.model_copy(update={"today": date(2021, 3, 10)}), FakeEncoder())


def test_the_latest_about_a_topic_is_the_newest_story_s_lead(dated: Engine) -> None:
    lead = "Los vecinos de La Palma vuelven a sus casas tras tres semanas fuera."
    for question in ("lo último sobre la lava", "¿Qué hay de nuevo sobre la lava del volcán?"):
        answer = dated.ask(question)
        assert answer.answered and answer.answer == lead, question
        assert answer.passages[0].hit.article_id == "martes"


def test_the_latest_with_a_question_of_its_own_is_answered_as_a_question(dated: Engine) -> None:
    answer = dated.ask("lo último sobre la lava, ¿se detiene?")
    assert answer.answer != "Los vecinos de La Palma vuelven a sus casas tras tres semanas fuera."
    assert answer.passages[0].hit.article_id == "martes"


@pytest.mark.parametrize("question", [
    "noticias", "últimas noticias", "¿Qué noticias hay?", "¿qué hay de nuevo?", "lo último", "novedades",
    "hola, ¿qué hay de nuevo hoy?", "noticias de hoy", "dame las noticias por favor", "¿Hay noticias?",
    "titulares del día", "última hora", "¿Qué está pasando?", "quiero ver las noticias",
])
def test_asking_for_the_news(question: str) -> None:
    assert news_request(strip_noise(question))


@pytest.mark.parametrize("question", [
    "noticias de messi", "¿Hay noticias sobre Messi?", "lo último sobre la vacuna", "¿Qué pasó con Messi?",
    "¿Qué hay en la caja?", "¿Qué pasó ayer?", "noticias de ayer", "¿Qué pasa con la picadura?", "la noticia",
])
def test_news_of_a_subject_or_a_day_is_not_the_news(question: str) -> None:
    """A subject is a topic (its lead, or /ultimas tema); "ayer" asks about a day the list does not filter."""
    assert not news_request(strip_noise(question))


@pytest.mark.parametrize("question", [
    "¿Qué más dice?", "cuéntame más", "dime mas", "más detalles, por favor", "sigue", "continúa", "¿Y qué más?",
    "¿Algo más?", "¿Y después?", "¿Y luego qué?", "¿Qué pasó después?", "amplía",
])
def test_asking_for_more(question: str) -> None:
    assert more_request(strip_noise(question))


@pytest.mark.parametrize("question", [
    "¿Qué más pasó con Messi?", "¿Más de cien personas?", "¿Y después de la reunión qué hizo?", "¿Sigue vivo?",
    "¿Qué hizo después?",
])
def test_questions_with_more_words_are_not_asking_for_more(question: str) -> None:
    assert not more_request(strip_noise(question))


def test_more_reads_on_from_the_last_answer_to_the_story_s_end(engine: Engine) -> None:
    first = engine.ask("¿Qué acusan los funcionarios estadounidenses a Corea del Norte?")
    assert "artillería" in first.answer and "A cambio" not in first.answer
    history = [Turn(first.question, first.answer, ("seed",))]
    more = engine.ask("¿Qué más dice?", history=history)
    assert more.outcome == "answered" and more.answer.startswith("A cambio, Pionyang podría estar recibiendo")
    assert more.passages[0].hit.article_id == "seed"
    history.append(Turn(more.question, more.answer, ("seed",)))
    end = engine.ask("sigue", history=history)
    assert end.outcome == "not_in_article" and end.answer == "" and end.closest == ""
    said = not_in_article(end.passages[0].hit.title, end.question)
    assert said == "El artículo «Putin visita Corea del Norte» no dice nada más."
    history.append(Turn(end.question, end.answer, ("seed",)))
    assert engine.ask("¿Y qué más?", history=history).outcome == "not_in_article"  # the end again, not the start


def test_more_after_a_question_about_the_story_reads_its_next_passage(engine: Engine) -> None:
    lead = engine.ask("¿De qué trata la noticia sobre Putin?")
    more = engine.ask("cuéntame más", history=[Turn(lead.question, lead.answer, ("seed",))])
    assert more.answer.startswith("Funcionarios estadounidenses han acusado")


def test_more_with_nothing_read_asks_for_the_subject(engine: Engine) -> None:
    assert engine.ask("¿Qué más dice?").outcome == "needs_subject"
