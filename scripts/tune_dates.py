"""Choose the date constants of ``index.search`` on the tune half of the date set.

    python scripts/tune_dates.py --index var/news-index [--split tune] [--dates eval/dates_dev.jsonl]

Grid over DATE_BOOST (added to the fused score of a candidate inside the question's range; a
large boost is the same as filtering to the range), DATE_MIN_SHARE (the best in-range candidate
must score this share of the best, else the date is not used) and LATEST_MIN_SHARE (the articles
"lo último" chooses the newest among). Prints, per setting, the share of questions whose answer's
first passage is from the expected article. The values written in index/search.py are on the
best plateau: the boost in its middle, the highest date share on it (a date alone must not
pick an unrelated article), the latest share in its middle. Prints the machine first.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import search  # noqa: E402
from index.date_eval import load_dates, score_item  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.settings import Settings  # noqa: E402
from scripts.bench_common import machine  # noqa: E402

BOOSTS = (0.1, 0.2, 0.3, 0.5, 1.0, 10.0)
DATE_SHARES = (0.0, 0.3, 0.5, 0.7, 0.9)
LATEST_SHARES = (0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--dates", type=Path, default=Path("eval/dates_dev.jsonl"))
    parser.add_argument("--split", default="tune", choices=["tune", "holdout", "all"])
    args = parser.parse_args()
    print(json.dumps(machine(("dateparser", "onnxruntime"))))
    engine = Engine.open(Settings().model_copy(update={"index_dir": args.index}))
    items = load_dates(args.dates, args.split)
    ranged = [i for i in items if i.kind != "latest"]
    latest = [i for i in items if i.kind == "latest"]
    print(f"{len(ranged)} questions with a date range, {len(latest)} asking for the latest ({args.split})")
    for boost, share in itertools.product(BOOSTS, DATE_SHARES):
        search.DATE_BOOST, search.DATE_MIN_SHARE = boost, share
        first = sum(score_item(engine, item)["dated"]["first"] for item in ranged)
        print(f"boost {boost:5.1f}  date share {share:.1f}: first {first / max(1, len(ranged)):.4f}")
    search.DATE_BOOST, search.DATE_MIN_SHARE = 1.0, 0.5
    for share in LATEST_SHARES:
        search.LATEST_MIN_SHARE = share
        first = sum(score_item(engine, item)["dated"]["first"] for item in latest)
        print(f"latest share {share:.1f}: first {first / max(1, len(latest)):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
