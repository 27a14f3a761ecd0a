#!/usr/bin/env python
"""Why the first passage is wrong: a breakdown of the paragraph Recall@1 misses on a SQuAD file.

For every question whose first passage comes from another paragraph, it records where the
gold paragraph ranked, whether the wrong paragraph is from the same Wikipedia article, and
whether the wrong passage holds at least as much evidence as the gold one on each signal the
ranking uses (the passage's share of the question's idf weight, its best sentence's share,
the chunk's cosine with the question). A miss where the wrong passage wins on every signal
cannot be fixed by re-weighting them; it needs a model that reads the question against the
passage. Runs on the tune half by default, like tune_search.py.

    python scripts/diagnose_misses.py --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json \\
        --work var/eval-v1.1 --json var/results/misses-v1.1-tune.json
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.coverage import best_coverage, coverage  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import Question, build_eval_index, load_squad, split_of  # noqa: E402
from index.records import Hit  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.storage import Storage  # noqa: E402


def evidence(stored: Storage, terms: list[str], idf: dict[str, float], hit: Hit) -> dict[str, float]:
    """The ranking's signals for one passage: its idf share, its best sentence's (with the title), its cosine."""
    title = set(stored.analyzer.document_terms(hit.title))
    return {"passage_share": coverage(terms, set(stored.analyzer.document_terms(hit.text)) | title, idf),
            # the re-ranking's own signal; a Hit carries the fields of the chunk it came from
            "sentence_share": best_coverage(stored, terms, idf, hit), "cosine": hit.dense}


def diagnose(engine: Engine, stored: Storage, q: Question, group_of: dict[str, str], k: int) -> dict | None:
    """None for a hit at rank 1; else what the miss looks like."""
    hits = engine.search(q.text, top_k=k)
    if hits and hits[0].article_id == q.article_id:
        return None
    row: dict = {"id": q.id, "question": q.text, "gold_rank": None, "same_article": False, "wrong_wins": {}}
    if not hits:
        return row
    row["same_article"] = group_of.get(hits[0].article_id) == q.group
    ranks = [i for i, h in enumerate(dict.fromkeys(h.article_id for h in hits)) if h == q.article_id]
    row["gold_rank"] = ranks[0] + 1 if ranks else None
    gold = next((h for h in hits if h.article_id == q.article_id), None)
    if gold is not None:
        terms = stored.analyzer.terms(q.text)
        idf = stored.idf(terms)
        wrong, right = evidence(stored, terms, idf, hits[0]), evidence(stored, terms, idf, gold)
        row["wrong_wins"] = {name: wrong[name] >= right[name] for name in wrong}
    return row


def summary(misses: list[dict], total: int) -> dict:
    counts: Counter = Counter()
    for m in misses:
        counts["same Wikipedia article"] += m["same_article"]
        rank = m["gold_rank"]
        counts["gold at rank 2-5" if rank and rank <= 5 else "gold at rank 6-10" if rank else "gold not in top 10"] += 1
        wins = m["wrong_wins"]
        for name, won in wins.items():
            counts[f"wrong passage >= gold on {name}"] += won
        counts["wrong passage >= gold on every signal"] += bool(wins) and all(wins.values())
    return {"questions": total, "recall@1": round(1 - len(misses) / max(1, total), 4), "misses": len(misses),
            "breakdown": {name: {"count": n, "share_of_misses": round(n / max(1, len(misses)), 3)}
                          for name, n in sorted(counts.items())}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--split", choices=["tune", "holdout", "all"], default="tune")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--json", type=Path, help="write the summary and every miss as JSON")
    args = parser.parse_args()
    articles, all_questions = load_squad(args.qa)
    group_of = {q.article_id: q.group for q in all_questions}
    questions = [q for q in all_questions
                 if not q.impossible and (args.split == "all" or split_of(q.group) == args.split)]
    settings = build_eval_index(Settings(), articles, work=args.work)
    engine = Engine.open(settings)
    stored = engine._index()  # the one the engine serves (as bench_scale.py does), not a second load
    misses = [m for q in tqdm(questions, desc="questions", unit="q")
              if (m := diagnose(engine, stored, q, group_of, args.top_k)) is not None]
    result = summary(misses, len(questions))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps({**result, "misses": misses}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
