#!/usr/bin/env python
"""Choose the fusion and re-ranking weights on the 'tune' half of a SQuAD file (by article).

The answer-sentence weights and the outcome thresholds are chosen by scripts/tune_answer.py.

The 'holdout' half is never looked at here: report it afterwards with
``python -m index eval --qa FILE --split holdout``. Query vectors are computed once and
cached, so each grid point costs only search + answer time.

    python scripts/tune_search.py --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json \
        --work var/eval-v1.1 --sample 1000 --out var/results/tune-v1.1.json
    python scripts/tune_search.py --keep-fusion --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json \
        --work var/eval-v1.1 --sample 1000 --out var/results/tune-rerank-v1.1.json
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path


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
NO_REFUSAL = {"refusal_threshold": float("-inf"), "refusal_min_coverage": 0.0}


def run(engine: Engine, questions: list, k: int = 10) -> dict:
    return summarise([score_question(q, engine.ask(q.text, top_k=k), k) for q in questions], k)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=1000, help="tune questions used per grid point")
    parser.add_argument("--out", type=Path, help="write the grid results as JSON")
    parser.add_argument("--keep-fusion", action="store_true",
                        help="skip the fusion grid: tune re-ranking with the configured fusion weights")
    args = parser.parse_args()
    articles, all_questions = load_squad(args.qa)
    settings = build_eval_index(Settings(), articles, work=args.work)
    questions = [q for q in all_questions if split_of(q.group) == "tune"]
    questions = random.Random(0).sample(questions, min(args.sample, len(questions)))
    encoder = QueryCache(Encoder(settings), max_size=None)  # the same questions at every grid point
    encoder.encode_queries([q.text for q in questions])
    stored = StoredIndex.open(settings.index_dir, settings.model)
    grid: dict = {"fusion": []}

    def engine_with(**updates) -> Engine:
        engine = Engine(settings.model_copy(update=updates), encoder)  # type: ignore[arg-type]
        engine._stored = stored
        return engine

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
    grid["chosen"] = fusion
    print("chosen:", json.dumps(grid["chosen"]))
    if args.out:
        args.out.write_text(json.dumps(grid, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
