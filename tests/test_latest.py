"""The newest articles, of the whole index or about a topic (``Engine.latest``, ``python -m index latest``)."""
from __future__ import annotations

from index.cli_output import latest_text
from index.engine import Engine
from index.latest import page_of
from index.records import ArticleInfo
from tests.test_dates_search import engine  # noqa: F401  (the fixture: one topic on several days)


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
