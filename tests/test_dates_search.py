"""Search favours the dates a question names, "lo último" the newest story, ties the newer one
(fake encoder, a small corpus of one topic told on several days)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from index.build import build_index
from index.cli_output import answer_text
from index.engine import Engine
from index.search import Candidate, newer_on_ties
from index.records import Turn
from index.settings import Settings
from index.store import ChunkRow
from tests.support.encoder import FakeEncoder

TODAY = date(2021, 3, 10)  # a Wednesday
STORIES = [  # one topic, told on several days; the wording alone prefers "undated"
    ("monday", "2021-03-08", "El volcán de La Palma entra en erupción y la lava avanza hacia el mar."),
    ("tuesday", "2021-03-09", "La lava del volcán de La Palma llega al mar y forma una nueva península."),
    ("january", "2021-01", "El volcán de La Palma lleva semanas de erupción; la lava cubre ya mil hectáreas."),
    ("lastyear", "2020-06-02", "El volcán de La Palma muestra señales; los expertos vigilan la lava."),
    ("undated", None, "El volcán de La Palma y su lava: la erupción del volcán de La Palma, la lava del volcán."),
    ("other", "2021-03-09", "El Real Madrid gana al Cádiz por tres goles a cero en el Bernabéu."),
    ("football", "2021-03-05", "El Atlético empata con el Betis en un partido sin goles."),
]


@pytest.fixture
def engine(fake_settings: Settings) -> Engine:
    records = [{"id": key, "title": f"Noticia {key}", "text": text, "date": when} for key, when, text in STORIES]
    path = fake_settings.articles_dir / "news.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    return Engine.open(fake_settings.model_copy(update={"today": TODAY}), FakeEncoder())


def first(engine: Engine, question: str) -> str:
    hits = engine.search(question)
    return hits[0].article_id if hits else ""


def test_without_a_date_the_wording_decides(engine: Engine) -> None:
    assert first(engine, "¿Qué pasa con la lava del volcán de La Palma?") == "undated"


@pytest.mark.parametrize("question, expected", [
    ("¿Qué pasó ayer con la lava del volcán de La Palma?", "tuesday"),
    ("¿Qué pasó el lunes con la lava del volcán de La Palma?", "monday"),
    ("¿Qué pasó anteayer con la lava del volcán de La Palma?", "monday"),
    ("¿Qué pasó el 2 de junio de 2020 con la lava del volcán de La Palma?", "lastyear"),
    ("¿Qué pasó en enero con la lava del volcán de La Palma?", "january"),  # month precision
    ("¿Qué pasó hace dos meses con la lava del volcán de La Palma?", "january"),
])
def test_a_date_favours_the_articles_of_its_range(engine: Engine, question: str, expected: str) -> None:
    assert first(engine, question) == expected


def test_the_answer_comes_from_the_dated_story_and_keeps_the_question(engine: Engine) -> None:
    answer = engine.ask("¿Qué pasó ayer con la lava del volcán de La Palma?")
    assert answer.passages[0].hit.article_id == "tuesday"
    assert answer.question == "¿Qué pasó ayer con la lava del volcán de La Palma?"
    assert "ayer" not in answer.resolved_query


def test_the_date_does_not_bring_up_another_topic(engine: Engine) -> None:
    """Asked about a day on which only football news was published, the question is answered
    as if it had no date."""
    assert first(engine, "¿Qué pasó el 5 de marzo con la lava del volcán de La Palma?") == "undated"


def test_nothing_in_the_range_answers_the_question_as_asked(engine: Engine) -> None:
    dated = engine.ask("¿Qué pasó hoy con la lava del volcán de La Palma?")
    assert dated.passages[0].hit.article_id == "undated"  # the same as without the date


def test_an_answer_from_other_dates_says_so(engine: Engine) -> None:
    """Nothing of today is about the match: the answer comes from a dated article of another day,
    and says which expression found nothing, so the reader does not take it for today's news.
    Not said when the answer's article is undated (its day is unknown) or when the expression
    names a year (it more often dates the event than the news). Off-topic refusals are switched
    off: the fake encoder's scores are not what the thresholds are for."""
    engine = Engine(engine.settings.model_copy(update={"refusal_threshold": float("-inf"),
                                                       "refusal_min_coverage": 0.0}), engine.encoder)
    engine.reload_if_changed()
    other = engine.ask("¿Qué pasó hoy con el Atlético y el Betis?")
    assert other.answered and other.passages[0].hit.article_id == "football"
    assert other.outside_dates == "hoy" and other.to_json()["outside_dates"] == "hoy"
    assert "«hoy»" in answer_text(other)
    undated = engine.ask("¿Qué pasó hoy con la lava del volcán de La Palma?")
    assert undated.passages[0].hit.article_id == "undated" and undated.outside_dates == ""
    assert engine.ask("¿Qué pasó en 2019 con el Atlético y el Betis?").outside_dates == ""
    assert engine.ask("¿Qué pasó ayer con la lava del volcán de La Palma?").outside_dates == ""
    assert engine.ask("¿Qué pasa con la lava del volcán de La Palma?").outside_dates == ""


def test_latest_about_a_topic_is_not_a_follow_up(engine: Engine) -> None:
    """"Lo último sobre la lava" after a football question names its own topic, one word or not."""
    football = engine.ask("¿Qué pasó con el Real Madrid y el Cádiz?")
    history = [Turn(football.question, football.answer, (football.passages[0].hit.article_id,))]
    latest = engine.ask("lo último sobre la lava", history)
    assert latest.passages[0].hit.article_id == "tuesday"
    assert latest.outside_dates == ""


def test_latest_takes_the_newest_relevant_story(engine: Engine) -> None:
    assert first(engine, "¿Qué es lo último sobre la lava del volcán de La Palma?") == "tuesday"
    replayed = engine.settings.model_copy(update={"today": date(2021, 3, 8)})
    engine.settings = replayed  # the day before "tuesday" was published: it does not exist yet
    assert first(engine, "lo último sobre la lava del volcán de La Palma") == "monday"


def _ranked(article: str, score: float, when: str | None) -> tuple[Candidate, ChunkRow]:
    row = ChunkRow(0, f"{article}#0", article, 0, 0, 1, "x", article, when, None, None)
    return Candidate(0, score, 0.0, 0.0), row


def test_ties_go_to_the_newer_story_and_nothing_else_moves() -> None:
    tied = [_ranked("old", 0.9, "2020-01-01"), _ranked("new", 0.9, "2021-01-01"), _ranked("undated", 0.9, None)]
    assert [p[1].article_id for p in newer_on_ties(tied)] == ["new", "old", "undated"]
    apart = [_ranked("old", 0.9, "2020-01-01"), _ranked("new", 0.8, "2021-01-01")]
    assert newer_on_ties(apart) == apart
