"""The three outcomes of a question: answered, not in the article, off-topic (fake encoder)."""
from __future__ import annotations

import json

import pytest

from index.build import build_index
from index.cli_output import answer_text
from index.engine import Engine
from index.kinds import counts_something, expected_kind, found, kind_match
from index.noise import strip_noise
from index.records import Answer
from index.settings import Settings
from index.wording import not_in_article
from tests.support.encoder import FakeEncoder

SEED_TEXT = (
    "Putin visita Corea del Norte\n"
    "El presidente ruso viajará a Pionyang el martes.\n"
    "Funcionarios estadounidenses han acusado a Corea del Norte de suministrar a Rusia artillería, misiles y "
    "otros equipos militares. A cambio, Pionyang podría estar recibiendo tecnologías militares clave y ayuda.\n"
)
MISSILES = "¿Cuántos misiles ha enviado Corea del Norte a Rusia?"


@pytest.fixture
def engine(fake_settings: Settings) -> Engine:
    (fake_settings.articles_dir / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
    (fake_settings.articles_dir / "cocina.txt").write_text(
        "Recetas\nLa paella valenciana lleva arroz, pollo y azafrán. Se cocina a fuego lento.\n", encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    # The fake encoder's scores are not the real model's: off-topic thresholds on its scale.
    return Engine.open(fake_settings.model_copy(update={"refusal_threshold": 0.7, "refusal_min_coverage": 0.2}),
                       FakeEncoder())


def test_a_fact_the_story_does_not_give_is_not_answered_as_fact(engine: Engine) -> None:
    """The story speaks of missiles but gives no number: say so, with the closest sentence as context."""
    answer = engine.ask(MISSILES)
    assert answer.outcome == "not_in_article" and not answer.answered and answer.answer == ""
    assert "misiles" in answer.closest and answer.passages[0].hit.article_id == "seed"
    data = answer.to_json()
    assert data["outcome"] == "not_in_article" and data["answered"] is False and data["closest"] == answer.closest


def test_the_same_story_answers_what_it_does_state(engine: Engine) -> None:
    answer = engine.ask("¿Qué acusan los funcionarios estadounidenses a Corea del Norte?")
    assert answer.outcome == "answered" and answer.answered and "artillería" in answer.answer
    assert answer.closest == "" and answer.to_json()["outcome"] == "answered"


def test_nothing_about_it_is_off_topic(engine: Engine) -> None:
    answer = engine.ask("¿Cuál es la capital de Mongolia?")
    assert answer.outcome == "off_topic" and not answer.answered and answer.closest == ""


def test_a_bare_question_word_first_needs_a_subject(engine: Engine) -> None:
    assert engine.ask("¿Por qué?").outcome == "needs_subject"


@pytest.mark.parametrize("wrap", ["Hola, {q}", "<b>{q}</b>", "{q} 🙏", "@articleqa_bot {q} por favor",
                                  "&laquo;{q}&raquo;", "buenas! me puedes decir {q}"])
def test_noise_around_a_question_does_not_change_its_outcome(engine: Engine, wrap: str) -> None:
    for question in ("¿Qué acusan los funcionarios estadounidenses a Corea del Norte?", MISSILES):
        plain, noisy = engine.ask(question), engine.ask(wrap.format(q=question))
        assert (noisy.outcome, noisy.answer) == (plain.outcome, plain.answer)
        assert noisy.question == " ".join(wrap.format(q=question).split())  # the question as asked is kept


def test_outcome_and_answered_agree() -> None:
    assert Answer("q", True, "a").outcome == "answered"
    assert Answer("q", False, "").outcome == "off_topic"
    assert Answer("q", False, "", needs_subject=True).outcome == "needs_subject"
    with pytest.raises(ValueError):
        Answer("q", True, "a", outcome="not_in_article")
    with pytest.raises(ValueError):
        Answer("q", False, "", outcome="maybe")


def test_the_cli_names_the_article_and_shows_the_closest_sentence_apart(engine: Engine) -> None:
    text = answer_text(engine.ask(MISSILES))
    assert "El artículo «Putin visita Corea del Norte» habla de esto, pero no dice cuántos misiles" in text
    assert "Lo más cercano que dice:" in text
    json.dumps(engine.ask(MISSILES).to_json())  # serialisable


@pytest.mark.parametrize(("question", "expected"), [
    (MISSILES, "cuántos misiles ha enviado Corea del Norte a Rusia"),
    ("¿A cuántos años lo condenaron?", "a cuántos años lo condenaron"),
    ("y cuando fue eso?", "cuándo fue eso"),
    ("por que lo hizo", "por qué lo hizo"),
])
def test_the_asked_fact_is_worded_as_an_indirect_question(question: str, expected: str) -> None:
    assert not_in_article("T", question) == f"El artículo «T» habla de esto, pero no dice {expected}."


def test_a_question_without_question_word_is_not_reworded() -> None:
    assert not_in_article("T", "misiles enviados a rusia") == "El artículo «T» habla de esto, pero no dice lo que preguntas."


@pytest.mark.parametrize(("question", "kind", "sentence", "values"), [
    ("¿A qué hora empezó?", "time", "Empezó a las 10:30 horas en la plaza.", True),
    ("¿Qué edad tiene el piloto?", "age", "El piloto, de 34 años, resultó ileso.", True),
    ("¿Cuánto tiempo duró la huelga?", "duration", "La huelga duró tres semanas.", True),
    ("¿Cuánto tiempo lleva en circulación?", "duration", "Se publica desde 1979.", True),
    ("¿Cuánto tiempo estuvo ocupada?", "duration", "Fue ocupada desde el 4 de agosto de 1915 hasta 1918.", True),
    ("¿Cuánto tiempo estuvo ocupada?", "duration", "Fue ocupada desde la frontera hasta el río.", False),
    # A person's age is not how long something lasted; a sentence of so many years is.
    ("¿A cuántos años de cárcel lo condenaron?", "duration", "Juzgan a un joven de 20 años por morder a un guardia.", False),
    ("¿A cuántos años de cárcel lo condenaron?", "duration", "Pérez, de 34 años, no recurrirá.", False),
    ("¿A cuántos años de cárcel lo condenaron?", "duration", "Le impusieron una condena de 20 años.", True),
    ("¿Cuánto costó la obra?", "money", "La obra costó 2,5 millones de pesos.", True),
    ("¿Qué porcentaje votó?", "percent", "Votó el 64 % del padrón.", True),
    ("¿Cuántos heridos hubo?", "count", "Hubo doce heridos.", True),
    ("¿Cuánto costó la obra?", "money", "La obra fue muy cara.", False),
    # Millions of nothing named are money; millions of people are not.
    ("cuanta plata le toca a españa", "money", "Los 140.000 millones que recibirá España llegarán en 2026.", True),
    ("cuanta plata le toca a españa", "money", "España tiene 47 millones de habitantes.", False),
    ("¿A qué hora empezó?", "time", "Empezó el martes.", False),
    ("¿A qué hora empezó?", "time", "La vacuna llegó a las personas mayores.", False),
    ("¿A qué hora empezó?", "time", "Empezó a las diez.", True),
    # Someone's age, not a bound for a group nor "tiene" before a count.
    ("¿Qué edad tiene la médica?", "age", "Invitó a la población mayor de 80 años a vacunarse.", False),
    ("¿Qué edad tiene el detenido?", "age", "Tiene dos procesos penales abiertos.", False),
    ("¿Qué edad tiene el detenido?", "age", "Pérez, que tiene 45, no declaró.", True),
    ("¿Qué edad tiene el detenido?", "age", "Detuvieron a un menor de 15 años.", True),
    ("¿Cuántos años tenía al mudarse?", "age", "Se mudó a la edad de siete meses.", True),
    ("¿Cuánto tiempo estuvo hospitalizado?", "duration", "Van Iwaarden tenía 26 años cuando se quemó.", False),
    ("¿Cuánto tiempo estuvo hospitalizado?", "duration", "Pasó 114 días en el centro de quemados.", True),
])
def test_finer_kinds_are_asked_and_found(question: str, kind: str, sentence: str, values: bool) -> None:
    assert expected_kind(question) == kind
    assert bool(found(kind, sentence)) is values


@pytest.mark.parametrize(("question", "kind"), [
    ("¿Cuánto duró la llamada?", "duration"), ("¿Cada cuánto se vota?", "duration"),
    ("¿A cuánto asciende el valor de lo robado?", "money"), ("¿De cuánto sería la multa?", "money"),
    ("¿Cuántos trabajadores cobran el salario mínimo?", "count"),
    ("cuanto bajaron los embarazos", "percent"), ("¿Cuánto ofrece el gobierno?", "count"),
    ("¿Cuántos años tiene su marido?", "age"), ("¿Cuántos años de cárcel le dieron?", "duration"),
    ("¿Por qué lo cerraron?", "reason"), ("¿Dónde nació?", "place"), ("¿Cómo lo hizo?", None),
    # A date asked in the plural.
    ("que dias hay reclutamiento", "date"), ("¿En qué años ganó?", "date"),
])
def test_question_words_ask_for_kinds(question: str, kind: str | None) -> None:
    assert expected_kind(question) == kind


@pytest.mark.parametrize(("question", "kind"), [
    # A noun naming people by what they do, right after the question word, asks for a name.
    ("¿Qué magistrado concedió el amparo?", "person"), ("¿Con qué productor rompió Televisa?", "person"),
    ("y q actrices la apoyaron", "person"), ("¿Y a qué otros autores copió?", "person"),
    ("¿Qué delanteros intentó fichar el club?", "person"),
    # Not as a conjunction, nor a noun that names no one.
    ("¿Es verdad que periodistas fueron detenidos?", None), ("¿Qué tipo de célula es?", None),
    ("¿Cuántos jugadores se lesionaron?", "count"),
    # Where someone is from: a nationality or a country.
    ("¿Y Verón de qué país es?", "origin"), ("de donde es marchesin el portero", "origin"),
    ("¿De qué nacionalidad era Lutero?", "origin"),
    ("¿De dónde viene el dinero?", "place"), ("¿En qué país se encuentra?", "place"),
])
def test_names_and_origins_are_asked_for(question: str, kind: str | None) -> None:
    assert expected_kind(question) == kind


@pytest.mark.parametrize(("question", "sentence", "holds"), [
    # A name after "en", "desde", "hacia", "hasta" is a place; after "de" or "a" it is one only
    # when the question asks with them.
    ("¿Y dónde lo dijo?", "En entrevista en Atizapán de Zaragoza, respondió.", True),
    ("¿Y dónde lo dijo?", "Bajo vigilancia de elementos de la Policía Federal.", False),
    ("¿Dónde se reunieron?", "Se despidió de Francisco de Anda.", False),
    ("¿Adónde viajó?", "Viajó a Cancún con su familia.", True),
    ("¿De dónde salió el avión?", "El avión salió de Casablanca.", True),
])
def test_a_place_is_a_name_after_a_preposition_of_place(question: str, sentence: str, holds: bool) -> None:
    assert kind_match("place", sentence, question) == float(holds)


@pytest.mark.parametrize(("sentence", "values"), [
    ("Sentía pena por el defensa de origen paraguayo.", {"paraguayo"}),
    ("Las futbolistas estadounidenses y la jugadora alemana ganaron.", {"estadounidenses", "alemana"}),
    ("El arquero, nacido en Rosario, no se irá.", {"Rosario"}),
    ("El arquero no se irá del club.", set()),
])
def test_where_someone_is_from_is_found_as_a_nationality_or_a_place(sentence: str, values: set[str]) -> None:
    assert found("origin", sentence) == values


@pytest.mark.parametrize(("kind", "question", "sentence", "holds"), [
    # "¿Cuántos años…?" is answered in years or a longer unit, or by the year it began.
    ("duration", "¿Cuántos años pasó en prisión?", "Estuvo unos días en el hospital.", False),
    ("duration", "¿Cuántos años pasó en prisión?", "Pasó cinco años en prisión.", True),
    ("duration", "¿Cuántos años lleva en el cargo?", "En mis casi cinco décadas de servicio…", True),
    ("duration", "¿Cuántos años lleva en el cargo?", "Está en el cargo desde 2013.", True),
    ("duration", "¿Cuánto tiempo pasó preso?", "Pasó unos días preso.", True),
    # "¿Qué día / año / mes…?" wants a date that precise; "¿Cuándo?" takes any date.
    ("date", "¿Qué día se celebrará la cumbre?", "La cumbre se celebrará en febrero de 2021.", False),
    ("date", "¿Qué día se celebrará la cumbre?", "Se celebrará el 17 de febrero.", True),
    ("date", "que dia se voto", "Se votó este domingo.", True),
    ("date", "¿En qué año ocurrió?", "Ocurrió en junio.", False),
    ("date", "¿En qué año ocurrió?", "Ocurrió en junio de 2015.", True),
    ("date", "¿Cuándo ocurrió?", "Ocurrió en junio.", True),
    ("date", "¿En qué siglo surgió?", "Surgió en la primera mitad del siglo X.", True),
    # A date as far back or ahead as it lies: "desde hace cinco años" says since when.
    ("date", "desde cuando ponen esos nombres", "Desde hace cinco años los papás eligen esos nombres.", True),
    ("date", "¿Cuándo abrirá?", "Abrirá dentro de dos semanas.", True),
    ("date", "¿Cuándo abrirá?", "Hace falta que abra.", False),
    ("date", "¿En qué año llegó?", "Llegó hace cinco años.", False),
    ("date", "¿Y desde cuándo han ido a más?", "Se han intensificado en las últimas dos semanas.", True),
    ("duration", "¿Y cuánto tarda en picar?", "Su picadura se produce en milésimas de segundo.", True),
    # A year before Christ has fewer than four digits; a share may be written in words.
    ("date", "¿Cuándo fue la plaga?", "Fue durante la plaga de Atenas en 430 a. C.", True),
    ("percent", "¿Qué porcentaje subió?", "Subió menos del dos por ciento al año.", True),
    # Asked in the plural, the unit is the same.
    ("date", "que dias hay reclutamiento", "Serán atendidos los días 6, 7, 13 y 14 de febrero.", True),
    ("date", "que dias hay reclutamiento", "El reclutamiento será en febrero.", False),
    ("date", "¿En qué años ganó?", "Ganó en junio.", False),
    # A day of the month written out, a date written with dots, a year ahead of this century.
    ("date", "¿Qué día cumple su primer año?", "Llega el siete de agosto, día en que lo cumple.", True),
    ("date", "¿Desde qué día se distribuye?", "Se distribuye desde el 11.01.2021 en los hospitales.", True),
    ("date", "¿Desde qué día se distribuye?", "Se distribuye 12.5 veces más.", False),
    ("date", "¿Hasta qué año no habrá paridad?", "No se alcanzará hasta 2150.", True),
    # A bound for a group is an age asked only when a bound is asked.
    ("age", "¿Qué edad mínima deben tener los voluntarios?", "Deberán ser mayores de 18 años.", True),
    ("age", "¿Qué edad tienen los voluntarios?", "Deberán ser mayores de 18 años.", False),
])
def test_a_length_or_date_asked_in_a_unit_needs_that_unit(kind: str, question: str, sentence: str, holds: bool) -> None:
    assert expected_kind(question) == kind
    assert kind_match(kind, sentence, question) == float(holds)


@pytest.mark.parametrize(("question", "kind"), [
    ("q edad tiene el chaval", "age"), ("a q hora empieza", "time"), ("pq lo cerraron", "reason"),
    ("xq no fue", "reason"), ("y x q dicen q no fueron ellos", "reason"), ("q dias hay reclutamiento", "date"),
    # Opening with "por qué", it asks a reason whatever follows ("q montó" is not "qué monto").
    ("x q dice el ice q monto ese centro", "reason"),
    # "plata", "lana", "pasta": money as people call it.
    ("cuanta plata le toca a españa", "money"), ("cuanta lana va a invertir slim", "money"),
])
def test_question_words_typed_as_in_a_chat_ask_what_they_stand_for(question: str, kind: str) -> None:
    """The cleaning (``index.noise``) writes the shorthand out before anything reads the question."""
    assert expected_kind(strip_noise(question)) == kind


@pytest.mark.parametrize(("question", "kind"), [
    # Unaccented "cuando" beside another question word is the conjunction, not "¿cuándo?".
    ("¿Qué se forma cuando un fagosoma se fusiona con un lisosoma?", None),
    ("Cuando John Fox se fue, ¿quién lo reemplazó?", "person"),
    ("que paso cuando llego la policia", None),
    ("¿Cuántos murieron cuando cayó el puente?", "count"),
    ("Cuando la desigualdad es menor, ¿hay más residuos?", None),  # a clause before the "¿"
    # Alone, or written with its accent, it asks for a date, typed with accents or without.
    ("cuando fue el papa al hospital infantil", "date"), ("desde cuando ponen esos nombres", "date"),
    ("¿Y cuando?", "date"), ("Antes del Super Bowl 50, ¿cuándo fueron los Broncos?", "date"),
])
def test_cuando_asks_for_a_date_only_as_a_question_word(question: str, kind: str | None) -> None:
    assert expected_kind(question) == kind


@pytest.mark.parametrize(("question", "focus"), [
    ("¿Cuántos misiles ha enviado Corea del Norte?", "misiles"), ("¿Qué club busca fichar a Marchesín?", "club"),
    ("¿Cuánto ofrece el gobierno?", None), ("¿Qué es la OTAN?", None),
    # A verb after "cuántos" leaves the counted noun unsaid; a plural noun is kept.
    ("¿Y cuántos pidió la acusación particular?", None), ("y cuantos pidio la fiscalia", None),
    ("¿Cuántos llegaron?", None), ("¿Cuántas mujeres votaron?", "mujeres"), ("¿Cuántos militares murieron?", "militares"),
    ("¿Y cuántos salen este jueves?", None), ("cuantas quedan", None), ("¿Cuánta agua cayó?", "agua"),
    # After "qué" a noun that folds like a verb form ("río" / "rió") stays the focus.
    ("¿Qué río atraviesa Varsovia?", "rio"),
    # Words that say which ones, between the question word and the noun, are passed over.
    ("¿Y a qué otros autores copió Peña?", "autores"), ("¿Qué tipo de célula identifica patógenos?", "celula"),
    ("¿Qué dos figuras venera?", "figuras"),
])
def test_the_focus_noun_follows_the_question_word(question: str, focus: str | None) -> None:
    from index.kinds import focus_word

    assert focus_word(question) == focus


def test_a_count_must_stand_before_the_counted_noun(engine: Engine) -> None:
    """The seed story holds numbers of other things; only "N misiles" would answer the count."""
    from index.kinds import value_before

    analyse = engine._index().analyzer.terms
    missiles = set(analyse("misiles"))
    assert value_before("Les envió cinco misiles y 300 obuses.", missiles, analyse)
    assert not value_before("En 2023 se vieron 300 obuses cerca de los misiles.", missiles, analyse)
    # A year-like number or "un" right before the noun counts it; "cero" is a count too.
    assert value_before("El museo guarda cerca de 1130 misiles antiguos.", missiles, analyse)
    assert value_before("Solo lanzó un misil.", missiles, analyse)
    assert value_before("Tuvo cero misiles operativos.", missiles, analyse)
    # What measures the noun, or a part of it, stands between: still its count.
    assert value_before("Llegaron 219,375 dosis de los misiles.", missiles, analyse)
    assert value_before("Cayeron dos de los misiles.", missiles, analyse)
    assert not value_before("Cayeron dos casas cerca de los misiles.", missiles, analyse)
    # An ordinal counts too: "la tercera vez" answers "¿Cuántas veces…?".
    assert value_before("Es la tercera vez que lo intenta.", set(analyse("veces")), analyse)
    # People are counted under whatever the story calls them: "ocho muertos" answers "¿Cuántas personas…?".
    people = set(analyse("personas"))
    assert value_before("El tiroteo dejó ocho muertos.", people, analyse)
    assert value_before("Se probó en 44.000 voluntarios.", set(analyse("gente")), analyse)
    assert not value_before("El tiroteo dejó ocho coches quemados.", people, analyse)
    assert not value_before("El tiroteo dejó ocho muertos.", missiles, analyse)
    # "El número de misiles … N": the count after the noun that names it.
    assert value_before("El número de misiles enviados podría ser de entre 51 mil y 82 mil.", missiles, analyse)
    assert not value_before("El número de misiles enviados no se conoce, dijo el 3 de mayo de 2023.", missiles, analyse)
    assert engine.ask(MISSILES).outcome == "not_in_article"


@pytest.mark.parametrize(("sentence", "counts"), [
    ("Al menos 872 personas han muerto en el camino.", True),
    ("Dos de los 41 legisladores han padecido la enfermedad.", True),
    ("Serían entre 51 mil y 82 mil por año.", True),
    # A length of time, a day of a month, a year, a share or money counts nothing asked.
    ("La campaña duró seis días.", False), ("Fue el 23 de noviembre de 2020.", False),
    ("Creció un 4,5 por ciento.", False), ("Ganó 571 millones de dólares.", False),
    ("Llega la variante B.1.1.222 del COVID-19.", False), ("Lo votaron 176 diputados en 2021.", True),
    ("Llegó a las 10:30 de la noche.", False),
    # A number the question already says is not its answer.
    ("De los 92 casos, ninguno dio positivo.", False),
])
def test_a_number_that_counts_something(sentence: str, counts: bool) -> None:
    assert counts_something(sentence, "¿Cuántos de los 92 casos fueron positivos?") == counts


def _story(settings: Settings, name: str, text: str) -> Engine:
    """An engine over the folder with one more article (fake encoder; off-topic thresholds on its scale)."""
    (settings.articles_dir / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index(settings, encoder=FakeEncoder())
    return Engine.open(settings.model_copy(update={"refusal_threshold": 0.7, "refusal_min_coverage": 0.2}),
                       FakeEncoder())


def test_a_count_in_other_words_than_the_question_is_an_answer(fake_settings: Settings) -> None:
    """Found on fresh tune questions: "cuánta gente" of a story that counts "personas" was told
    the article does not say. A story that never names the counted noun may count it in other
    words; one that names it must count it ("cinco misiles"), and one that counts nothing does not say."""
    (fake_settings.articles_dir / "mitin.txt").write_text(
        "Mitin en Toluca\nEl candidato cerró su mitin en Toluca el 3 de marzo, tras seis días de gira.\n",
        encoding="utf-8")
    engine = _story(fake_settings, "pateras", "Rutas migratorias\nLas pateras llegaron a Canarias durante seis días "
                    "de diciembre.\nAl menos 872 personas han muerto o desaparecido en su camino a España.\n")
    answer = engine.ask("cuanta gente ha muerto en su camino a españa")
    assert answer.outcome == "answered" and "872" in answer.answer
    assert engine.ask("¿Cuánta gente fue al mitin del candidato en Toluca?").outcome == "not_in_article"


def test_a_sentence_that_asks_answers_nothing(fake_settings: Settings) -> None:
    """A subheading that is a question ("¿Cómo se hizo el estudio?") shares the question's words
    and states nothing; the sentence that does is the answer."""
    engine = _story(fake_settings, "plasma", "Plasma contra la covid\n¿Cómo se hizo el estudio del plasma?\n"
                    "El estudio del plasma se hizo en la Clínica del Occidente de Bogotá.\n")
    answer = engine.ask("¿Cómo se hizo el estudio del plasma?")
    assert answer.answered and answer.answer.startswith("El estudio del plasma se hizo en la Clínica")


def test_a_story_that_says_the_fact_is_unknown_is_not_answered_as_fact(fake_settings: Settings) -> None:
    """"La causa sigue bajo investigación" is the closest sentence, not the cause."""
    engine = _story(fake_settings, "incendio", "Incendio de Silverado\nEl incendio de Silverado comenzó el lunes "
                    "cerca de Irvine y quemó 5.000 hectáreas.\nLa causa del incendio sigue bajo investigación.\n")
    answer = engine.ask("¿Cuál fue la causa del incendio?")
    assert answer.outcome == "not_in_article" and answer.answer == ""
    assert "bajo investigación" in answer.closest
    assert "hectáreas" in engine.ask("¿Cuántas hectáreas quemó el incendio de Silverado?").answer


@pytest.mark.parametrize(("question", "sentence", "unstated"), [
    ("¿Qué causó el incendio?", "La causa del incendio sigue bajo investigación.", True),
    ("¿Quién es el detenido?", "Las autoridades no precisaron su identidad.", True),
    ("cuantos autos salieron", "La Guardia Nacional informó que no proporcionará cifras oficiales.", True),
    ("¿Cuándo será la feria?", "La nueva fecha está por definir.", True),
    ("¿Quién es el agresor?", "Se desconoce la identidad del agresor.", True),
    # A question about the withholding itself is answered by it.
    ("¿Por qué no dará cifras la Guardia Nacional?", "Informó que no proporcionará cifras oficiales.", False),
    ("¿Qué causó el incendio?", "Un rayo causó el incendio, según los bomberos.", False),
    ("¿Quién investiga el caso?", "La fiscalía investiga el caso desde el lunes.", False),
])
def test_a_sentence_that_says_the_fact_is_unknown(question: str, sentence: str, unstated: bool) -> None:
    from index.unstated import says_unstated

    assert says_unstated(question, sentence) == unstated
