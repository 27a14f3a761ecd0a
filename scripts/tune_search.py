#!/usr/bin/env python
"""Choose the fusion and answer weights on the 'tune' half of a SQuAD file (by article).

The 'holdout' half is never looked at here: report it afterwards with
``python -m index eval --qa FILE --split holdout``. Query vectors are computed once and
cached, so each grid point costs only search + answer time.

    python scripts/tune_search.py --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json \
        --work var/eval-v1.1 --sample 1000 --out var/results/tune-v1.1.json
    python scripts/tune_search.py --keep-fusion --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json \
        --work var/eval-v1.1 --sample 1000 --out var/results/tune-answer-v1.1.json
    python scripts/tune_search.py --refusal --qa ../shared/data/squad_es_dev/squad_es-v2.0-dev-small.noxquad.json \
        --work var/eval-v2.0 --sample 1200 --out var/results/tune-refusal-v2.0.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embedding import Encoder, QueryCache  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import build_eval_index, load_squad, score_question, split_of, summarise  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import StoredIndex  # noqa: E402


# (chunk dense weight, best-sentence dense weight); BM25 gets the rest.
FUSION_GRID = [(d, s) for d in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7) for s in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
               if d + s <= 0.9]
RERANK_GRID = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
NO_REFUSAL = {"refusal_threshold": 0.0, "refusal_min_coverage": 0.0}


def run(engine: Engine, questions: list, k: int = 10) -> dict:
    return summarise([score_question(q, engine.ask(q.text, top_k=k), k) for q in questions], k)


MIN_ANSWERABLE_KEPT = 0.90  # the refusal rule: refuse as many unanswerable as possible while keeping this


def refusal_grid(engine_with, questions: list, out: Path | None) -> int:
    """Answerable questions kept vs unanswerable refused, for a grid of the two refusal settings;
    chosen: the pair refusing the most unanswerable questions while keeping MIN_ANSWERABLE_KEPT."""
    # Thresholds at quantiles of the best-sentence score, so the grid follows the model's score scale.
    unrefused = [score_question(q, engine_with(**NO_REFUSAL).ask(q.text, top_k=10), 10) for q in questions]
    scores = np.array([r["confidence"] for r in unrefused])
    thresholds = sorted({0.0, *(round(float(np.quantile(scores, p)), 3) for p in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4))})
    rows = []
    for threshold, coverage in itertools.product(thresholds, [0.0, 0.3, 0.4, 0.5]):
        m = run(engine_with(refusal_threshold=threshold, refusal_min_coverage=coverage), questions)
        row = {"refusal_threshold": threshold, "refusal_min_coverage": coverage,
               "answerable_kept": m["answerable_answered"], "unanswerable_refused": m["refusal"]["recall"],
               "refusal_precision": m["refusal"]["precision"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    eligible = [r for r in rows if r["answerable_kept"] >= MIN_ANSWERABLE_KEPT] or rows
    chosen = max(eligible, key=lambda r: (r["unanswerable_refused"], r["answerable_kept"]))
    print("chosen:", json.dumps(chosen))
    if out:
        out.write_text(json.dumps({"refusal": rows, "chosen": chosen}, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=1000, help="tune questions used per grid point")
    parser.add_argument("--out", type=Path, help="write the grid results as JSON")
    parser.add_argument("--refusal", action="store_true",
                        help="calibrate the refusal thresholds instead (needs a SQuAD 2.0 file)")
    parser.add_argument("--keep-fusion", action="store_true",
                        help="skip the fusion grid: tune re-ranking and answer weights with the configured fusion weights")
    args = parser.parse_args()
    articles, all_questions = load_squad(args.qa)
    settings = build_eval_index(Settings(), articles, work=args.work)
    questions = [q for q in all_questions if split_of(q.group) == "tune"]
    questions = random.Random(0).sample(questions, min(args.sample, len(questions)))
    encoder = QueryCache(Encoder(settings), max_size=None)  # the same questions at every grid point
    encoder.encode_queries([q.text for q in questions])
    stored = StoredIndex.open(settings.index_dir, settings.model)
    grid: dict = {"fusion": [], "answer": []}

    def engine_with(**updates) -> Engine:
        engine = Engine(settings.model_copy(update=updates), encoder)  # type: ignore[arg-type]
        engine._stored = stored
        return engine

    if args.refusal:
        return refusal_grid(engine_with, questions, args.out)
    grid_points = [] if args.keep_fusion else FUSION_GRID
    for weight, sentence in grid_points:
        m = run(engine_with(dense_weight=weight, sentence_weight=sentence, **NO_REFUSAL), questions)
        row = {"dense_weight": weight, "sentence_weight": sentence, **m["paragraph"],
               "answer": m["answer_sentence_contains_gold"]}
        grid["fusion"].append(row)
        print(json.dumps(row), flush=True)
    best = max(grid["fusion"], key=lambda r: (r["recall@1"], r["mrr@10"])) if grid_points else \
        {"dense_weight": settings.dense_weight, "sentence_weight": settings.sentence_weight}
    fusion = {"dense_weight": best["dense_weight"], "sentence_weight": best["sentence_weight"]}
    grid["rerank"] = []
    for weight in RERANK_GRID:
        m = run(engine_with(**fusion, rerank_weight=weight, **NO_REFUSAL), questions)
        row = {"rerank_weight": weight, **m["paragraph"], "answer": m["answer_sentence_contains_gold"]}
        grid["rerank"].append(row)
        print(json.dumps(row), flush=True)
    fusion["rerank_weight"] = max(grid["rerank"], key=lambda r: (r["recall@1"], r["mrr@10"]))["rerank_weight"]
    for lex, dense, passage, kind in itertools.product([0.4, 0.6], [0.2, 0.4], [0.1, 0.3, 0.5], [0.0, 0.1]):
        m = run(engine_with(**fusion, answer_lexical_weight=lex, answer_dense_weight=dense,
                            answer_passage_weight=passage, answer_kind_weight=kind, **NO_REFUSAL), questions)
        row = {"lexical": lex, "dense": dense, "passage": passage, "kind": kind,
               "answer": m["answer_sentence_contains_gold"]}
        grid["answer"].append(row)
        print(json.dumps(row), flush=True)
    best_answer = max(grid["answer"], key=lambda r: r["answer"])
    grid["chosen"] = {**fusion, **{f"answer_{k}_weight": best_answer[k]
                                                      for k in ("lexical", "dense", "passage", "kind")}}
    print("chosen:", json.dumps(grid["chosen"]))
    if args.out:
        args.out.write_text(json.dumps(grid, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
