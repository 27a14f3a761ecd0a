"""Publication dates at ingest: the record's date normalised, else the date in the URL."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from index.ingest import load_articles
from index.pubdate import iso_day, normalise_date, publication_date, url_date

TEXT = "El Gobierno presentó el plan de vivienda. La norma entra en vigor el mes que viene."


@pytest.mark.parametrize("url, expected", [
    ("https://x.com/2019/05/12/politica/nota", "2019-05-12"),
    ("https://x.com/politica/20190512/nota.html", "2019-05-12"),
    ("https://x.com/nota-2019-05-12.html", "2019-05-12"),
    ("http://www.eluniversal.com.mx/articulo/nacion/2017/02/8/unam", "2017-02-08"),
    ("https://www.abc.es/espana/abci-picadura-201807061219_noticia.html", "2018-07-06"),  # hour glued on
    ("https://www.animalpolitico.com/2017/05/duarte-borge/", "2017-05"),  # only the month
    ("https://www.lanacion.com.ar/1814829-escultura", None),  # an id, not a date
    ("https://elpais.com/economia/actualidad/1527613785_560850.html", None),  # a timestamp
    ("https://aristeguinoticias.com/2011/mundo/pide-trump", None),  # a day-month code, not a year
    ("https://x.com/2019/13/45/nota", None),
    ("no es una URL", None),
    (None, None),
])
def test_url_dates(url: str | None, expected: str | None) -> None:
    assert url_date(url) == expected


@pytest.mark.parametrize("value, expected", [
    ("2019-05-12", "2019-05-12"),
    ("2019-05", "2019-05"),
    ("2019", "2019"),
    ("2019-5-2", "2019-05-02"),
    ("2019-05-12T23:10:00-05:00", "2019-05-12"),
    ("12/05/2019", "2019-05-12"),
    ("12 de mayo de 2019", "2019-05-12"),
    ("mayo de 2019", "2019-05"),
    ("Sun, 12 May 2019 10:00:00 +0000", "2019-05-12"),
    ("2019-02-30", None),
    ("sin fecha", None),
    ("", None),
])
def test_record_dates_are_normalised_to_iso(value: str, expected: str | None) -> None:
    assert normalise_date(value) == expected


def test_the_record_date_wins_over_the_url() -> None:
    assert publication_date("2017-02", "http://x.com/2017/02/8/unam") == "2017-02"
    assert publication_date(None, "http://x.com/2017/02/8/unam") == "2017-02-08"


def test_an_unreadable_date_is_logged_and_the_article_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    records = [
        {"id": "a", "title": "Con fecha rara", "text": TEXT, "date": "sin fecha", "url": "https://x.com/2020/03/04/a"},
        {"id": "b", "title": "Fecha en la URL", "text": TEXT, "url": "https://x.com/noticias/20210119/b.html"},
        {"id": "c", "title": "Fecha ISO con hora", "text": TEXT, "date": "2021-01-19T08:00:00Z"},
        {"id": "d", "title": "Sin fecha", "text": TEXT, "url": "https://x.com/noticias/d"},
    ]
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="index.pubdate"):
        result = load_articles(path)
    assert {a.id: a.date for a in result.articles} == {"a": "2020-03-04", "b": "2021-01-19", "c": "2021-01-19",
                                                      "d": None}
    assert not result.skipped
    [line] = [r.getMessage() for r in caplog.records]
    assert "'sin fecha' not understood" in line and "news.jsonl:1" in line


@pytest.mark.parametrize("value, expected", [
    ("2024-03-05T10:00:00+01:00", "2024-03-05"),  # a sitemap's W3C datetime
    ("2024-03-05", "2024-03-05"),  # trafilatura's page date
    ("2024-03", None), ("05/03/2024", None), ("2024-02-30", None), ("", None), (None, None),
])
def test_the_fetcher_reads_iso_days_only(value: str | None, expected: str | None) -> None:
    assert iso_day(value) == expected
