"""Relative dates in an answer ("este lunes", "ayer") read from its article's date."""
from __future__ import annotations

import pytest

from index.cli_output import answer_text
from index.records import Answer, Hit, Passage
from index.relative_dates import relative_dates, with_dates


@pytest.mark.parametrize(("text", "published", "stands_for"), [
    # Monday 1 February 2021.
    ("El gobierno anunció este lunes que no habrá arrestos.", "2021-02-01", ["1 de febrero de 2021"]),
    ("Falleció el día de hoy a los 95 años.", "2021-02-01", ["1 de febrero de 2021"]),
    ("Fue despedido ayer; anoche no habló; anteayer sí.", "2021-02-01",
     ["31 de enero de 2021", "31 de enero de 2021", "30 de enero de 2021"]),
    ("Se lesionó el pasado viernes y jugará el próximo domingo.", "2021-02-01",
     ["29 de enero de 2021", "7 de febrero de 2021"]),
    ("El lunes pasado no, el lunes que viene.", "2021-02-01", ["25 de enero de 2021", "8 de febrero de 2021"]),
    ("Hablaron esta mañana y se verán mañana.", "2021-02-01", ["1 de febrero de 2021", "2 de febrero de 2021"]),
    ("Votan mañana por la mañana y pasado mañana.", "2021-02-01", ["2 de febrero de 2021", "3 de febrero de 2021"]),
    # Tuesday 19 January: "la mañana" is the morning of the day named.
    ("La mañana de este martes aterrizaron las vacunas.", "2021-01-19", ["19 de enero de 2021"]),
    # Wednesday 3 February: "este viernes" is two days on, "este lunes" two days back.
    ("Se votará este viernes; se supo este lunes.", "2021-02-03", ["5 de febrero de 2021", "1 de febrero de 2021"]),
    # Thursday 10 December 2020: a day of the month, the nearest after or before.
    ("Iban a celebrarla el próximo día 17; se supo el pasado día 3.", "2020-12-10",
     ["17 de diciembre de 2020", "3 de diciembre de 2020"]),
    ("Será el próximo día 5.", "2020-12-10", ["5 de enero de 2021"]),
    # A month or a year needs the article's date only to the month.
    ("El año pasado subió, el mes pasado bajó y este año se verá.", "2021-01",
     ["2020", "diciembre de 2020", "2021"]),
    ("El próximo mes y el próximo año.", "2020-12-10", ["enero de 2021", "2021"]),
])
def test_relative_dates_are_read_from_the_articles_date(text: str, published: str, stands_for: list[str]) -> None:
    assert [r.stands_for for r in relative_dates(text, published)] == stands_for


@pytest.mark.parametrize(("text", "published"), [
    # Written on a Sunday, "este lunes" may be the next day or six days before.
    ("La salida se hará oficial este lunes.", "2018-06-03"),
    # A bare weekday may be past or future; a weekday with its date needs nothing.
    ("El lunes se reunieron.", "2021-02-01"),
    ("Eran las 16.49 horas de este jueves 25 de febrero.", "2021-02-25"),
    ("Murió el pasado domingo, 13 de diciembre.", "2020-12-14"), ("Será el próximo día 17 de marzo.", "2020-12-10"),
    # The morning, nowadays, the TV show "Hoy", a month already named.
    ("Por la mañana aterrizó; cada mañana igual.", "2021-01-19"),
    ("Hoy en día nadie lo usa.", "2021-02-01"), ("Que hoy por hoy lo están.", "2021-02-01"),
    ("Hoy día se usa poco.", "2021-02-01"),
    ('Negó que estuviera castigada en "Hoy".', "2021-02-01"),
    ("El pasado mes de abril saltó la alarma.", "2019-07-02"),
    # A day needs the article's day; no date, no reading.
    ("Ayer fue despedido.", "2021-02"),
    ("Ayer fue despedido.", None),
    ("Ayer fue despedido.", "fecha desconocida"),
])
def test_what_the_articles_date_does_not_settle_is_left_as_written(text: str, published: str | None) -> None:
    assert relative_dates(text, published) == []


def test_the_date_is_written_after_the_words_it_reads() -> None:
    assert (with_dates("Anunció este lunes que sí y ayer que no.", "2021-02-01")
            == "Anunció este lunes [1 de febrero de 2021] que sí y ayer [31 de enero de 2021] que no.")
    assert with_dates("Sin fechas relativas.", "2021-02-01") == "Sin fechas relativas."


def _answer(**kw) -> Answer:
    hit = Hit(article_id="a", chunk_id="a#0", title="Sin arrestos", text="…", score=1.0, url="",
              source="La Jornada", date="2021-02-01")
    return Answer("¿Cuándo lo anunció?", passages=(Passage(hit),), **kw)


def test_the_command_line_shows_an_answer_dated_and_its_closest_sentence_dated() -> None:
    answered = answer_text(_answer(answered=True, answer="Lo anunció este lunes."))
    assert "Lo anunció este lunes [1 de febrero de 2021]." in answered
    missing = answer_text(_answer(answered=False, answer="", outcome="not_in_article", closest="Habló ayer."))
    assert "Habló ayer [31 de enero de 2021]." in missing
