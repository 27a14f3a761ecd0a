"""Evaluation of time expressions on questions written from the dated news (eval/dates_dev.jsonl).

Each item names the article a question with a time expression ("¿Qué dijo Fauci ayer…?") must
find, the day it is asked on (``today``: ARTICLE_QA_TODAY for that item) and ``plain``, the same
question without its time words. Both are asked through ``Engine.ask`` as the bot asks them;
right when the answer's first passage is from the expected article (``first``) or one of its
first five passages is (``top5``). ``plain`` shows what the date adds, and that questions
without a time expression are not worse than before (docs/dates.md).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tqdm import tqdm

from .engine import Engine
from .news_eval import report
from .records import Answer

TOP = 5


@dataclass(frozen=True)
class DateItem:
    """One line of eval/dates_dev.jsonl (schema in eval/README.md)."""

    id: str
    split: str
    kind: str
    article_id: str
    today: date
    question: str
    plain: str

    @classmethod
    def from_json(cls, data: dict) -> "DateItem":
        return cls(data["id"], data["split"], data["kind"], data["article_id"], date.fromisoformat(data["today"]),
                   data["question"], data["plain"])


def load_dates(path: Path, split: str = "all") -> list[DateItem]:
    """The items of one split (tune, holdout or all), in file order."""
    items = [DateItem.from_json(json.loads(line)) for line in Path(path).read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return [item for item in items if split in ("all", item.split)]


def _articles(answer: Answer) -> list[str]:
    return list(dict.fromkeys(p.hit.article_id for p in answer.passages))


def score_item(engine: Engine, item: DateItem) -> dict:
    """Ask the question and its plain variant on the item's day; where the expected article came."""
    engine.settings = engine.settings.model_copy(update={"today": item.today})
    row: dict = {"id": item.id, "split": item.split, "kind": item.kind, "article_id": item.article_id,
                 "today": item.today.isoformat()}
    for key, question in (("dated", item.question), ("plain", item.plain)):
        found = _articles(engine.ask(question, top_k=TOP))
        row[key] = {"question": question, "top_article": found[0] if found else None,
                    "first": bool(found) and found[0] == item.article_id, "top5": item.article_id in found[:TOP]}
    return row


def _rate(rows: list[dict], variant: str, key: str) -> float:
    return round(sum(r[variant][key] for r in rows) / max(1, len(rows)), 4)


def summarise_dates(rows: list[dict]) -> dict:
    """Expected article first and in the top 5, with and without the time expression, and by kind."""
    out: dict = {"items": len(rows)}
    for variant in ("dated", "plain"):
        out[variant] = {"first": _rate(rows, variant, "first"), "top5": _rate(rows, variant, "top5")}
    out["dated_first_by_kind"] = {kind: _rate([r for r in rows if r["kind"] == kind], "dated", "first")
                                  for kind in sorted({r["kind"] for r in rows})}
    return out


def run_date_eval(engine: Engine, items_path: Path, split: str, json_out: Path | None,
                  limit: int | None = None) -> dict:
    """Evaluate, print the summary as JSON, and write per-item rows with ``json_out``.

    The engine's ``today`` is set per item and restored afterwards."""
    items = load_dates(items_path, split)
    items = items[:limit] if limit else items
    started, settings = time.monotonic(), engine.settings
    try:
        rows = [score_item(engine, item) for item in tqdm(items, desc="date questions", unit="q")]
    finally:
        engine.settings = settings
    metrics = summarise_dates(rows)
    metrics.update({"file": str(items_path), "split": split, "seconds": round(time.monotonic() - started, 1)})
    report(metrics, rows, json_out)
    return metrics
