"""``python -m index eval --dates``: the date set scored through the engine (fake encoder, tiny corpus)."""
from __future__ import annotations

import json
from pathlib import Path

from index.__main__ import _parser
from index.date_eval import load_dates, run_date_eval
from index.engine import Engine
from tests.test_dates_search import engine  # noqa: F401  (the fixture: one topic on several days)

ITEMS = [
    {"id": "d1", "split": "tune", "kind": "day", "article_id": "tuesday", "article_date": "2021-03-09",
     "today": "2021-03-10", "question": "¿Qué pasó ayer con la lava del volcán de La Palma?",
     "plain": "¿Qué pasó con la lava del volcán de La Palma?"},
    {"id": "d2", "split": "holdout", "kind": "latest", "article_id": "monday", "article_date": "2021-03-08",
     "today": "2021-03-08", "question": "lo último sobre la lava del volcán de La Palma",
     "plain": "la lava del volcán de La Palma"},
]


def test_each_item_is_asked_on_its_day_with_and_without_its_date(engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    items = tmp_path / "dates.jsonl"
    items.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in ITEMS), encoding="utf-8")
    out = tmp_path / "rows.json"
    before = engine.settings.today
    metrics = run_date_eval(engine, items, "all", out)
    assert metrics["dated"] == {"first": 1.0, "top5": 1.0}
    assert metrics["plain"]["first"] == 0.0  # without the date the undated story leads
    assert metrics["dated_first_by_kind"] == {"day": 1.0, "latest": 1.0}
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [r["today"] for r in rows] == ["2021-03-10", "2021-03-08"]
    assert engine.settings.today == before
    assert [i.id for i in load_dates(items, "holdout")] == ["d2"]


def test_the_command_line_takes_the_date_set() -> None:
    args = _parser().parse_args(["eval", "--dates", "eval/dates_dev.jsonl", "--index", "x", "--split", "holdout"])
    assert args.dates == Path("eval/dates_dev.jsonl") and args.split == "holdout"
    latest = _parser().parse_args(["latest", "--about", "vacunas", "--page", "2"])
    assert (latest.about, latest.page, latest.page_size) == ("vacunas", 2, 10)


def test_the_committed_set_is_sound() -> None:
    items = load_dates(Path(__file__).resolve().parents[1] / "eval" / "dates_dev.jsonl")
    assert len(items) >= 40
    assert {i.split for i in items} == {"tune", "holdout"}
    kinds = {i.kind for i in items}
    assert {"day", "weekday", "week", "month", "year", "ago", "latest", "day_month"} <= kinds
