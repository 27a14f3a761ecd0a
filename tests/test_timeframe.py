"""Time expressions of a question as date ranges, with a fixed today (Wednesday 15 May 2019)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from index.settings import Settings
from index.timeframe import REPORT_GRACE_DAYS, Timeframe, date_span, parse_timeframe, today_of

TODAY = date(2019, 5, 15)  # a Wednesday


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize("question, start, end, without", [
    ("¿Qué dijo López Obrador hoy?", "2019-05-15", "2019-05-15", "¿Qué dijo López Obrador?"),
    ("¿Qué dijo López Obrador ayer sobre la gasolina?", "2019-05-14", "2019-05-14",
     "¿Qué dijo López Obrador sobre la gasolina?"),
    ("¿Qué pasó anteayer en Madrid?", "2019-05-13", "2019-05-13", "¿Qué pasó en Madrid?"),
    ("¿Qué pasó antier en Madrid?", "2019-05-13", "2019-05-13", "¿Qué pasó en Madrid?"),
    ("¿Qué pasó anoche en Madrid?", "2019-05-14", "2019-05-15", "¿Qué pasó en Madrid?"),
    ("¿Qué pasó esta mañana en Madrid?", "2019-05-15", "2019-05-15", "¿Qué pasó en Madrid?"),
    ("¿Qué dijo AMLO este año?", "2019-01-01", "2019-05-15", "¿Qué dijo AMLO?"),
    ("¿Qué dijo AMLO el año pasado?", "2018-01-01", "2019-01-07", "¿Qué dijo AMLO?"),
    ("¿Qué dijo AMLO desde enero?", "2019-01-01", "2019-05-15", "¿Qué dijo AMLO?"),
    ("¿Qué pasó hace dos semanas?", "2019-04-29", "2019-05-05", "¿Qué pasó?"),
    ("¿Qué pasó esta semana con el peso?", "2019-05-13", "2019-05-15", "¿Qué pasó con el peso?"),
    ("¿Qué dijo Trump la semana pasada?", "2019-05-06", "2019-05-12", "¿Qué dijo Trump?"),
    ("¿Qué anunció el Gobierno este mes?", "2019-05-01", "2019-05-15", "¿Qué anunció el Gobierno?"),
    ("¿Qué dijo AMLO el mes pasado?", "2019-04-01", "2019-05-07", "¿Qué dijo AMLO?"),
    ("¿Qué pasó con el América el lunes?", "2019-05-13", "2019-05-13", "¿Qué pasó con el América?"),
    ("¿Qué dijo Maduro el miércoles?", "2019-05-08", "2019-05-08", "¿Qué dijo Maduro?"),
    ("¿Qué dijo Maduro este miércoles?", "2019-05-15", "2019-05-15", "¿Qué dijo Maduro?"),
    ("¿Qué pasó el 4 de diciembre en Venezuela?", "2018-12-04", "2018-12-04", "¿Qué pasó en Venezuela?"),
    ("¿Qué pasó el 4 de diciembre de 2016 en Venezuela?", "2016-12-04", "2016-12-04", "¿Qué pasó en Venezuela?"),
    ("¿Qué ocurrió el pasado 15 de mayo?", "2019-05-15", "2019-05-15", "¿Qué ocurrió?"),
    ("¿Qué anunció Trump en enero?", "2019-01-01", "2019-02-07", "¿Qué anunció Trump?"),
    ("¿Qué anunció Trump en junio?", "2018-06-01", "2018-07-07", "¿Qué anunció Trump?"),
    ("¿Qué pasó en diciembre de 2017 con el PRI?", "2017-12-01", "2018-01-07", "¿Qué pasó con el PRI?"),
    ("¿Cuántos muertos hubo en 2017 en el sismo?", "2017-01-01", "2018-01-07", "¿Cuántos muertos hubo en el sismo?"),
    ("¿Qué pasó en el 2016 con Messi?", "2016-01-01", "2017-01-07", "¿Qué pasó con Messi?"),
    ("¿Qué dijo el Papa hace tres días?", "2019-05-12", "2019-05-12", "¿Qué dijo el Papa?"),
    ("¿Qué dijo el Papa hace 3 días?", "2019-05-12", "2019-05-12", "¿Qué dijo el Papa?"),
    ("¿Qué ocurrió hace una semana en Chile?", "2019-05-06", "2019-05-12", "¿Qué ocurrió en Chile?"),
    # As people also say it: synonyms, short forms, the weekend, the last days, numeric dates.
    ("que paso la semana anterior con fauci", "2019-05-06", "2019-05-12", "que paso con fauci"),
    ("que dijo AMLO el mes anterior", "2019-04-01", "2019-05-07", "que dijo AMLO"),
    ("¿Qué pasó este fin de semana en Madrid?", "2019-05-11", "2019-05-12", "¿Qué pasó en Madrid?"),
    ("que paso el finde", "2019-05-11", "2019-05-12", "que paso"),
    ("¿Qué pasó el fin de semana pasado?", "2019-05-11", "2019-05-12", "¿Qué pasó?"),
    ("¿Qué pasó en los últimos 3 días?", "2019-05-12", "2019-05-15", "¿Qué pasó?"),
    ("¿Qué dijo Maduro en la última semana?", "2019-05-08", "2019-05-15", "¿Qué dijo Maduro?"),
    ("¿Qué dijo Maduro hace unos días?", "2019-05-08", "2019-05-15", "¿Qué dijo Maduro?"),
    ("¿Qué dijo el Papa hace un par de días?", "2019-05-13", "2019-05-13", "¿Qué dijo el Papa?"),
    ("¿Qué pasó en marzo del año pasado?", "2018-03-01", "2018-04-07", "¿Qué pasó?"),
    ("¿Qué pasó en marzo de este año?", "2019-03-01", "2019-04-07", "¿Qué pasó?"),
    ("¿Qué dijo el Papa el 4/12?", "2018-12-04", "2018-12-04", "¿Qué dijo el Papa?"),
    ("¿Qué dijo el Papa el 4/12/2016?", "2016-12-04", "2016-12-04", "¿Qué dijo el Papa?"),
    ("¿Qué pasó el 4 de dic en Venezuela?", "2018-12-04", "2018-12-04", "¿Qué pasó en Venezuela?"),
])
def test_each_expression_kind_gives_its_range(question: str, start: str, end: str, without: str) -> None:
    when = parse_timeframe(question, TODAY)
    assert (when.start, when.end, when.latest) == (d(start), d(end), False)
    assert when.text_without_expression == without and when.active


def test_named_months_and_years_reach_a_few_days_past_their_end() -> None:
    """"En 2020" events are often told in the first days of 2021."""
    when = parse_timeframe("¿Cuántos migrantes llegaron a Italia en 2020?", date(2021, 3, 1))
    assert when.end == date(2020, 12, 31) + timedelta(days=REPORT_GRACE_DAYS)
    assert when.contains("2021-01-04") and not when.contains("2021-02-01")


@pytest.mark.parametrize("question, without", [
    ("¿Qué es lo último sobre las mascarillas?", "¿las mascarillas?"),
    ("lo más reciente de Messi", "Messi"),
    ("Las últimas noticias sobre Venezuela", "Venezuela"),
    ("¿Qué hay de nuevo sobre el Real Madrid?", "¿el Real Madrid?"),
    ("las noticias más recientes sobre la vacuna", "la vacuna"),
])
def test_latest_asks_for_the_newest_up_to_today(question: str, without: str) -> None:
    when = parse_timeframe(question, TODAY)
    assert when.latest and when.start is None and when.end == TODAY and when.active
    assert when.text_without_expression == without


def test_latest_with_a_range_keeps_both() -> None:
    when = parse_timeframe("lo último sobre Messi en 2018", TODAY)
    assert when.latest and (when.start, when.text_without_expression) == (date(2018, 1, 1), "Messi")


@pytest.mark.parametrize("question", [
    "¿Quién es la nueva productora del programa Hoy?",  # a TV programme
    "por que no salia andrea legarreta en hoy",
    "¿Cuántos autos salen en esta Semana Santa?",
    "¿A quién envió el Monterrey a la última Junta de Dueños?",
    "¿Y cuándo fue la última?",
    "¿Qué pasó en la Plaza de Mayo?",
    "¿Qué hizo Domingo Perón?",
    "¿Qué acusa EE. UU. a Corea del Norte?",
    "¿Cuántos jugadores hay en un equipo de beisbol?",
    "¿Qué pasó en el mar de Cortés?",  # "mar" is March only after a day number
    "¿Cuántos goles marcó 3/4 del equipo?",  # no day/month
    "¿Qué pasó el 31/02?",  # no such day
])
def test_questions_without_an_expression_come_back_untouched(question: str) -> None:
    assert parse_timeframe(question, TODAY) == Timeframe(None, None, False, question)


def test_accents_and_capitals_do_not_matter() -> None:
    plain = parse_timeframe("¿Que paso el miercoles con Maduro?", TODAY)
    assert plain.start == date(2019, 5, 8) and plain.text_without_expression == "¿Que paso con Maduro?"
    first = parse_timeframe("Ayer, ¿qué dijo Maduro?", TODAY)
    assert first.start == date(2019, 5, 14) and first.text_without_expression == "¿qué dijo Maduro?"


def test_a_range_in_the_future_is_kept_so_nothing_matches() -> None:
    when = parse_timeframe("¿Qué pasará en 2030?", TODAY)
    assert when.start == date(2030, 1, 1) and not when.contains("2019-05-14")


def test_article_dates_of_each_precision() -> None:
    assert date_span("2019-05-12") == (date(2019, 5, 12), date(2019, 5, 12))
    assert date_span("2019-02") == (date(2019, 2, 1), date(2019, 2, 28))
    assert date_span("2019") == (date(2019, 1, 1), date(2019, 12, 31))
    assert date_span(None) is None and date_span("ayer") is None and date_span("2019-13-01") is None


def test_month_precision_matches_a_day_range_inside_it_and_undated_never_does() -> None:
    ayer = parse_timeframe("¿Qué pasó ayer?", TODAY)
    assert ayer.contains("2019-05") and ayer.contains("2019-05-14")
    assert not ayer.contains("2019-05-13") and not ayer.contains("2019-04") and not ayer.contains(None)


def test_today_is_the_setting_when_fixed() -> None:
    assert today_of(Settings(_env_file=None, today=TODAY)) == TODAY
    assert today_of(Settings(_env_file=None)) == date.today()


@pytest.mark.parametrize(("question", "named_end"), [
    # A month or a year is searched a few days past its end (news of it is told after), but the
    # period it names ends with it; a day or a week is the period it names.
    ("noticias en enero", date(2021, 1, 31)), ("en 2020", date(2020, 12, 31)),
    ("marzo del año pasado", date(2020, 3, 31)), ("ayer", date(2021, 2, 1)), ("esta semana", date(2021, 2, 2)),
])
def test_the_period_named_ends_without_the_days_after_it(question: str, named_end: date) -> None:
    when = parse_timeframe(question, date(2021, 2, 2))
    assert when.named_end == named_end and when.end is not None and when.end >= named_end
