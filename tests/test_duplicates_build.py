"""Near-duplicate stories through a real build (fake encoder): one passage per story, "También en",
older versions not searched, regrouping on an incremental rebuild; and how "También en" is shown."""
from __future__ import annotations

import json
from pathlib import Path

from bot import render
from index import cli_output
from index.build import build_index
from index.engine import Engine
from index.records import AlsoIn, Hit
from index.settings import Settings
from tests.support.encoder import FakeEncoder
from tests.support.fake_telegram import parse_html
from tests.test_duplicates import ECONOMY, FIRE, FIRE_OTHER

WIRE = "Ciudad de México (Agencia). " + FIRE + " Todos los derechos reservados, prohibida su reproducción."
FIRE_ONE = {"id": "fire-uno", "title": "Arde el mercado de San Juan", "text": FIRE, "source": "Diario Uno",
            "url": "https://uno.example/fuego", "date": "2024-03-01"}
FIRE_TWO = {"id": "fire-dos", "title": "Incendio en San Juan deja pérdidas millonarias", "text": WIRE,
            "source": "Diario <Dos> & Cía", "url": "https://dos.example/fuego?a=1&b=2", "date": "2024-03-01"}
ECONOMY_ART = {"id": "economy", "title": "Tasas sin cambios", "text": ECONOMY, "source": "Diario Uno"}
OLD = {"id": "bodega-v1", "title": "Incendio en bodega química", "source": "Diario Tres", "date": "2024-04-01",
       "text": FIRE_OTHER + " Según los primeros reportes, explotó un tanque de tricloroetileno en la planta baja."}
NEW = {"id": "bodega-v2", "title": "Incendio en bodega química: la fiscalía descarta explosión",
       "source": "Diario Tres", "date": "2024-04-02",
       "text": FIRE_OTHER + " La fiscalía descartó después la explosión de un tanque: el origen fue eléctrico."}


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def fire_hits(hits: list[Hit]) -> list[Hit]:
    return [h for h in hits if h.article_id in {"fire-uno", "fire-dos"}]


def test_a_story_in_two_outlets_is_shown_once_naming_the_other(fake_settings: Settings,
                                                               fake_encoder: FakeEncoder) -> None:
    write_jsonl(fake_settings.articles_dir / "news.jsonl", [FIRE_ONE, FIRE_TWO, ECONOMY_ART])
    report = build_index(fake_settings, encoder=fake_encoder)
    assert report.stories == 1 and report.superseded == {} and report.articles == 3
    engine = Engine.open(fake_settings, fake_encoder)
    hits = engine.search("incendio locales mercado San Juan bomberos", top_k=5)
    shown = fire_hits(hits)
    assert len({h.article_id for h in shown}) == 1, "passages of both copies were shown"
    other = FIRE_TWO if shown[0].article_id == "fire-uno" else FIRE_ONE
    assert shown[0].also_in == (AlsoIn(other["source"], other["url"]),)
    assert shown[0].to_json()["also_in"] == [{"source": other["source"], "url": other["url"]}]
    answer = engine.ask("¿Cuántos locales consumió el incendio del mercado de San Juan?")
    assert answer.passages and answer.passages[0].hit.also_in
    assert f"También en: {other['source']}" in cli_output.answer_text(answer)
    html = render.source_line(answer.passages[0].hit, render.HTML)
    assert "También en:" in parse_html(html)


def test_an_older_version_is_not_searched_nor_listed(fake_settings: Settings, fake_encoder: FakeEncoder) -> None:
    write_jsonl(fake_settings.articles_dir / "news.jsonl", [NEW, ECONOMY_ART, OLD])
    report = build_index(fake_settings, encoder=fake_encoder)
    assert report.superseded == {"bodega-v1": "bodega-v2"}
    assert "1 older versions not indexed" in report.summary()
    engine = Engine.open(fake_settings, fake_encoder)
    hits = engine.search("tanque de tricloroetileno explotó en la planta baja", top_k=10)
    assert hits and "bodega-v1" not in {h.article_id for h in hits}
    assert "bodega-v2" in {h.article_id for h in hits}
    assert {a.id for a in engine.list_articles(limit=100)} == {"bodega-v2", "economy"}
    assert engine.info().articles == 2
    stored = engine._index()
    assert stored.manifest["duplicates"]["superseded"] == {"bodega-v1": "bodega-v2"}
    assert not stored.article_rows("bodega-v1")[0]


def test_an_incremental_rebuild_regroups_after_a_copy_arrives(fake_settings: Settings) -> None:
    folder = fake_settings.articles_dir
    write_jsonl(folder / "a.jsonl", [FIRE_ONE, ECONOMY_ART])
    build_index(fake_settings, encoder=FakeEncoder())
    engine = Engine.open(fake_settings, FakeEncoder())
    assert fire_hits(engine.search("incendio mercado San Juan"))[0].also_in == ()

    write_jsonl(folder / "b.jsonl", [FIRE_TWO])
    encoder = FakeEncoder()
    report = build_index(fake_settings, encoder=encoder)
    assert not report.full and report.added == ["fire-dos"]
    assert sorted(report.unchanged) == ["economy", "fire-uno"] and report.stories == 1
    assert engine.reload_if_changed()
    shown = fire_hits(engine.search("incendio mercado San Juan", top_k=5))
    assert len({h.article_id for h in shown}) == 1 and shown[0].also_in

    (folder / "b.jsonl").unlink()  # the copy goes: the story is one article again
    report = build_index(fake_settings, encoder=FakeEncoder())
    assert report.removed == ["fire-dos"] and report.stories == 0
    assert engine.reload_if_changed()
    assert fire_hits(engine.search("incendio mercado San Juan"))[0].also_in == ()


def test_an_older_version_returns_when_the_newer_one_is_removed(fake_settings: Settings) -> None:
    folder = fake_settings.articles_dir
    write_jsonl(folder / "old.jsonl", [OLD])
    write_jsonl(folder / "new.jsonl", [NEW])
    report = build_index(fake_settings, encoder=FakeEncoder())
    assert report.superseded == {"bodega-v1": "bodega-v2"} and report.articles == 1
    (folder / "new.jsonl").unlink()
    report = build_index(fake_settings, encoder=FakeEncoder())
    assert report.superseded == {} and report.added == ["bodega-v1"] and report.removed == ["bodega-v2"]


# --------------------------------------------------------------------------- rendering


def hit_with(also_in: tuple[AlsoIn, ...]) -> Hit:
    return Hit("a", "a#0", "Título", "Texto.", 1.0, "https://uno.example/a", "Diario Uno", "2024-03-05",
               also_in=also_in)


OTHERS = (AlsoIn("Medio <B> & Cía", "https://b.example/x?a=1&b=2"), AlsoIn("Otro Medio", None),
          AlsoIn("Tercero", "javascript:alert(1)"))


def test_also_in_in_telegram_html_is_escaped_and_linked() -> None:
    html = render.source_line(hit_with(OTHERS), render.HTML)
    assert '<a href="https://b.example/x?a=1&amp;b=2">Medio &lt;B&gt; &amp; Cía</a>' in html
    assert "Otro Medio" in html and "javascript" not in html  # an unsafe link is left out, the name kept
    visible = parse_html(html)
    assert "También en: Medio <B> & Cía, Otro Medio, Tercero" in visible


def test_also_in_in_plain_text_has_names_only() -> None:
    text = render.source_line(hit_with(OTHERS), render.TEXT)
    assert "También en: Medio <B> & Cía, Otro Medio, Tercero" in text
    assert "b.example" not in text
    cli = cli_output.source_line(hit_with(OTHERS))
    assert cli.endswith("También en: Medio <B> & Cía, Otro Medio, Tercero")


def test_no_also_in_no_words() -> None:
    assert "También en" not in render.source_line(hit_with(()), render.HTML)
    assert "También en" not in cli_output.source_line(hit_with(()))
    assert hit_with(()).to_json()["also_in"] == []


def test_an_index_from_before_stories_is_refused_then_rebuilt_in_full(fake_settings: Settings) -> None:
    """Format 2 had no articles.story: serving it fails with the rebuild hint, building replaces it."""
    import pytest

    from index import store
    from index.errors import IndexMismatch

    write_jsonl(fake_settings.articles_dir / "a.jsonl", [FIRE_ONE, FIRE_TWO])
    build_index(fake_settings, encoder=FakeEncoder())
    manifest_path = store.current_build(fake_settings.index_dir) / store.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 2
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format version 2.*rebuild"):
        Engine.open(fake_settings, FakeEncoder())
    report = build_index(fake_settings, encoder=FakeEncoder())
    assert report.full and "format version 2" in report.full_reason and report.stories == 1
    assert Engine.open(fake_settings, FakeEncoder()).search("incendio mercado San Juan")[0].also_in


# --------------------------------------------------------------------------- kept sketches


def stories_of(settings: Settings) -> dict[str, str]:
    """Each indexed article's story, as the served index stores it."""
    from index import store

    index = store.StoredIndex.open(settings.index_dir, settings.model)
    try:
        return dict(index.query("SELECT id, story FROM articles"))
    finally:
        index.close()


def test_a_rebuild_sketches_only_the_new_article_and_groups_as_a_full_build(fake_settings: Settings,
                                                                             tmp_path: Path) -> None:
    folder = fake_settings.articles_dir
    write_jsonl(folder / "a.jsonl", [FIRE_ONE, ECONOMY_ART, OLD, NEW])
    first = build_index(fake_settings, encoder=FakeEncoder())
    assert first.sketched == 4 and "texts sketched: 4" in first.summary()
    again = build_index(fake_settings, encoder=FakeEncoder())
    assert again.sketched == 0 and again.unchanged
    write_jsonl(folder / "b.jsonl", [FIRE_TWO])
    added = build_index(fake_settings, encoder=FakeEncoder())
    assert added.added == ["fire-dos"] and added.sketched == 1
    full = build_index(fake_settings, encoder=FakeEncoder(), full=True)  # --full keeps the sketches too
    assert full.full and full.sketched == 0

    scratch = fake_settings.model_copy(update={"index_dir": tmp_path / "scratch", "embed_cache_max_texts": 0})
    fresh = build_index(scratch, encoder=FakeEncoder())  # no cache: every text sketched
    assert fresh.sketched == 5
    assert (added.superseded, added.stories) == (fresh.superseded, fresh.stories) == ({"bodega-v1": "bodega-v2"}, 1)
    assert stories_of(fake_settings) == stories_of(scratch)
    assert stories_of(scratch)["fire-uno"] == stories_of(scratch)["fire-dos"]
