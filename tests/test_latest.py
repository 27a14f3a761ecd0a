"""The newest articles, of the whole index or about a topic (``Engine.latest``, ``python -m index latest``)."""
from __future__ import annotations

import pytest

from index.cli_output import latest_text
from index.engine import Engine
from index.latest import bare_topic, news_listing, page_of
from index.records import ArticleInfo
from tests.test_dates_search import TODAY, engine  # noqa: F401  (the fixture: one topic on several days)


def test_without_a_topic_all_articles_newest_first_undated_last(engine: Engine) -> None:  # noqa: F811
    page = engine.latest("", 1, 4)
    assert (page.total, page.pages, page.page) == (7, 2, 1)
    assert [a.id for a in page.articles][:2] in (["tuesday", "other"], ["other", "tuesday"])
    last = engine.latest("", 2, 4)
    assert [a.id for a in last.articles][-1] == "undated"


def test_a_topic_lists_its_articles_newest_first(engine: Engine) -> None:  # noqa: F811
    page = engine.latest("volcán La Palma", 1, 10)
    assert [a.id for a in page.articles] == ["tuesday", "monday", "january", "lastyear", "undated"]
    assert page.about == "volcán La Palma" and page.total == 5
    assert engine.latest("fútbol de Marte", 1, 10).total == 0


def test_pages_are_clamped() -> None:
    infos = [ArticleInfo(str(i), f"t{i}", None, None, None) for i in range(5)]
    assert page_of("x", infos, 5, 9, 2).page == 3 and page_of("x", infos, 5, 0, 2).page == 1
    assert page_of("x", [], 0, 3, 2).pages == 1


def test_the_command_line_text(engine: Engine) -> None:  # noqa: F811
    text = latest_text(engine.latest("volcán La Palma", 2, 2))
    assert text.splitlines()[0].startswith("2021-01 · Noticia january")
    assert text.splitlines()[-1] == "(5 artículos sobre «volcán La Palma»; página 2 de 3)"


def test_a_time_expression_keeps_the_list_to_its_dates(engine: Engine) -> None:  # noqa: F811
    """Today is Wednesday 10 March 2021: "ayer" lists the 9th; "en enero" the month (its story
    dated only to January too), not the days after it a search allows; with a topic, its
    stories of those dates."""
    yesterday = engine.latest("ayer", 1, 10)
    assert sorted(a.id for a in yesterday.articles) == ["other", "tuesday"]
    assert (yesterday.about, yesterday.dates, yesterday.total) == ("", "ayer", 2)
    assert [a.id for a in engine.latest("en enero", 1, 10).articles] == ["january"]
    assert [a.id for a in engine.latest("esta semana", 1, 10).articles][-1] == "monday"
    assert engine.latest("esta semana", 1, 10).total == 3
    topic = engine.latest("volcán La Palma esta semana", 1, 10)
    assert [a.id for a in topic.articles] == ["tuesday", "monday"] and topic.about == "volcán La Palma"
    assert engine.latest("el 5 de marzo de 2019", 1, 10).total == 0
    assert "(2 artículos, «ayer»; página 1 de 1)" in latest_text(yesterday)


@pytest.mark.parametrize(("message", "listing"), [
    ("noticias", ""), ("hola, ¿qué hay de nuevo?", ""), ("últimas noticias de hoy", ""),
    ("noticias de ayer", "ayer"), ("¿Qué noticias hay de esta semana?", "esta semana"),
    ("¿qué pasó ayer?", "ayer"), ("titulares de ayer por favor", "ayer"),
    # A subject makes it a question, with or without a date.
    ("¿Qué pasó ayer con la lava?", None), ("noticias de Messi", None), ("¿Qué acusa EE. UU.?", None),
])
def test_what_asks_for_the_news_of_a_day(message: str, listing: str | None) -> None:
    assert news_listing(message, TODAY) == listing


def test_the_words_left_by_a_time_expression_lose_their_dangling_preposition() -> None:
    assert bare_topic("noticias de") == "noticias" and bare_topic("¿Qué noticias hay de?") == "¿Qué noticias hay?"
    assert bare_topic("coronavirus") == "coronavirus" and bare_topic("lo de la lava") == "lo de la lava"
