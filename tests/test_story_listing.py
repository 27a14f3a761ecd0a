"""/fuentes and /ultimas show a story carried by several outlets once, by its representative
naming the other outlets ("También en"), with counts and pages of what is listed; /ultimas
lists nothing dated after today. Engine and CLI (fake encoder), then the real bot against the
fake Bot API server serving a real engine."""
from __future__ import annotations

import json
from datetime import date

import pytest

from index.build import build_index
from index.cli_output import latest_text
from index.engine import Engine
from index.settings import Settings
from tests.support.bot import StartBot, ask, buttons
from tests.support.encoder import FakeEncoder
from tests.support.fake_telegram import FakeTelegram, parse_html
from tests.test_duplicates_build import ECONOMY_ART, FIRE_ONE, FIRE_TWO, write_jsonl

TODAY = date(2024, 3, 10)
FUTURE = {"id": "future", "title": "Incendio anunciado para mañana en San Juan", "source": "Diario Cuatro",
          "date": "2024-03-11", "url": "https://cuatro.example/futuro",
          "text": "Los bomberos del mercado de San Juan preparan un simulacro de incendio para el lunes."}
MONTH = {"id": "month", "title": "Resumen del mes", "source": "Diario Uno", "date": "2024-03",
         "text": "Un mes de noticias en la ciudad: obras, lluvias y el mercado de San Juan reabre sus puertas."}


@pytest.fixture
def listed(fake_settings: Settings) -> Engine:
    write_jsonl(fake_settings.articles_dir / "news.jsonl", [FIRE_ONE, FIRE_TWO, ECONOMY_ART, FUTURE, MONTH])
    report = build_index(fake_settings, encoder=FakeEncoder())
    assert report.stories == 1 and report.articles == 5
    return Engine.open(fake_settings.model_copy(update={"today": TODAY}), FakeEncoder())


def fire_rows(articles) -> list:
    return [a for a in articles if a.id in {"fire-uno", "fire-dos"}]


def other_fire(article_id: str) -> dict:
    return FIRE_ONE if article_id == "fire-dos" else FIRE_TWO


def test_sources_list_a_story_once_naming_the_other_outlet(listed: Engine) -> None:
    info = listed.info()
    assert info.articles == 5 and info.stories == 4  # both copies stay indexed; the story is listed once
    everything = listed.list_articles(0, 100)
    assert len(everything) == info.stories and {a.id for a in everything} >= {"future", "month", "economy"}
    [fire] = fire_rows(everything)
    other = other_fire(fire.id)
    assert [(a.source, a.url) for a in fire.also_in] == [(other["source"], other["url"])]
    assert [a.id for a in listed.list_articles(0, 2)] + [a.id for a in listed.list_articles(2, 2)] == \
        [a.id for a in everything]  # pages cut the same list


def test_latest_lists_a_story_once_and_nothing_after_today(listed: Engine) -> None:
    first = listed.latest("", 1, 2)
    rest = listed.latest("", 2, 2)
    shown = [a.id for a in first.articles + rest.articles]
    assert (first.total, first.pages) == (3, 2) and len(shown) == 3
    assert "future" not in shown and "month" in shown  # a month-dated article counts from its first day
    assert len(fire_rows(first.articles + rest.articles)) == 1
    page = json.loads(json.dumps(first.to_json(), ensure_ascii=False))
    fire = next(a for a in page["articles"] if a["id"] in {"fire-uno", "fire-dos"})
    assert fire["also_in"] == [{"source": other_fire(fire["id"])["source"], "url": other_fire(fire["id"])["url"]}]


def test_latest_about_a_topic_lists_the_story_once_and_nothing_after_today(listed: Engine) -> None:
    page = listed.latest("incendio mercado San Juan bomberos", 1, 10)
    ids = [a.id for a in page.articles]
    assert page.total == len(ids) and len(fire_rows(page.articles)) == 1 and "future" not in ids
    [fire] = fire_rows(page.articles)
    assert fire.also_in and fire.also_in[0].source == other_fire(fire.id)["source"]
    text = latest_text(page)
    assert f"También en: {other_fire(fire.id)['source']}" in text


async def test_the_bot_lists_the_story_once(fake: FakeTelegram, start_bot: StartBot, listed: Engine) -> None:
    await start_bot(listed)
    latest = await ask(fake, "/ultimas", contains="Últimos artículos")
    html = latest.params["text"]
    visible = parse_html(html)
    assert "Últimos artículos (3), página 1 de 1" in visible and not buttons(latest)
    assert "Incendio anunciado para mañana" not in visible
    assert visible.count("También en:") == 1
    shown_fire = "Arde el mercado" in visible
    assert shown_fire != ("Incendio en San Juan deja pérdidas" in visible)  # one copy, not both
    other = FIRE_TWO if shown_fire else FIRE_ONE
    assert f'<a href="{other["url"].replace("&", "&amp;")}">' in html  # the other outlet, linked

    sources = await ask(fake, "/fuentes", contains="Artículos indexados")
    visible = parse_html(sources.params["text"])
    assert "Artículos indexados (4), página 1 de 1" in visible and visible.count("También en:") == 1
    assert "Incendio anunciado para mañana" in visible  # /fuentes lists the whole index

    about = await ask(fake, "/ultimas incendio mercado San Juan", contains="Últimos artículos sobre")
    visible = parse_html(about.params["text"])
    assert visible.count("También en:") == 1 and "Incendio anunciado para mañana" not in visible
