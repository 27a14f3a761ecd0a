#!/usr/bin/env python
"""Benchmark the index: embedding throughput (torch vs ONNX) and search latency at 1k-100k chunks.

The numbers are the ones docs/performance.md quotes, so everything here goes through the library's own
code paths: ``Encoder`` for embedding, ``build._write_build`` + ``store.switch_current`` for
the on-disk index, ``Engine``/``retrieve``/``diverse`` for queries.

Large indexes are synthetic but realistic: the real news articles are embedded once (vectors
cached in ``var/bench/vectors.npz``), then replicated with perturbed text (~10% of words
dropped) and perturbed vectors (Gaussian noise, re-normalised), so no size needs re-embedding.
Every measurement that reports a peak RSS runs in its own subprocess (``ru_maxrss`` is a
per-process high-water mark).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_index.py --json var/bench/index.json
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import store  # noqa: E402
from index.build import _Prepared, _prepare, _write_build, attach_vectors  # noqa: E402
from index.token_match import load_basis  # noqa: E402
from index.ingest import load_articles  # noqa: E402
from index.normalise import content_hash  # noqa: E402
from index.records import Sentence  # noqa: E402
from index.settings import Settings  # noqa: E402
from bench_common import machine as common_machine  # noqa: E402

# Inputs, not dependencies: by default the shared data folder beside the repo (--corpus, --qa).
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_CORPUS = SHARED_DATA / "news_es" / "true_news.jsonl"
DEFAULT_QA = SHARED_DATA / "squad_es_dev" / "squad_es-v1.1-dev-small.noxquad.json"
BACKENDS = ("torch", "onnx")
MATCH_MIN_COSINE = 0.99
FOLLOWUPS = ("¿Y quién lo dijo?", "¿Y cuándo fue eso?", "¿Por qué?", "¿Y dónde?")
WORD = re.compile(r"\S+")

log = logging.getLogger("bench_index")


# --------------------------------------------------------------------------- machine



def machine() -> dict[str, Any]:
    return common_machine(("torch", "faiss-cpu", "sentence-transformers", "onnxruntime", "optimum", "numpy", "bm25s"))


def machine_line(m: dict[str, Any]) -> str:
    v = m["versions"]
    return (f"Machine: nproc {m['nproc']}, {m['cpu_model']}, {m['ram_gib']} GiB RAM, load average at start "
            f"{'/'.join(str(x) for x in m['load_average_at_start'])}\n"
            f"Versions: Python {v['python']}, torch {v['torch']}, faiss-cpu {v['faiss-cpu']}, "
            f"sentence-transformers {v['sentence-transformers']}, onnxruntime {v['onnxruntime']}, "
            f"numpy {v['numpy']}, bm25s {v['bm25s']}")


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds."""
    ms = np.asarray(samples_s, dtype=np.float64) * 1000
    return {"p50": round(float(np.percentile(ms, 50)), 3), "p95": round(float(np.percentile(ms, 95)), 3),
            "mean": round(float(ms.mean()), 3)}


# --------------------------------------------------------------------------- corpus


def base_corpus(settings: Settings, min_chunks: int, corpus: Path) -> list[_Prepared]:
    """The first real articles whose chunks add up to at least ``min_chunks`` (whole articles).

    Whole articles, so that every replicated copy has consistent chunks, sentences and offsets.
    """
    ingested = load_articles(Path(corpus), max_file_bytes=settings.max_file_bytes,
                             max_article_chars=settings.max_article_chars)
    chosen: list[_Prepared] = []
    total = 0
    for p in _prepare(ingested.articles, settings):
        if not p.chunks:
            continue
        chosen.append(p)
        total += len(p.chunks)
        if total >= min_chunks:
            break
    return chosen


def corpus_texts(base: list[_Prepared]) -> tuple[list[str], list[str]]:
    """Chunk texts (as the build embeds them, title included) and sentence texts."""
    return ([c.embedding_text() for p in base for c in p.chunks],
            [s.text for p in base for s in p.sentences])


def cache_key(settings: Settings, chunk_texts: list[str], sentence_texts: list[str]) -> str:
    """Identifies the cached vectors: model, texts; a change of any forces re-embedding."""
    digest = hashlib.sha256(f"{settings.model}\ntorch\ntokens\n".encode())
    for text in (*chunk_texts, "\x00", *sentence_texts):
        digest.update(text.encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def load_cache(path: Path, key: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]] | None:
    """The chunk and sentence vectors, and each sentence's token vectors (index.token_match)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        if str(data["key"]) != key or "tokens" not in data:
            return None
        tokens = data["tokens"]
        return (data["chunks"].astype(np.float32), data["sentences"].astype(np.float32),
                [tokens[a:b] for a, b in data["token_spans"]])


def save_cache(path: Path, key: str, data: Any) -> None:
    """Keep what ``worker_embed`` wrote (its arrays) under ``key``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, key=np.array(key), chunks=data["chunks"].astype(np.float32),
             sentences=data["sentences"].astype(np.float32), tokens=data["tokens"], token_spans=data["token_spans"])


# --------------------------------------------------------------------------- replication


def _noisy(vectors: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Near (cosine ~0.93 at sigma 0.02, 384-d) but not identical copies, unit length like the encoder's."""
    noisy = vectors + rng.normal(0.0, sigma, vectors.shape)
    norms = np.linalg.norm(noisy, axis=1, keepdims=True)
    return (noisy / np.maximum(norms, 1e-12)).astype(np.float32)


def perturbed_copy(p: _Prepared, k: int, rng: np.random.Generator, drop: float, sigma: float) -> _Prepared:
    """Copy ``k`` of an article: id ``<id>~k``, ~``drop`` of its words removed, noisy vectors.

    Words are removed from the article text and every chunk/sentence offset is remapped, so
    the copy is as self-consistent as a real article (answers slice chunk text by sentence
    offsets). Words at a chunk or sentence boundary are kept so that no span becomes empty.
    """
    text = p.article.text
    starts = {c.start for c in p.chunks} | {s.start for s in p.sentences}
    ends = {c.end for c in p.chunks} | {s.end for s in p.sentences}
    spans = [m.span() for m in WORD.finditer(text)]
    kept = np.ones(len(text), dtype=bool)
    pieces, previous = [], 0
    for (a, b), draw in zip(spans, rng.random(len(spans))):
        if draw >= drop or a in starts or b in ends:
            continue
        while b < len(text) and text[b] == " ":
            b += 1
        kept[a:b] = False
        pieces.append(text[previous:a])
        previous = b
    new_text = "".join(pieces) + text[previous:]
    new_pos = np.concatenate(([0], np.cumsum(kept)))
    aid = f"{p.article.id}~{k}"
    a = p.article
    article = dataclasses.replace(a, id=aid, text=new_text,
                                  content_hash=content_hash(a.title, new_text, a.date, a.url, a.source))
    chunks = []
    for c in p.chunks:
        start, end = int(new_pos[c.start]), int(new_pos[c.end])
        chunks.append(dataclasses.replace(c, article_id=aid, chunk_id=f"{aid}#{c.position}", start=start,
                                          end=end, text=new_text[start:end]))
    sentences = []
    for s in p.sentences:
        start, end = int(new_pos[s.start]), int(new_pos[s.end])
        sentences.append(Sentence(start, end, new_text[start:end]))
    assert p.chunk_vectors is not None and p.sentence_vectors is not None
    return _Prepared(article, chunks, sentences, _noisy(p.chunk_vectors, rng, sigma),
                     _noisy(p.sentence_vectors, rng, sigma), p.sentence_tokens)


def replicate(base: list[_Prepared], size: int, seed: int, drop: float, sigma: float) -> list[_Prepared]:
    """Real articles first, then perturbed copies, until exactly ``size`` chunks.

    The last article may keep only its first chunks (its sentences stay whole: the sentence
    table does not have to match the chunks one to one).
    """
    out: list[_Prepared] = []
    total, k = 0, 0
    while total < size:
        for i, p in enumerate(base):
            item = p if k == 0 else perturbed_copy(p, k, np.random.default_rng([seed, k, i]), drop, sigma)
            room = size - total
            if len(item.chunks) > room:
                assert item.chunk_vectors is not None
                item = dataclasses.replace(item, chunks=item.chunks[:room], chunk_vectors=item.chunk_vectors[:room])
            out.append(item)
            total += len(item.chunks)
            if total >= size:
                break
        k += 1
    return out


def dir_size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


# --------------------------------------------------------------------------- workers (subprocesses)


def worker_embed(args: argparse.Namespace) -> dict[str, Any]:
    """Load one backend, embed the chunk texts (timed), optionally the sentences (for the cache)."""
    from index.embedding import Encoder, resolve_model_path

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    settings = Settings().model_copy(update={"embed_backend": args.backend})
    model_dir = Path(resolve_model_path(settings.model))
    shipped_onnx = sorted(str(f.relative_to(model_dir)) for f in model_dir.rglob("*.onnx")) if model_dir.is_dir() else []
    started = time.perf_counter()
    encoder = Encoder(settings, threads=args.threads)
    load_s = time.perf_counter() - started
    result: dict[str, Any] = {"backend": args.backend, "threads": args.threads, "load_s": round(load_s, 2),
                              "load_average_before": _loadavg(),
                              "batch_size": settings.embed_batch_size, "model_dir": str(model_dir),
                              "onnx_files_in_model_dir": shipped_onnx,
                              "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE")}
    if args.backend == "onnx":
        result.update(_onnx_details(encoder))
    started = time.perf_counter()
    chunk_vecs = encoder.encode_documents(texts["chunks"])
    embed_s = time.perf_counter() - started
    result.update(chunks=len(texts["chunks"]), embed_s=round(embed_s, 2),
                  chunks_per_s=round(len(texts["chunks"]) / embed_s, 1))
    arrays = {"chunks": chunk_vecs}
    if texts.get("sentences"):
        started = time.perf_counter()
        arrays["sentences"], tokens = encoder.encode_documents_with_tokens(texts["sentences"])
        result.update(sentences=len(texts["sentences"]), sentences_embed_s=round(time.perf_counter() - started, 2))
        ends = np.cumsum([len(t) for t in tokens])
        arrays["token_spans"] = np.stack([ends - [len(t) for t in tokens], ends], axis=1)
        arrays["tokens"] = np.concatenate(tokens) if len(tokens) else np.zeros((0, 0), np.int8)
    np.savez(args.vectors_out, **arrays)
    result["load_average_after"] = _loadavg()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def _loadavg() -> list[float]:
    """The machine is shared: the 1/5/15-minute load average says how busy it was."""
    return [round(x, 2) for x in os.getloadavg()]


def _onnx_details(encoder: Any) -> dict[str, Any]:
    """Where sentence-transformers got the ONNX graph from, and the session's thread setting."""
    details: dict[str, Any] = {}
    try:
        ort_model = encoder._model[0].auto_model
        path = getattr(ort_model, "path", None) or getattr(ort_model, "model_path", None)
        details["onnx_model_path"] = str(path)
        session = getattr(ort_model, "session", None) or getattr(ort_model, "model", None)
        options = session.get_session_options()
        details["ort_intra_op_threads"] = options.intra_op_num_threads  # 0 = onnxruntime's default
    except Exception as exc:  # noqa: BLE001 - diagnostics only; internals differ across versions
        details["onnx_details_error"] = repr(exc)
    return details


def worker_build(args: argparse.Namespace) -> dict[str, Any]:
    """Replicate the embedded corpus to ``size`` chunks and write it with the library's writer."""
    settings = Settings().model_copy(update={"index_dir": Path(args.index_dir)})
    base = base_corpus(settings, args.base_chunks, args.corpus)
    chunk_texts, sentence_texts = corpus_texts(base)
    cached = load_cache(Path(args.cache), cache_key(settings, chunk_texts, sentence_texts))
    if cached is None:
        raise SystemExit(f"no valid vector cache at {args.cache}")
    attach_vectors(base, *cached)
    started = time.perf_counter()
    prepared = replicate(base, args.size, args.seed, args.drop, args.sigma)
    replicate_s = time.perf_counter() - started
    index_dir = Path(args.index_dir)
    shutil.rmtree(index_dir, ignore_errors=True)
    build_id = f"bench-{args.size}"
    tmp, final = index_dir / store.BUILDS / f".tmp-{build_id}", index_dir / store.BUILDS / build_id
    dim = SimpleNamespace(dim=int(cached[0].shape[1]), backend="replicated",  # all _write_build reads
                          token_basis=load_basis(settings.model, int(cached[0].shape[1])))
    started = time.perf_counter()
    _write_build(tmp, prepared, dim, settings, _alias_text(settings), time.monotonic())  # type: ignore[arg-type]
    tmp.rename(final)
    store.switch_current(index_dir, final)
    write_s = time.perf_counter() - started
    manifest = store.read_manifest(final)
    return {"size": args.size, "articles": len(prepared), "chunks": manifest["counts"]["chunks"],
            "sentences": manifest["counts"]["sentences"], "faiss": manifest["faiss"]["type"],
            "replicate_s": round(replicate_s, 2), "write_s": round(write_s, 2),
            "disk_mb": dir_size_mb(final), "files_mb": {f.name: dir_size_mb(f) if f.is_dir() else
                                                        round(f.stat().st_size / 2**20, 1) for f in final.iterdir()},
            "build_dir": str(final), "peak_rss_mb": peak_rss_mb()}


def _alias_text(settings: Settings) -> str:
    from index.lexical import read_alias_text

    return read_alias_text(settings.aliases_file)


def worker_serve(args: argparse.Namespace) -> dict[str, Any]:
    """Open the index like the bot does and time each question's stages, single-threaded."""
    from index.embedding import Encoder, QueryCache
    from index.engine import Engine
    from index.evaluate import load_squad
    from index.records import Turn
    # The served configuration: the configured model and backend, one thread per query.
    settings = Settings().model_copy(update={"index_dir": Path(args.index_dir), "threads": 1})
    started = time.perf_counter()
    encoder = Encoder(settings, threads=settings.threads)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    engine = Engine.open(settings, encoder)
    open_s = time.perf_counter() - started
    stored = engine._index()
    questions = [q.text for q in load_squad(Path(args.qa))[1]]
    sample = random.Random(args.seed).sample(questions, args.warmup + args.questions)
    s = settings

    def one(question: str) -> dict[str, float]:
        t, vector, ranked, answer = timed_question(engine, encoder, stored, s, question)
        answered.append(answer.answered)
        # A follow-up of an answered story searches a second time inside it (followup.answer_pool).
        turn = Turn(question, answer.answer, tuple(dict.fromkeys(p.hit.article_id for p in answer.passages if p.highlight)))
        followup = FOLLOWUPS[len(answered) % len(FOLLOWUPS)]
        # As in a chat: the question was just asked (its vector is remembered), the follow-up is new.
        engine.queries = QueryCache(encoder)
        engine.queries.encode_queries([question])
        t0 = time.perf_counter()
        engine.ask(followup, history=[turn])
        t["followup_ask"] = time.perf_counter() - t0
        # The same follow-up inside a story, as if the question had been answered by its best passage:
        # on this corpus most questions are refused, so the timing above rarely takes the story path
        # (a second search, then every sentence of the story scored for the kind asked).
        best = stored.chunks([ranked[0].row])[0]
        story = Turn(question, best.text[:200], (best.article_id,))
        engine.queries = QueryCache(encoder)
        engine.queries.encode_queries([question])
        t0 = time.perf_counter()
        engine.ask(followup, history=[story])
        t["story_followup_ask"] = time.perf_counter() - t0
        return {**t, **timed_parts(stored, s, question, vector, ranked)}

    answered: list[bool] = []
    for question in sample[: args.warmup]:
        one(question)
    load_before = _loadavg()
    answered.clear()
    timings = [one(q) for q in sample[args.warmup :]]
    result: dict[str, Any] = {"size": args.size, "questions": len(timings), "warmup": args.warmup,
                              "threads": settings.threads, "backend": encoder.backend, "encoder_load_s": round(load_s, 2),
                              "engine_open_s": round(open_s, 2)}
    for stage in timings[0]:
        result[f"{stage}_ms"] = percentiles([t[stage] for t in timings])
    result.update(answered_share=round(sum(answered) / len(answered), 3), load_average_before=load_before,
                  load_average_after=_loadavg(), peak_rss_mb=peak_rss_mb())
    return result


def timed_question(engine: Any, encoder: Any, stored: Any, s: Settings, question: str) -> tuple[dict[str, float], Any, Any, Any]:
    """One question as the bot serves it, seconds per stage: the query embedding, the search
    (retrieve + diverse, without the embedding) and the whole ``Engine.ask``."""
    from index.search import diverse, retrieve

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    vector = encoder.encode_queries([question])[0]
    t["embed"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ranked = retrieve(stored, stored.analyzer.terms(question), vector, s.candidates, s.dense_weight, s.sentence_weight)
    diverse(stored, ranked, s.top_k)
    t["search"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    answer = engine.ask(question)
    t["ask"] = time.perf_counter() - t0
    return t, vector, ranked, answer


def timed_parts(stored: Any, s: Settings, question: str, vector: Any, ranked: list) -> dict[str, float]:
    """Where search time goes, on either storage backend: each part re-run on its own."""
    from index.search import dense_scores, diverse

    terms = stored.analyzer.terms(question)
    k = min(s.candidates, stored.size)
    rows = np.array([c.row for c in ranked[: s.candidates]], dtype=np.int64)
    return {"bm25": _timed(lambda: stored.lexical(terms, s.candidates)),
            "faiss": _timed(lambda: stored.dense_top(vector, k)),
            "rescore_100": _timed(lambda: dense_scores(stored, vector, rows)),
            "diverse": _timed(lambda: diverse(stored, ranked, s.top_k))}


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


WORKERS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "embed": worker_embed, "build": worker_build, "serve": worker_serve}


def run_worker(name: str, work: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its stderr goes to a log file, its result to JSON."""
    tag = f"{name}-" + "-".join(str(v) for k, v in options.items() if k in ("backend", "size"))
    result_path, log_path = work / f"{tag}.result.json", work / "logs" / f"{tag}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--worker", name, "--result", str(result_path)]
    for key, value in options.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    print(f"  … {tag} (log: {log_path})", file=sys.stderr, flush=True)
    with open(log_path, "w") as log_file:
        code = subprocess.run(cmd, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    if code != 0 or not result_path.is_file():
        tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-20:])
        raise SystemExit(f"worker {tag} failed (exit {code}); last lines of {log_path}:\n{tail}")
    result = json.loads(result_path.read_text())
    result_path.unlink()
    return result


# --------------------------------------------------------------------------- steps (parent)


def step_embed(args: argparse.Namespace, base: list[_Prepared], key: str) -> dict[str, Any]:
    """Torch and ONNX on the same chunks: load time, chunks/s, and whether the vectors agree."""
    chunk_texts, sentence_texts = corpus_texts(base)
    runs: dict[str, dict[str, Any]] = {}
    vectors: dict[str, np.ndarray] = {}
    for backend in BACKENDS:
        # Only torch vectors feed the cache (the indexes are "torch" builds); ONNX embeds the chunks only.
        texts_path = args.work / f"texts-{backend}.json"
        texts_path.write_text(json.dumps({"chunks": chunk_texts, "sentences": sentence_texts if backend == "torch"
                                          else []}, ensure_ascii=False))
        out = args.work / f"embed-{backend}.npz"
        runs[backend] = run_worker("embed", args.work, {"backend": backend, "threads": args.embed_threads,
                                                        "texts": texts_path, "vectors_out": out})
        with np.load(out, allow_pickle=False) as data:
            vectors[backend] = data["chunks"]
            if backend == "torch":
                save_cache(args.cache, key, data)
        out.unlink()
        texts_path.unlink()
    cosines = np.sum(vectors["torch"] * vectors["onnx"], axis=1)
    faster = max(BACKENDS, key=lambda b: runs[b]["chunks_per_s"])
    slower = min(BACKENDS, key=lambda b: runs[b]["chunks_per_s"])
    return {"chunks": len(chunk_texts), "articles": len(base),
            "mean_chars": round(float(np.mean([len(t) for t in chunk_texts])), 1),
            "backends": runs, "faster": faster,
            "speedup": round(runs[faster]["chunks_per_s"] / runs[slower]["chunks_per_s"], 2),
            "cosine_mean": round(float(cosines.mean()), 8), "cosine_min": round(float(cosines.min()), 8),
            "vectors_match": bool(cosines.min() >= MATCH_MIN_COSINE)}


def ensure_cache(args: argparse.Namespace, base: list[_Prepared], key: str) -> None:
    """With --skip-embed, reuse the cache, or embed the corpus once with torch (no comparison)."""
    chunk_texts, sentence_texts = corpus_texts(base)
    if load_cache(args.cache, key) is not None:
        return
    texts_path = args.work / "texts.json"
    texts_path.write_text(json.dumps({"chunks": chunk_texts, "sentences": sentence_texts}, ensure_ascii=False))
    out = args.work / "embed-torch.npz"
    run_worker("embed", args.work, {"backend": "torch", "threads": args.embed_threads,
                                    "texts": texts_path, "vectors_out": out})
    with np.load(out, allow_pickle=False) as data:
        save_cache(args.cache, key, data)
    out.unlink()
    texts_path.unlink()


def step_sizes(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for size in args.sizes:
        index_dir = args.work / f"index-{size}"
        common = {"size": size, "index_dir": index_dir, "seed": args.seed, "corpus": args.corpus, "qa": args.qa}
        built = run_worker("build", args.work, {**common, "base_chunks": args.chunks, "cache": args.cache,
                                                "drop": args.drop, "sigma": args.sigma})
        served = run_worker("serve", args.work, {**common, "questions": args.questions, "warmup": args.warmup})
        rows.append({"build": built, "serve": served})
        if not args.keep_indexes:
            shutil.rmtree(index_dir, ignore_errors=True)
    return rows


# --------------------------------------------------------------------------- report


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def report(result: dict[str, Any]) -> str:
    out = [machine_line(result["machine"]), ""]
    embed = result.get("embedding")
    if embed:
        out.append(f"Embedding throughput: {embed['chunks']:,} real news chunks ({embed['articles']} articles, "
                   f"mean {embed['mean_chars']:.0f} chars incl. title), encode_documents, batch "
                   f"{embed['backends']['torch']['batch_size']}, Encoder(threads={embed['backends']['torch']['threads']})")
        rows = []
        for name, r in embed["backends"].items():
            rows.append([name, f"{r['load_s']:.1f}", f"{r['embed_s']:.1f}", f"{r['chunks_per_s']:.1f}",
                         f"{r['peak_rss_mb']:.0f}", f"{r['load_average_before'][0]:.1f} -> {r['load_average_after'][0]:.1f}"])
        out.append(_table(["backend", "load s", "embed s", "chunks/s", "peak RSS MB", "load avg 1m"], rows))
        onnx = embed["backends"].get("onnx", {})
        out.append(f"Faster: {embed['faster']} (x{embed['speedup']}). Vectors torch vs onnx: mean cosine "
                   f"{embed['cosine_mean']:.7f}, min {embed['cosine_min']:.7f} -> "
                   f"{'match' if embed['vectors_match'] else 'DO NOT match'} (min >= {MATCH_MIN_COSINE}).")
        if onnx:
            where = onnx.get("onnx_model_path")
            shipped = onnx.get("onnx_files_in_model_dir")
            out.append(f"ONNX load: the model dir ships {'no .onnx file' if not shipped else shipped}; the export "
                       f"is kept at {where} (settings.model_cache_dir), so only the first load exports; "
                       f"HF_HUB_OFFLINE={onnx.get('hf_hub_offline')}; onnxruntime intra-op threads = "
                       f"{onnx.get('ort_intra_op_threads')} (the Encoder's threads).")
        out.append("")
    sizes = result.get("sizes") or []
    if sizes:
        serve0 = sizes[0]["serve"]
        out.append(f"Search latency: {serve0['questions']} SQuAD-es questions after {serve0['warmup']} warm-up, "
                   f"single thread per query (faiss omp threads = settings.threads = {serve0['threads']}; "
                   f"encoder threads {serve0['threads']}, backend {serve0.get('backend', 'onnx')}); p50 / p95 in ms")
        rows = []
        for row in sizes:
            b, s = row["build"], row["serve"]
            pct = lambda key: f"{s[key]['p50']:.1f} / {s[key]['p95']:.1f}"  # noqa: E731
            rows.append([f"{b['chunks']:,}", f"{b['articles']:,}", f"{b['sentences']:,}", b["faiss"],
                         f"{b['write_s']:.1f}", f"{b['disk_mb']:.0f}", f"{s['engine_open_s']:.2f}",
                         pct("embed_ms"), pct("search_ms"), pct("ask_ms"),
                         pct("followup_ask_ms") if "followup_ask_ms" in s else "-",
                         pct("story_followup_ask_ms") if "story_followup_ask_ms" in s else "-",
                         f"{b['peak_rss_mb']:.0f} / {s['peak_rss_mb']:.0f}", f"{s['load_average_after'][0]:.1f}"])
        out.append(_table(["chunks", "articles", "sentences", "faiss", "write s", "disk MB", "open s",
                           "query embed", "search (no embed)", "ask (total)", "follow-up ask", "in a story", "RSS MB build/serve",
                           "load 1m"], rows))
        out.append("")
        out.append("Where search time goes (p50 / p95 ms, each part re-run alone): BM25 scores over all chunks, "
                   "FAISS top-100, exact re-score of 100 rows (reconstruct), diverse (SQLite fetch)")
        rows = []
        for row in sizes:
            s = row["serve"]
            pct = lambda key: f"{s[key]['p50']:.2f} / {s[key]['p95']:.2f}"  # noqa: E731
            rows.append([f"{row['build']['chunks']:,}", pct("bm25_ms"), pct("faiss_ms"), pct("rescore_100_ms"),
                         pct("diverse_ms")])
        out.append(_table(["chunks", "bm25", "faiss", "rescore 100", "diverse"], rows))
        out.append("Search = analyzer + retrieve + diverse with the query vector precomputed; ask = Engine.ask "
                   "(query embedding, search, sentence scoring); follow-up ask = Engine.ask of an elliptical "
                   f"question ({', '.join(FOLLOWUPS)}, in turn) with that question and its answer as history, the "
                   "question's vector remembered and the follow-up's not; in a story = the same follow-up "
                   "with the question taken as answered by its best passage (always the story path). "
                   f"Answered (not refused): {', '.join(str(r['serve']['answered_share']) for r in sizes)}.")
        out.append("Write s = _write_build (FAISS add, sentences.npy, SQLite, BM25, sha256 + fsync) + switch; "
                   "open s = Engine.open incl. checksum verification; serve RSS includes the encoder.")
    return "\n".join(out)


# --------------------------------------------------------------------------- CLI


def _sizes(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="news articles (JSONL) to embed and replicate")
    parser.add_argument("--qa", type=Path, default=DEFAULT_QA, help="SQuAD-format file whose questions are asked")
    parser.add_argument("--chunks", type=int, default=2000, help="real chunks to embed (whole articles, ≥ N)")
    parser.add_argument("--skip-embed", action="store_true", help="skip the torch/ONNX comparison")
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000], help="index sizes in chunks")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--embed-threads", type=int, default=2, help="Encoder threads for the throughput test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop", type=float, default=0.10, help="share of words dropped in a replicated copy")
    parser.add_argument("--sigma", type=float, default=0.02, help="noise added to a copy's vectors")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="scratch directory")
    parser.add_argument("--cache", type=Path, help="vector cache (default WORK/vectors.npz)")
    parser.add_argument("--keep-indexes", action="store_true", help="keep the synthetic indexes in WORK")
    parser.add_argument("--json", type=Path, dest="json_out", help="write every number here")
    # Internal: one measurement in a subprocess.
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    for name in ("backend", "texts", "vectors_out", "index_dir"):
        parser.add_argument(f"--{name.replace('_', '-')}", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--base-chunks", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.cache = args.cache or args.work / "vectors.npz"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.worker:
        result = WORKERS[args.worker](args)
        args.result.write_text(json.dumps(result, indent=1))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = Settings()
    result: dict[str, Any] = {"machine": machine(), "settings": {
        "model": settings.model, "chunk_max_chars": settings.chunk_max_chars, "chunk_overlap": settings.chunk_overlap,
        "embed_batch_size": settings.embed_batch_size, "candidates": settings.candidates, "top_k": settings.top_k,
        "dense_weight": settings.dense_weight, "sentence_weight": settings.sentence_weight, "flat_index_max": settings.flat_index_max, "query_threads": 1},
        "params": {"chunks": args.chunks, "sizes": args.sizes, "questions": args.questions, "warmup": args.warmup,
                   "seed": args.seed, "drop": args.drop, "sigma": args.sigma, "questions_file": str(args.qa),
                   "corpus": str(args.corpus)}}
    base = base_corpus(settings, args.chunks, args.corpus)
    key = cache_key(settings, *corpus_texts(base))
    if args.skip_embed:
        ensure_cache(args, base, key)
    else:
        result["embedding"] = step_embed(args, base, key)
    result["sizes"] = step_sizes(args)
    result["total_s"] = round(time.perf_counter() - started, 1)
    text = report(result)
    print(text)
    print(f"\n(total {result['total_s']:.0f} s)")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        result["table"] = text
        args.json_out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
