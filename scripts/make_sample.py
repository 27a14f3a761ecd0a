"""Pick the small news sample shipped in ``data/articles/news_es/sample.jsonl``.

The corpus texts remain the publishers' copyright, so the repo ships only a small, varied,
attributed sample (see ``data/NOTICE.md``). The choice is deterministic: rerunning this script
on the same corpus writes the same file.

    python scripts/make_sample.py [SOURCE.jsonl] [--out PATH] [--count N]
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

DEFAULT_SOURCE = Path("../shared/data/news_es/true_news_unmasked.jsonl")
DEFAULT_OUT = Path("data/articles/news_es/sample.jsonl")
FIELDS = ("id", "title", "text", "date", "url", "source")
MIN_CHARS, MAX_CHARS = 1_500, 6_000
# Topics asked for first, so the sample covers them even though the corpus is mostly
# Covid-19 and society news; any other topic follows in alphabetical order.
PREFERRED_TOPICS = ("Política", "Internacional", "Ciencia", "Economía", "Deporte", "Salud")


def read_jsonl(path: Path) -> list[dict]:
    """All records of a JSONL file, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def eligible(record: dict) -> bool:
    """Long enough to hold answers, short enough to keep the sample small."""
    text, title = record.get("text") or "", record.get("title") or ""
    return bool(title.strip()) and MIN_CHARS <= len(text) <= MAX_CHARS


def preference(record: dict) -> tuple:
    """Articles with a date and a URL first (they make better citations), then by id."""
    return (not (record.get("date") and record.get("url")), str(record["id"]))


def topic_order(topics: set[str]) -> list[str]:
    """Preferred topics first, then the rest alphabetically."""
    first = [topic for topic in PREFERRED_TOPICS if topic in topics]
    return first + sorted(topics - set(first))


def pick(records: list[dict], count: int) -> list[dict]:
    """Round-robin over topics, so no single topic fills the sample."""
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for record in filter(eligible, records):
        by_topic[record.get("topic") or "Otros"].append(record)
    queues = [sorted(by_topic[topic], key=preference) for topic in topic_order(set(by_topic))]
    chosen: list[dict] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return sorted(chosen, key=lambda record: str(record["id"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--count", type=int, default=35)
    args = parser.parse_args()
    chosen = pick(read_jsonl(args.source), args.count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as handle:
        for record in chosen:
            handle.write(json.dumps({k: record.get(k) for k in FIELDS}, ensure_ascii=False) + "\n")
    print(f"wrote {len(chosen)} articles to {args.out}")


if __name__ == "__main__":
    main()
