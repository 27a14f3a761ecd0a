#!/usr/bin/env python
"""Scale benchmark: build and serve a 1M-chunk index on this machine, and choose the FAISS index by size.

Two modes, each measurement in its own subprocess (RSS is per process):

``--sweep 100000,200000,500000,1000000`` -- vectors only. Exact ``IndexFlatIP`` against the
approximate index ``index.vectors.make_vector_index`` builds above ``flat_index_max`` (IVF-Flat,
several nprobe) and, with ``--hnsw``, HNSW-Flat (M 32, efConstruction 80): build time,
single-query search p50/p95 with one FAISS thread and k = settings.candidates (what
``retrieve`` asks for), recall@10 and @100 against exact search, on real SQuAD-es question
vectors. These numbers set ``settings.flat_index_max`` and the index type.

default -- a real index directory of ``--chunks`` chunks (default 1,000,000) written with the
library's code, then served by a fresh process through ``Engine`` with the real encoder:
build time, size on disk per file, RSS, search p50/p95 without the query embedding
(analyzer + ``retrieve`` + ``diverse`` on a precomputed query vector, one thread), full
``Engine.ask`` p50/p95, and recall@10 of the served FAISS index against exact (brute-force)
search on the same queries.

With ``--database-url postgresql://…`` the same corpus is written by the PostgreSQL backend's
writer (``index.pg_build._write``) as the current build of that database and served from it
(``Engine`` on ``ARTICLE_QA_DATABASE_URL``): build time by step, the tables' size on disk, the
same latencies, and recall of pgvector's index against the database's own exact search.

The corpus is scripts/bench_index.py's: real news chunks embedded once (its vector cache),
replicated with perturbed text and vectors (its ``replicate``). To keep the build under
``--max-rss-gb``, the replicated vectors are moved into memory-mapped scratch files
(``WORK/scale-scratch``) right after replication, so they are page cache, not process memory.

The index is written by the library's own ``index.build._write_build``, under an RSS watchdog
that stops the build above ``--max-rss-gb`` and reports the peak of every phase.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_scale.py --sweep 100000,200000,500000,1000000
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_scale.py --json var/bench/scale.json
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_scale.py --database-url "$(python scripts/local_postgres.py start var/pg-scale)"
"""
from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import faiss  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_index import (  # noqa: E402
    DEFAULT_CORPUS, DEFAULT_QA, _alias_text, _loadavg, _noisy, _table, attach_vectors, base_corpus, cache_key,
    corpus_texts, dir_size_mb, load_cache, machine, machine_line, percentiles, replicate, timed_parts, timed_question,
)
from index import build, store  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.vectors import make_vector_index  # noqa: E402
from index.token_match import load_basis  # noqa: E402

log = logging.getLogger("bench_scale")
MB = 2**20


# --------------------------------------------------------------------------- memory


def proc_status() -> dict[str, float]:
    """VmRSS (resident now), VmHWM (peak), RssAnon (heap, arrays) and RssFile (mapped files), in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def malloc_trim() -> None:
    """Give freed heap pages back to the OS (many small numpy arrays were just released)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


class RssProfile:
    """Samples VmRSS every 50 ms and keeps the peak of each phase; a watchdog above ``limit_mb``.

    Phases are marked by ``mark`` or by wrapping functions with ``wrap`` (the wrapper marks the
    phase on entry and "after <phase>" on exit), so the library's own writer can be profiled
    without changing it. Above the limit the process writes what it has to ``result`` and exits.
    """

    def __init__(self, limit_mb: float, on_limit: Callable[[dict], None]) -> None:
        # The limit applies to RssAnon (heap, arrays: memory the kernel cannot drop); VmRSS also
        # counts file-backed pages (the memory-mapped scratch vectors, the page cache of what is
        # being written), which the kernel reclaims under pressure. Both are recorded.
        self.limit_mb, self.on_limit = limit_mb, on_limit
        self.phases: list[dict[str, Any]] = []
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self.mark("start")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def mark(self, name: str) -> None:
        if self.phases and self.phases[-1]["phase"] == name:
            return
        now = proc_status()
        self.phases.append({"phase": name, "t_s": round(time.perf_counter() - self._started, 2),
                            "rss_start_mb": now["VmRSS"], "peak_mb": now["VmRSS"],
                            "anon_start_mb": now["RssAnon"], "peak_anon_mb": now["RssAnon"]})

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            now = proc_status()
            current = self.phases[-1]
            current["peak_mb"] = max(current["peak_mb"], now["VmRSS"])
            current["peak_anon_mb"] = max(current["peak_anon_mb"], now["RssAnon"])
            if now["RssAnon"] > self.limit_mb:
                current["stopped_by_watchdog"] = True
                self.on_limit(self.report())
                os._exit(3)

    def wrap(self, owner: Any, attr: str, name: str, when: str = "around", once: bool = False) -> None:
        """Mark ``name`` when ``owner.attr`` is called ("enter"), returns ("exit"), or both
        ("around": ``name`` on entry, "after <name>" on return); ``once``: only the first call."""
        original = getattr(owner, attr)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if once:
                setattr(owner, attr, original)
            if when in ("around", "enter"):
                self.mark(name)
            try:
                return original(*args, **kwargs)
            finally:
                if when != "enter":
                    self.mark(name if when == "exit" else f"after {name}")

        setattr(owner, attr, wrapped)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict[str, Any]:
        return {"limit_anon_mb": self.limit_mb, "phases": [dict(p) for p in self.phases],
                "peak_mb": max(p["peak_mb"] for p in self.phases),
                "peak_anon_mb": max(p["peak_anon_mb"] for p in self.phases)}


def profile_library_writer(profile: RssProfile) -> None:
    """Mark the steps of build._write_build (in its order) by wrapping what it calls."""
    profile.wrap(build, "_write_vectors", "concatenate chunk vectors")
    profile.wrap(build, "_faiss_index", "FAISS index (train + add)")
    profile.wrap(faiss, "write_index", "faiss.write_index")
    profile.wrap(build, "_write_sentence_vectors", "sentence vectors streamed to .npy")
    profile.wrap(build, "_write_metadata", "SQLite metadata")
    profile.wrap(build, "Analyzer", "BM25 terms of every chunk (list of lists)", when="exit")
    profile.wrap(build.Bm25Index, "build", "bm25s index")
    profile.wrap(build.Bm25Index, "save", "bm25s save")
    profile.wrap(store, "sha256_file", "manifest: sha256 of every file", when="enter")
    profile.wrap(store, "fsync_tree", "fsync")


# --------------------------------------------------------------------------- corpus


def replicated_vectors(base: np.ndarray, n: int, seed: int, sigma: float) -> np.ndarray:
    """n rows: the real vectors, then perturbed copies (bench_index._noisy), filled in place."""
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    pos, k = 0, 0
    while pos < n:
        m = min(len(base), n - pos)
        out[pos : pos + m] = base[:m] if k == 0 else _noisy(base[:m], np.random.default_rng([seed, k]), sigma)
        pos, k = pos + m, k + 1
    return out


def move_vectors_to_disk(prepared: list[build._Prepared], scratch: Path) -> tuple[np.ndarray, np.ndarray]:
    """Copy every article's vectors into two .npy files and point the articles at read-only memmap views.

    After replication the vectors are ~100k small arrays in the heap (1.5 GB + 2.3 GB at 1M
    chunks); as clean file-backed pages they cost nothing the kernel cannot drop. The heap is
    trimmed as the small arrays are released. Returns the two whole arrays (chunks, sentences),
    row-aligned with the build's rows.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    dim = prepared[0].chunk_vectors.shape[1]
    n_chunks = sum(len(p.chunk_vectors) for p in prepared)
    n_sents = sum(len(p.sentence_vectors) for p in prepared)
    paths = scratch / "chunks.npy", scratch / "sentences.npy"
    chunks = np.lib.format.open_memmap(paths[0], "w+", np.float32, (n_chunks, dim))
    sents = np.lib.format.open_memmap(paths[1], "w+", np.float32, (n_sents, dim))
    ci = si = 0
    spans = []
    for i, p in enumerate(prepared):
        c, s = len(p.chunk_vectors), len(p.sentence_vectors)
        chunks[ci : ci + c] = p.chunk_vectors
        sents[si : si + s] = p.sentence_vectors
        p.chunk_vectors = p.sentence_vectors = None
        spans.append((ci, c, si, s))
        ci, si = ci + c, si + s
        if i % 5000 == 4999:
            malloc_trim()
    chunks.flush()
    sents.flush()
    del chunks, sents  # unmapped: the written pages leave this process's RSS
    malloc_trim()
    chunks, sents = np.load(paths[0], mmap_mode="r"), np.load(paths[1], mmap_mode="r")
    for p, (ci, c, si, s) in zip(prepared, spans):
        p.chunk_vectors, p.sentence_vectors = chunks[ci : ci + c], sents[si : si + s]
    return chunks, sents


def prepared_corpus(args: argparse.Namespace, settings: Settings, size: int) -> list[build._Prepared]:
    base = base_corpus(settings, args.base_chunks, args.corpus)
    cached = load_cache(args.cache, cache_key(settings, *corpus_texts(base)))
    if cached is None:
        raise SystemExit(f"no valid vector cache at {args.cache}: run scripts/bench_index.py --skip-embed first")
    attach_vectors(base, *cached)
    return replicate(base, size, args.seed, args.drop, args.sigma)


# --------------------------------------------------------------------------- workers (subprocesses)


def _settings(args: argparse.Namespace, **update: Any) -> Settings:
    settings = Settings()
    if args.flat_index_max is not None:
        update["flat_index_max"] = args.flat_index_max
    return settings.model_copy(update=update)


def worker_build(args: argparse.Namespace) -> dict[str, Any]:
    """Replicate the corpus to ``size`` chunks and write it as the served build of ``index_dir``."""
    result: dict[str, Any] = {"size": args.size, "load_average_before": _loadavg()}

    def on_limit(profile_report: dict) -> None:
        result.update(memory=profile_report, failed=f"anonymous RSS above {args.max_rss_gb} GB")
        args.result.write_text(json.dumps(result, indent=1))

    profile = RssProfile(args.max_rss_gb * 1024, on_limit)
    index_dir = Path(args.index_dir)
    settings = _settings(args, index_dir=index_dir)
    started = time.perf_counter()
    profile.mark("replicate (bench_index.replicate)")
    prepared = prepared_corpus(args, settings, args.size)
    result["replicate_s"] = round(time.perf_counter() - started, 1)
    profile.mark("move vectors to memory-mapped scratch files")
    chunk_vecs, sent_vecs = move_vectors_to_disk(prepared, Path(args.scratch))
    result["before_write"] = proc_status()
    if args.database_url:
        return _build_postgres(args, settings, prepared, int(chunk_vecs.shape[1]), profile, result)
    shutil.rmtree(index_dir, ignore_errors=True)
    build_id = f"scale-{args.size}"
    tmp, final = index_dir / store.BUILDS / f".tmp-{build_id}", index_dir / store.BUILDS / build_id
    alias_text = _alias_text(settings)
    dim = int(chunk_vecs.shape[1])
    started = time.perf_counter()
    profile_library_writer(profile)
    writer = SimpleNamespace(dim=dim, backend="replicated", token_basis=load_basis(settings.model, dim))
    build._write_build(tmp, prepared, writer, settings, alias_text, time.monotonic())
    tmp.rename(final)
    store.switch_current(index_dir, final)
    result["write_s"] = round(time.perf_counter() - started, 1)
    profile.stop()
    manifest = store.read_manifest(final)
    files = {str(f.relative_to(final)): round(f.stat().st_size / MB, 1) for f in sorted(final.rglob("*")) if f.is_file()}
    result.update(articles=len(prepared), chunks=manifest["counts"]["chunks"],
                  sentences=manifest["counts"]["sentences"], faiss=manifest["faiss"],
                  disk_mb=dir_size_mb(final), files_mb=files, build_dir=str(final),
                  memory=profile.report(), status_end=proc_status(), load_average_after=_loadavg())
    return result


def _build_postgres(args: argparse.Namespace, settings: Settings, prepared: list[build._Prepared], dim: int,
                    profile: RssProfile, result: dict[str, Any]) -> dict[str, Any]:
    """Write the replicated corpus as the current build of ``--database-url`` with the library's
    own writer (``index.pg_build._write``: binary COPY, postings, indexes, VACUUM ANALYZE)."""
    import psycopg

    from index import pg_build
    from index.pg_schema import BUILD_LOCK_KEY, ensure_fixed_tables

    settings = settings.model_copy(update={"database_url": args.database_url})
    phases: list[tuple[str, float]] = []
    handler = _PhaseLog(phases)
    logging.getLogger("index.pg_build").addHandler(handler)
    logging.getLogger("index.pg_build").setLevel(logging.INFO)
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        ensure_fixed_tables(conn)
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()[0]:
            raise SystemExit("another build is running on that database")
        pg_build.collect_garbage(conn, keep_writing=False)
        build_id = f"scale{args.size}_{time.strftime('%Y%m%dt%H%M%S')}"
        started = time.perf_counter()
        profile.mark("write (index.pg_build._write)")
        writer = SimpleNamespace(dim=dim, backend="replicated", token_basis=load_basis(settings.model, dim))
        pg_build._write(conn, build_id, prepared, writer, settings, _alias_text(settings), time.monotonic(), None)
        result["write_s"] = round(time.perf_counter() - started, 1)
        profile.stop()
        pg_build.collect_garbage(conn, keep_writing=False)
        manifest = conn.execute("SELECT manifest FROM aqa_builds WHERE id = %s", (build_id,)).fetchone()[0]
        sizes = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 2 DESC",
            ("aqa_" + build_id,)).fetchall()
        server = dict(conn.execute("SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                                   "('shared_buffers', 'maintenance_work_mem', 'work_mem', "
                                   "'max_parallel_maintenance_workers', 'server_version')").fetchall())
    logging.getLogger("index.pg_build").removeHandler(handler)
    files = {name: round(size / MB, 1) for name, size in sizes}
    result.update(articles=len(prepared), chunks=manifest["counts"]["chunks"],
                  sentences=manifest["counts"]["sentences"], faiss=manifest["vectors"], build_id=build_id,
                  disk_mb=round(sum(files.values()), 1), files_mb=files, server=server,
                  write_phases_s=_phase_seconds(phases, started), memory=profile.report(),
                  status_end=proc_status(), load_average_after=_loadavg())
    return result


class _PhaseLog(logging.Handler):
    """Collects the PostgreSQL writer's phase lines (``index.pg_build`` logs each step)."""

    def __init__(self, phases: list[tuple[str, float]]) -> None:
        super().__init__(logging.INFO)
        self.phases = phases

    def emit(self, record: logging.LogRecord) -> None:
        self.phases.append((record.getMessage(), time.perf_counter()))


def _phase_seconds(phases: list[tuple[str, float]], started: float) -> dict[str, float]:
    """Each logged step's duration: from the previous line (or the start) to its own."""
    out, before = {}, started
    for message, at in phases:
        out[message] = round(at - before, 1)
        before = at
    return out


def load_questions(qa: Path, n: int, seed: int) -> list[str]:
    from index.evaluate import load_squad

    questions = [q.text for q in load_squad(Path(qa))[1]]
    return random.Random(seed).sample(questions, n)


def exact_top(index: faiss.Index, queries: np.ndarray, k: int, batch: int = 65536) -> np.ndarray:
    """Exact top-k rows by inner product over the vectors stored in ``index``, in row batches
    (reconstruct_n), so no second full copy of the vectors is held."""
    n = index.ntotal
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        scores = queries @ index.reconstruct_n(start, m).T
        top = np.argpartition(-scores, min(k, m) - 1, axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(scores, top, axis=1)], axis=1)
        cand_i = np.concatenate([best_i, top + start], axis=1)
        keep = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, keep, axis=1), np.take_along_axis(cand_i, keep, axis=1)
    return best_i


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return round(float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)])), 4)


def worker_serve(args: argparse.Namespace) -> dict[str, Any]:
    """A fresh process serving the index like the bot: Engine + real encoder, one thread per query;
    the index folder, or with ``--database-url`` the database."""
    from index.embedding import Encoder
    from index.engine import Engine

    where = {"database_url": args.database_url} if args.database_url else {"index_dir": Path(args.index_dir)}
    settings = _settings(args, threads=1, **where)
    status: dict[str, dict] = {"python + imports": proc_status()}
    started = time.perf_counter()
    encoder = Encoder(settings, threads=settings.threads)
    encoder_s = time.perf_counter() - started
    status["encoder loaded"] = proc_status()
    started = time.perf_counter()
    engine = Engine.open(settings, encoder)  # the folder's checksums verified, like the bot
    open_s = time.perf_counter() - started
    status["index opened"] = proc_status()
    stored = engine._index()
    s = settings
    k = min(s.candidates, stored.size)
    sample = load_questions(args.qa, args.warmup + args.questions, args.seed)
    vectors, dense_rows, answered = [], [], []

    def one(question: str, keep: bool) -> dict[str, float]:
        t, vector, ranked, answer = timed_question(engine, encoder, stored, s, question)
        t.update(timed_parts(stored, s, question, vector, ranked))
        if keep:
            vectors.append(vector)
            dense_rows.append(stored.dense_top(vector, k)[0])
            answered.append(answer.answered)
        return t

    for question in sample[: args.warmup]:
        one(question, keep=False)
    load_before = _loadavg()
    timings = [one(q, keep=True) for q in sample[args.warmup :]]
    status["after queries"] = proc_status()
    result: dict[str, Any] = {
        "questions": len(timings), "warmup": args.warmup, "threads": settings.threads,
        "faiss_omp_threads": faiss.omp_get_max_threads(), "embed_backend": encoder.backend,
        "faiss": stored.manifest.get("faiss") or stored.manifest["vectors"], "encoder_load_s": round(encoder_s, 2),
        "engine_open_s": round(open_s, 2), "status": status, "answered_share": round(sum(answered) / len(answered), 3),
        "load_average_before": load_before, "load_average_after": _loadavg()}
    for stage in timings[0]:
        result[f"{stage}_ms"] = percentiles([t[stage] for t in timings])
    # Recall of the served (approximate) index against exact search on the same query vectors.
    started = time.perf_counter()
    if args.database_url:
        truth = np.vstack([_exact_rows(stored, v, k) for v in vectors])
    else:
        truth = exact_top(stored.vectors, np.vstack(vectors).astype(np.float32), k)
    found = np.vstack([np.pad(r, (0, k - len(r)), constant_values=-1) for r in dense_rows])
    result.update(recall_at_10=recall_at(found, truth, 10), recall_at_100=recall_at(found, truth, k),
                  recall_s=round(time.perf_counter() - started, 1))
    return result


def _exact_rows(stored: Any, vector: np.ndarray, k: int) -> np.ndarray:
    """The exact top k by the database itself: the same query with index scans off (a full scan)."""
    from psycopg import sql

    with stored._conn() as conn, conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")
        found = conn.execute(sql.SQL("SELECT row FROM {s}.chunks ORDER BY embedding <#> %s::vector LIMIT %s").format(
            s=stored._schema), (np.asarray(vector, dtype=np.float32), k)).fetchall()
    return np.array([r for (r,) in found], dtype=np.int64)


def worker_queries(args: argparse.Namespace) -> dict[str, Any]:
    """Embed the sweep's questions once (the real encoder), cached as a .npy next to the results."""
    from index.embedding import Encoder

    settings = _settings(args, threads=1)
    questions = load_questions(args.qa, args.warmup + args.questions, args.seed)
    encoder = Encoder(settings, threads=1)
    vectors = encoder.encode_queries(questions)
    np.save(args.queries, vectors.astype(np.float32), allow_pickle=False)
    return {"questions": len(questions), "model": settings.model, "backend": encoder.backend}


def _latency(index: faiss.Index, queries: np.ndarray, warmup: int, k: int) -> tuple[dict[str, float], np.ndarray]:
    """Single-query search with one FAISS thread, as served; returns p50/p95 and the rows found."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # one FAISS thread per query, as Engine sets it
    try:
        for q in queries[:warmup]:
            index.search(q.reshape(1, -1), k)
        times, rows = [], []
        for q in queries[warmup:]:
            t0 = time.perf_counter()
            _, found = index.search(q.reshape(1, -1), k)
            times.append(time.perf_counter() - t0)
            rows.append(found[0])
    finally:
        faiss.omp_set_num_threads(previous)
    return percentiles(times), np.vstack(rows)


def worker_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """One size of the sweep: exact vs IVF (vs HNSW) on the same replicated vectors and queries."""
    settings = _settings(args)
    k = settings.candidates
    base = base_corpus(settings, args.base_chunks, args.corpus)
    cached = load_cache(args.cache, cache_key(settings, *corpus_texts(base)))
    if cached is None:
        raise SystemExit(f"no valid vector cache at {args.cache}")
    vectors = replicated_vectors(cached[0], args.size, args.seed, args.sigma)
    del cached
    queries = np.load(args.queries)
    result: dict[str, Any] = {"size": args.size, "k": k, "load_average_before": _loadavg()}
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    result["flat"] = {"build_s": round(time.perf_counter() - started, 1)}
    result["flat"]["search_ms"], truth = _latency(flat, queries, args.warmup, k)
    del flat
    rows = {}
    started = time.perf_counter()
    ivf, info = make_vector_index(vectors, settings.model_copy(update={"flat_index_max": 0}))
    result["ivf"] = {**info, "build_s": round(time.perf_counter() - started, 1)}
    for nprobe in args.nprobes:
        faiss.extract_index_ivf(ivf).nprobe = nprobe
        timing, rows = _latency(ivf, queries, args.warmup, k)
        result["ivf"][f"at_nprobe_{nprobe}"] = {"search_ms": timing, "recall_at_10": recall_at(rows, truth, 10),
                                             "recall_at_100": recall_at(rows, truth, k)}
    del ivf
    if args.hnsw:
        started = time.perf_counter()
        previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(vectors)
        faiss.omp_set_num_threads(previous)
        result["hnsw"] = {"m": 32, "ef_construction": 80, "build_s": round(time.perf_counter() - started, 1)}
        for ef in args.ef_search:
            hnsw.hnsw.efSearch = ef
            timing, rows = _latency(hnsw, queries, args.warmup, k)
            result["hnsw"][f"at_ef_search_{ef}"] = {"search_ms": timing, "recall_at_10": recall_at(rows, truth, 10),
                                          "recall_at_100": recall_at(rows, truth, k)}
        del hnsw
    result.update(load_average_after=_loadavg(), status_end=proc_status())
    return result


WORKERS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "build": worker_build, "serve": worker_serve, "queries": worker_queries, "sweep": worker_sweep}


def run_worker(args: argparse.Namespace, name: str, tag: str, options: dict[str, Any],
               allow_failure: bool = False) -> dict[str, Any]:
    """One measurement in a fresh interpreter; stderr to WORK/logs/<tag>.log, result as JSON."""
    result_path, log_path = args.work / f"scale-{tag}.result.json", args.work / "logs" / f"scale-{tag}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    common = {"seed": args.seed, "corpus": args.corpus, "qa": args.qa, "base_chunks": args.base_chunks, "cache": args.cache, "drop": args.drop,
              "sigma": args.sigma, "max_rss_gb": args.max_rss_gb, "questions": args.questions,
              "warmup": args.warmup, "work": args.work}
    if args.flat_index_max is not None:
        common["flat_index_max"] = args.flat_index_max
    cmd = [sys.executable, __file__, "--worker", name, "--result", str(result_path)]
    for key, value in {**common, **options}.items():
        if isinstance(value, bool):
            cmd += [f"--{key.replace('_', '-')}"] if value else []
        elif isinstance(value, (list, tuple)):
            cmd += [f"--{key.replace('_', '-')}", ",".join(str(v) for v in value)]
        else:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    print(f"  … {tag} (log: {log_path})", file=sys.stderr, flush=True)
    with open(log_path, "w") as log_file:
        code = subprocess.run(cmd, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    result = json.loads(result_path.read_text()) if result_path.is_file() else None
    if code != 0 and not (allow_failure and result):
        tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-20:])
        raise SystemExit(f"worker {tag} failed (exit {code}); last lines of {log_path}:\n{tail}")
    result_path.unlink(missing_ok=True)
    assert result is not None
    result["exit_code"] = code
    return result


# --------------------------------------------------------------------------- report


def _pct(d: dict[str, float], digits: int = 1) -> str:
    return f"{d['p50']:.{digits}f} / {d['p95']:.{digits}f}"


def report_sweep(rows: list[dict[str, Any]]) -> str:
    out = [f"FAISS index by size: single-query search, 1 FAISS thread, k = {rows[0]['k']}, "
           f"{rows[0].get('questions', '')} real SQuAD-es question vectors; p50 / p95 ms; recall against exact search"]
    table = []
    for r in rows:
        table.append([f"{r['size']:,}", "flat_ip (exact)", "", f"{r['flat']['build_s']:.1f}",
                      _pct(r["flat"]["search_ms"], 2), "1", "1"])
        ivf = r["ivf"]
        for key, v in ivf.items():
            if key.startswith("at_nprobe_"):
                table.append(["", f"ivf_flat_ip nlist {ivf['nlist']}", f"nprobe {key[10:]}", f"{ivf['build_s']:.1f}",
                              _pct(v["search_ms"], 2), f"{v['recall_at_10']:.3f}", f"{v['recall_at_100']:.3f}"])
        for key, v in r.get("hnsw", {}).items():
            if key.startswith("at_ef_search_"):
                table.append(["", "hnsw_flat_ip M 32 efC 80", f"efSearch {key[13:]}", f"{r['hnsw']['build_s']:.1f}",
                              _pct(v["search_ms"], 2), f"{v['recall_at_10']:.3f}", f"{v['recall_at_100']:.3f}"])
    out.append(_table(["chunks", "index", "search param", "build s", "search ms", "recall@10", "recall@k"], table))
    out.append("load average (1 min) before/after each size: " + ", ".join(
        f"{r['size']:,}: {r['load_average_before'][0]:.1f}/{r['load_average_after'][0]:.1f}" for r in rows))
    return "\n".join(out)


def phase_line(memory: dict[str, Any]) -> str:
    phases = memory["phases"]
    ends = [p["t_s"] for p in phases[1:]] + [None]
    return "by phase: seconds, peak RSS MB anonymous / incl. file-backed: " + "; ".join(
        f"{p['phase']} {'' if end is None else '%.0f s, ' % (end - p['t_s'])}{p['peak_anon_mb']:,.0f} / {p['peak_mb']:,.0f}"
        for p, end in zip(phases, ends) if not p["phase"].startswith("after ") and p["phase"] != "start")


def report_scale_pg(result: dict[str, Any]) -> str:
    b, s = result["build"], result["serve"]
    st = s["status"]["after queries"]
    return "\n".join([
        f"PostgreSQL {b['server'].get('server_version', '?')} build of {b['chunks']:,} chunks ({b['articles']:,} articles, "
        f"{b['sentences']:,} sentences), vectors {json.dumps(b['faiss'])}; server settings "
        + ", ".join(f"{k} {v}" for k, v in sorted(b["server"].items()) if k != "server_version"),
        f"Build: replicate {b['replicate_s']:.0f} s (not part of a real build), write {b['write_s']:.0f} s with the "
        f"library writer (index.pg_build._write); builder peak RSS {b['memory']['peak_anon_mb']:,.0f} MB anonymous; "
        f"load average (1 min) {b['load_average_before'][0]:.1f} -> {b['load_average_after'][0]:.1f}",
        "  by step: " + "; ".join(f"{k.split(': ', 1)[-1]}" for k in b["write_phases_s"]),
        f"Disk (tables with their indexes and TOAST): {b['disk_mb']:,.0f} MB = "
        + ", ".join(f"{k} {v:,.0f}" for k, v in b["files_mb"].items()),
        f"Serving process (fresh, Engine.open in {s['engine_open_s']:.1f} s, {s['embed_backend']} encoder, "
        f"{s['threads']} thread): RSS after {s['questions']} queries {st['VmRSS']:,.0f} MB",
        f"Search without the query embedding (analyzer + retrieve + diverse), p50 / p95 ms: {_pct(s['search_ms'])}",
        f"  parts re-run alone: bm25 {_pct(s['bm25_ms'], 2)}, dense top-{min(100, b['chunks'])} "
        f"{_pct(s['faiss_ms'], 2)}, rescore 100 {_pct(s['rescore_100_ms'], 2)}, diverse {_pct(s['diverse_ms'], 2)}",
        f"Query embedding {_pct(s['embed_ms'])}; full Engine.ask {_pct(s['ask_ms'])} ms; answered {s['answered_share']:.0%}",
        f"Recall of the vector index against exact search, same {s['questions']} queries: "
        f"@10 {s['recall_at_10']:.3f}, @100 {s['recall_at_100']:.3f}",
        f"Load average (1 min) during serving: {s['load_average_before'][0]:.1f} -> {s['load_average_after'][0]:.1f}",
    ])


def report_scale(result: dict[str, Any]) -> str:
    b, s = result["build"], result["serve"]
    if "write_phases_s" in b:
        return report_scale_pg(result)
    out = [f"Index of {b['chunks']:,} chunks ({b['articles']:,} articles, {b['sentences']:,} sentences), "
           f"FAISS {json.dumps(b['faiss'])}"]
    out.append(f"Build: replicate {b['replicate_s']:.0f} s (not part of a real build), write {b['write_s']:.0f} s "
               f"with the library writer (FAISS train + add, files, SQLite, BM25, sha256, fsync); "
               f"build process peak RSS {b['memory']['peak_anon_mb']:,.0f} MB anonymous, "
               f"{b['memory']['peak_mb']:,.0f} MB incl. file-backed pages; load average (1 min) "
               f"{b['load_average_before'][0]:.1f} -> {b['load_average_after'][0]:.1f}")
    out.append("  " + phase_line(b["memory"]))
    out.append(f"Disk: {b['disk_mb']:,.0f} MB = " + ", ".join(f"{k} {v:,.0f}" for k, v in b["files_mb"].items()
                                                           if v >= 0.5 or "/" not in k))
    st = s["status"]
    out.append(f"Serving process (fresh, Engine.open with checksums in {s['engine_open_s']:.1f} s, "
               f"{s['embed_backend']} encoder, {s['threads']} thread per query, faiss omp threads "
               f"{s['faiss_omp_threads']}): RSS after {s['questions']} queries {st['after queries']['VmRSS']:,.0f} MB "
               f"(anon {st['after queries']['RssAnon']:,.0f}, file-backed {st['after queries']['RssFile']:,.0f}), "
               f"peak {st['after queries']['VmHWM']:,.0f} MB; encoder alone {st['encoder loaded']['VmRSS']:,.0f} MB")
    out.append(f"Search without the query embedding (analyzer + retrieve + diverse), p50 / p95 ms: {_pct(s['search_ms'])}")
    out.append(f"  parts re-run alone: bm25 {_pct(s['bm25_ms'], 2)}, faiss top-{min(100, b['chunks'])} "
               f"{_pct(s['faiss_ms'], 2)}, rescore 100 {_pct(s['rescore_100_ms'], 2)}, diverse {_pct(s['diverse_ms'], 2)}")
    out.append(f"Query embedding {_pct(s['embed_ms'])}; full Engine.ask {_pct(s['ask_ms'])} ms; "
               f"answered {s['answered_share']:.0%}")
    out.append(f"Recall of the served FAISS index against exact search, same {s['questions']} queries: "
               f"@10 {s['recall_at_10']:.3f}, @100 {s['recall_at_100']:.3f}")
    rss = st["after queries"]["VmRSS"]
    out.append(f"Targets: RSS <= 4096 MB: {'met' if rss <= 4096 else 'NOT met'} ({rss:,.0f}); "
               f"search p50 <= 20 ms: {'met' if s['search_ms']['p50'] <= 20 else 'NOT met'} ({s['search_ms']['p50']:.1f})")
    out.append(f"Load average (1 min) during serving: {s['load_average_before'][0]:.1f} -> {s['load_average_after'][0]:.1f}")
    return "\n".join(out)


# --------------------------------------------------------------------------- CLI


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1_000_000, help="chunks in the built index")
    parser.add_argument("--sweep", type=_ints, help="vector-only index comparison at these sizes instead")
    parser.add_argument("--hnsw", action="store_true", help="include HNSW-Flat in the sweep")
    parser.add_argument("--nprobes", type=_ints, default=[16, 32, 64], help="IVF nprobe values in the sweep")
    parser.add_argument("--ef-search", type=_ints, default=[128, 256], help="HNSW efSearch values in the sweep")
    parser.add_argument("--max-rss-gb", type=float, default=14.0, help="a build above this RSS is stopped")
    parser.add_argument("--flat-index-max", type=int, help="override settings.flat_index_max")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop", type=float, default=0.10)
    parser.add_argument("--sigma", type=float, default=0.02)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="news articles (JSONL), as for bench_index")
    parser.add_argument("--qa", type=Path, default=DEFAULT_QA, help="SQuAD-format file whose questions are asked")
    parser.add_argument("--base-chunks", type=int, default=2000, help="real chunks (bench_index --chunks)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="scratch directory (git-ignored)")
    parser.add_argument("--cache", type=Path, help="bench_index's vector cache (default WORK/vectors.npz)")
    parser.add_argument("--keep-index", action="store_true", help="keep the built index (WORK/index-scale-N)")
    parser.add_argument("--json", type=Path, dest="json_out", help="write every number here")
    parser.add_argument("--database-url", help="build and serve on this PostgreSQL database instead of a folder")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--queries", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.cache = args.cache or args.work / "vectors.npz"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.worker:
        args.result.write_text(json.dumps(WORKERS[args.worker](args), indent=1))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = _settings(args)
    result: dict[str, Any] = {"machine": machine(), "settings": {
        "flat_index_max": settings.flat_index_max, "ivf_nprobe": settings.ivf_nprobe,
        "candidates": settings.candidates, "top_k": settings.top_k, "threads": settings.threads,
        "embed_backend": settings.embed_backend, "model": settings.model},
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                   if k not in ("worker", "result", "size", "index_dir", "scratch", "queries", "database_url")}}
    text = [machine_line(result["machine"]), ""]
    if args.sweep:
        queries = args.work / "scale-queries.npy"
        result["queries"] = run_worker(args, "queries", "queries", {"queries": queries})
        rows = []
        for size in args.sweep:
            rows.append(run_worker(args, "sweep", f"sweep-{size}", {
                "size": size, "queries": queries, "hnsw": args.hnsw, "nprobes": args.nprobes,
                "ef_search": args.ef_search}))
            rows[-1]["questions"] = args.questions
            print(report_sweep(rows[-1:]), file=sys.stderr, flush=True)
        result["sweep"] = rows
        text.append(report_sweep(rows))
    else:
        index_dir = args.work / f"index-scale-{args.chunks}"
        scratch = args.work / "scale-scratch"
        pg = {"database_url": args.database_url} if args.database_url else {}
        try:
            result["build"] = run_worker(args, "build", f"build-{args.chunks}", {
                "size": args.chunks, "index_dir": index_dir, "scratch": scratch, **pg},
                allow_failure=True)
            if result["build"].get("failed"):
                mem = result["build"]["memory"]
                text.append(f"Build of {args.chunks:,} chunks STOPPED: "
                            f"{result['build']['failed']}; {phase_line(mem)}")
            else:
                result["serve"] = run_worker(args, "serve", f"serve-{args.chunks}", {"index_dir": index_dir, **pg})
                text.append(report_scale(result))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if not args.keep_index:
            shutil.rmtree(index_dir, ignore_errors=True)
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["table"] = "\n".join(text)
    print(result["table"])
    print(f"\n(total {result['total_s']:.0f} s)")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
