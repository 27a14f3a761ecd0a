"""Check the date evaluation set against its corpus, and ask its plain questions with any checkout.

    python scripts/check_dates_dev.py --corpus ../shared/data/news_es/true_news_unmasked.jsonl eval/dates_dev.jsonl
    python scripts/check_dates_dev.py eval/dates_dev.jsonl --plain --index var/news-index [--code ../main] [--split holdout]

Checks, for every item: the keys; the split; that its article exists in the corpus with the
``article_date`` given; that the question's time expression, read on ``today``, selects that
date (or, for kind latest, asks for the newest); that ``plain`` is the question without a time expression; ids unique; each article in
one split. Exits non-zero when anything fails.

``--plain`` asks the plain questions through the ``index`` package of ``--code`` (default: this
checkout) and prints the share whose first passage is from the expected article and in the top
5: the same question with the base code and with this one (``python -m index eval --dates``
reports the latter too). Prints the machine first.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("id", "split", "kind", "article_id", "article_date", "today", "question", "plain")
KINDS = ("day", "weekday", "week", "month", "month_rel", "month_year", "day_month", "year", "ago", "latest")


def check(items: list[dict], corpus: dict[str, dict]) -> list[str]:
    """Every problem found, one line each."""
    sys.path.insert(0, str(ROOT))
    from index.timeframe import parse_timeframe

    problems, split_of = [], {}
    for item in items:
        where = item.get("id", "?")
        if tuple(item) != KEYS:
            problems.append(f"{where}: keys {tuple(item)} != {KEYS}")
            continue
        if item["split"] not in ("tune", "holdout") or item["kind"] not in KINDS:
            problems.append(f"{where}: split {item['split']!r} or kind {item['kind']!r} unknown")
        article = corpus.get(item["article_id"])
        if article is None or article.get("date") != item["article_date"]:
            problems.append(f"{where}: article {item['article_id']} missing or not dated {item['article_date']}")
        if split_of.setdefault(item["article_id"], item["split"]) != item["split"]:
            problems.append(f"{where}: article {item['article_id']} in both splits")
        today = date.fromisoformat(item["today"])
        when = parse_timeframe(item["question"], today)
        right = when.latest if item["kind"] == "latest" else when.contains(item["article_date"])
        if not right:
            problems.append(f"{where}: {item['question']!r} on {today} does not select {item['article_date']}")
        if parse_timeframe(item["plain"], today).active:
            problems.append(f"{where}: plain {item['plain']!r} still has a time expression")
    for key, count in Counter(i.get("id") for i in items).items():
        if count > 1:
            problems.append(f"id {key} used {count} times")
    return problems


def ask_plain(items: list[dict], index: Path, code: Path) -> dict:
    """First-passage and top-5 rates of the plain questions with the ``index`` package of ``code``."""
    loaded = sys.modules.get("index")
    if loaded is not None and not Path(loaded.__file__).resolve().is_relative_to(code.resolve()):
        raise SystemExit("--code: the index package was already imported from elsewhere; run --plain without --corpus")
    sys.path.insert(0, str(code.resolve()))
    from index.engine import Engine
    from index.settings import Settings

    engine = Engine.open(Settings().model_copy(update={"index_dir": index}))
    first = top5 = 0
    for item in items:
        answer = engine.ask(item["plain"], top_k=5)
        found = list(dict.fromkeys(p.hit.article_id for p in answer.passages))
        first += bool(found) and found[0] == item["article_id"]
        top5 += item["article_id"] in found[:5]
    n = max(1, len(items))
    return {"code": str(code), "index": str(index), "items": len(items), "plain_first": round(first / n, 4),
            "plain_top5": round(top5 / n, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", type=Path)
    parser.add_argument("--corpus", type=Path, help="the corpus the set was written from (checks the items)")
    parser.add_argument("--plain", action="store_true", help="ask the plain questions (needs --index)")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose index package answers (--plain)")
    parser.add_argument("--split", default="all", choices=["all", "tune", "holdout"])
    args = parser.parse_args()
    items = [json.loads(line) for line in args.items.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [i for i in items if args.split in ("all", i.get("split"))]
    if args.corpus:
        lines = args.corpus.read_text(encoding="utf-8").splitlines()
        corpus = {r["id"]: r for r in (json.loads(line) for line in lines if line.strip())}
        problems = check(items, corpus)
        print("\n".join(problems) or f"{len(items)} items OK: "
              f"{dict(Counter(i['split'] for i in items))}, {dict(Counter(i['kind'] for i in items))}")
        if problems:
            return 1
    if args.plain:
        if not args.index:
            parser.error("--plain needs --index")
        sys.path.insert(0, str(ROOT))
        from scripts.bench_common import machine

        print(json.dumps(machine(("onnxruntime",))))
        print(json.dumps({"split": args.split, **ask_plain(items, args.index, args.code)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
