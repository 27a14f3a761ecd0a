#!/usr/bin/env python
"""Near-duplicate articles: the build's decision on labelled pairs, the threshold sweep, the cost.

Reads ``eval/duplicate_pairs.jsonl`` (pairs of corpus articles labelled by reading them, see
eval/README.md), groups *every* article of the corpus files with ``index.duplicates`` as a build
does (transitively, so a pair's decision depends on the whole corpus) and prints, per split,
the precision and recall of "same story" at each threshold of the sweep and at the configured
one (``ARTICLE_QA_DUPLICATE_THRESHOLD``), with the mistakes. The threshold recommended is the
middle of the range of thresholds with the best F1 on the tune half.

``--candidates`` prints the distribution of the exact Jaccard similarity over all pairs of the
corpus and the most similar pairs of each band: where the labelled pairs were picked from.
``--bench`` times the grouping (what a build adds) on the corpus and on scripts/bench_scale.py's
replicated corpus (``--scale-chunks``), as a build runs it: with the sketch cache off (every text
sketched), on a first build (empty cache), on a rebuild with nothing new and with one article added.

    python scripts/eval_duplicates.py --data ../shared/data/news_es
    python scripts/eval_duplicates.py --data ../shared/data/news_es --candidates
    python scripts/eval_duplicates.py --data ../shared/data/news_es --bench --scale-chunks 1000000
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_common import machine  # noqa: E402
from index.duplicates import group_texts, jaccard, shingle_hashes  # noqa: E402
from index.ingest import load_articles  # noqa: E402
from index.records import Article  # noqa: E402
from index.settings import Settings  # noqa: E402

FILES = ("true_news.jsonl", "true_news_unmasked.jsonl")
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "news_es"  # input, not a dependency
SWEEP = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
BANDS = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0001]


def key(file: str, article_id: str) -> str:
    return f"{file}:{article_id}"


def load_corpus(data: Path) -> list[Article]:
    """Every article of both files, ids prefixed by the file (the files share ids)."""
    out: list[Article] = []
    for name in FILES:
        for a in load_articles(data / name).articles:
            out.append(dataclasses.replace(a, id=key(name, a.id)))
    return out


def load_pairs(path: Path) -> list[dict[str, Any]]:
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for p in pairs:
        p["ka"], p["kb"] = key(p["file"], p["a"]), key(p.get("file_b", p["file"]), p["b"])
    return pairs


def scores(pairs: list[dict[str, Any]], decided: dict[int, bool]) -> dict[str, float]:
    tp = sum(1 for i, p in enumerate(pairs) if p["duplicate"] and decided[i])
    fp = sum(1 for i, p in enumerate(pairs) if not p["duplicate"] and decided[i])
    fn = sum(1 for i, p in enumerate(pairs) if p["duplicate"] and not decided[i])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "pairs": len(pairs)}


def decisions(articles: list[Article], pairs: list[dict[str, Any]], threshold: float) -> dict[int, bool]:
    groups = dict(zip((a.id for a in articles), group_texts([a.text for a in articles], threshold)))
    return {i: groups[p["ka"]] == groups[p["kb"]] for i, p in enumerate(pairs)}


def by_split(pairs: list[dict[str, Any]], decided: dict[int, bool]) -> dict[str, dict[str, float]]:
    out = {}
    for split in ("tune", "holdout"):
        idx = [i for i, p in enumerate(pairs) if p["split"] == split]
        out[split] = scores([pairs[i] for i in idx], {n: decided[i] for n, i in enumerate(idx)})
    out["all"] = scores(pairs, decided)
    return out


def recommend(sweep: list[dict[str, Any]]) -> dict[str, float]:
    """The middle of the thresholds whose tune F1 is the best: farthest from both kinds of error."""
    best = max(row["tune"]["f1"] for row in sweep)
    tied = [row["threshold"] for row in sweep if row["tune"]["f1"] == best]
    return {"tune_f1": best, "from": min(tied), "to": max(tied),
            "threshold": round(round((min(tied) + max(tied)) / 2 / 0.05) * 0.05, 2)}


def evaluate(args: argparse.Namespace, articles: list[Article]) -> dict[str, Any]:
    pairs = load_pairs(args.pairs)
    known = {a.id: a for a in articles}
    missing = [k for p in pairs for k in (p["ka"], p["kb"]) if k not in known]
    if missing:
        raise SystemExit(f"pairs name articles not in the corpus: {missing[:5]}")
    hashes = {k: shingle_hashes(known[k].text) for p in pairs for k in (p["ka"], p["kb"])}
    for p in pairs:
        p["jaccard"] = round(jaccard(hashes[p["ka"]], hashes[p["kb"]]), 4)
    sweep = [{"threshold": t, **by_split(pairs, decisions(articles, pairs, t))} for t in SWEEP]
    decided = decisions(articles, pairs, args.threshold)
    mistakes = [{k: p[k] for k in ("a", "b", "file", "duplicate", "jaccard", "kind", "split")}
                for i, p in enumerate(pairs) if decided[i] != p["duplicate"]]
    kinds = Counter((p["kind"], p["duplicate"], p["split"]) for p in pairs)
    jac = defaultdict(list)
    for p in pairs:
        jac[p["duplicate"]].append(p["jaccard"])
    return {"pairs": len(pairs), "kinds": {f"{k}|{d}|{s}": n for (k, d, s), n in sorted(kinds.items())},
            "jaccard_range": {"duplicates": [min(jac[True]), max(jac[True])],
                              "not_duplicates": [min(jac[False]), max(jac[False])]},
            "threshold": args.threshold, "at_threshold": by_split(pairs, decided), "mistakes": mistakes,
            "sweep": sweep, "recommended": recommend(sweep)}


def all_pairs(articles: list[Article]) -> list[tuple[float, int, int]]:
    """Exact Jaccard of every pair sharing at least one shingle (the others are 0), most similar first."""
    hashes = [shingle_hashes(a.text) for a in articles]
    postings: dict[int, list[int]] = defaultdict(list)
    for i, h in enumerate(hashes):
        for value in h.tolist():
            postings[value].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        shared.update(combinations(docs, 2))
    out = [(c / (len(hashes[i]) + len(hashes[j]) - c), i, j) for (i, j), c in shared.items()]
    return sorted(out, reverse=True)


def candidates(articles: list[Article], per_band: int) -> dict[str, Any]:
    found = all_pairs(articles)
    total = len(articles) * (len(articles) - 1) // 2
    same_id = [(s, i, j) for s, i, j in found if articles[i].id.split(":", 1)[1] == articles[j].id.split(":", 1)[1]]
    other = [(s, i, j) for s, i, j in found if articles[i].id.split(":", 1)[1] != articles[j].id.split(":", 1)[1]]
    bands = []
    for low, high in zip(BANDS, BANDS[1:]):
        inside = [p for p in other if low <= p[0] < high]
        if low == 0.0:
            inside_count = total - len(same_id) - sum(1 for p in other if p[0] >= high)
        else:
            inside_count = len(inside)
        bands.append({"from": low, "to": min(high, 1.0), "pairs": inside_count, "top": [
            {"jaccard": round(s, 4), "a": articles[i].id, "b": articles[j].id,
             "a_source": articles[i].source, "b_source": articles[j].source,
             "a_title": articles[i].title[:70], "b_title": articles[j].title[:70]}
            for s, i, j in inside[:per_band]]})
    return {"articles": len(articles), "pairs": total, "same_id_pairs": len(same_id),
            "same_id_jaccard_min": round(min((s for s, _, _ in same_id), default=0.0), 4), "bands": bands}


def scale_articles(data: Path, chunks: int) -> list[Article]:
    """scripts/bench_scale.py's corpus: bench_index's base articles and their perturbed copies."""
    from bench_index import base_corpus, replicate

    settings = Settings(_env_file=None)
    base = base_corpus(settings, 2000, data / FILES[0])
    for p in base:  # replicate() copies vectors too; the grouping needs none
        p.chunk_vectors = np.zeros((len(p.chunks), 1), dtype=np.float32)
        p.sentence_vectors = np.zeros((len(p.sentences), 1), dtype=np.float32)
    return [p.article for p in replicate(base, chunks, 0, 0.10, 0.0)]


def timed_grouping(articles: list[Article], settings: Settings) -> dict[str, Any]:
    """One build's grouping, exactly as ``build_index`` runs it (sketches kept in the cache file
    of ``settings``, or none when the cache is off)."""
    from index.build import BuildReport, _Prepared, one_version_each

    build = BuildReport()
    started = time.perf_counter()
    one_version_each([_Prepared(a, [], []) for a in articles], settings, build)
    seconds = time.perf_counter() - started
    return {"articles": len(articles), "seconds": round(seconds, 2),
            "ms_per_article": round(1000 * seconds / max(1, len(articles)), 3), "sketched": build.sketched,
            "stories_of_several": build.stories, "superseded": len(build.superseded)}


def bench_builds(articles: list[Article], threshold: float) -> dict[str, Any]:
    """The grouping of a build without kept sketches (the cache off: every text sketched), of a
    first build (an empty cache), of a rebuild with nothing new and of one with one article added."""
    with tempfile.TemporaryDirectory() as tmp:
        on = Settings(_env_file=None, index_dir=Path(tmp) / "index", duplicate_threshold=threshold)
        off = on.model_copy(update={"embed_cache_max_texts": 0})
        before, last = articles[:-1], articles
        out = {"cache_off": timed_grouping(before, off), "empty_cache": timed_grouping(before, on),
               "no_change": timed_grouping(before, on), "one_added": timed_grouping(last, on)}
        cache = Path(tmp) / "index" / "embed-cache.sqlite"
        out["cache_file_mb"] = round(cache.stat().st_size / 2**20, 1) if cache.exists() else 0.0
        return out


def bench(args: argparse.Namespace, articles: list[Article]) -> dict[str, Any]:
    corpus = [a for a in articles if a.id.startswith(FILES[0] + ":")]
    sets = {"corpus": corpus}
    if args.scale_chunks:
        sets[f"scale_{args.scale_chunks}_chunks"] = scale_articles(args.data, args.scale_chunks)
    return {name: bench_builds(arts, args.threshold) for name, arts in sets.items()}


def report(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"machine: {m['nproc']} cores, {m['cpu_model']}, {m['ram_gib']} GiB; datasketch {m['versions']['datasketch']}"]
    if "evaluation" in result:
        ev = result["evaluation"]
        lines.append(f"pairs: {ev['pairs']}; Jaccard of duplicates {ev['jaccard_range']['duplicates']}, "
                     f"of the others {ev['jaccard_range']['not_duplicates']}")
        lines.append("threshold | tune P / R / F1 | holdout P / R / F1")
        for row in ev["sweep"]:
            t, h = row["tune"], row["holdout"]
            lines.append(f"{row['threshold']:.2f} | {t['precision']:.3f} / {t['recall']:.3f} / {t['f1']:.3f} | "
                         f"{h['precision']:.3f} / {h['recall']:.3f} / {h['f1']:.3f}")
        rec = ev["recommended"]
        lines.append(f"best tune F1 {rec['tune_f1']:.3f} from {rec['from']:.2f} to {rec['to']:.2f}: "
                     f"recommended threshold {rec['threshold']:.2f}")
        lines.append(f"at the threshold {ev['threshold']}:")
        for split, s in ev["at_threshold"].items():
            lines.append(f"  {split}: precision {s['precision']:.3f}, recall {s['recall']:.3f} "
                         f"({s['pairs']} pairs: {s['tp']} found, {s['fp']} false, {s['fn']} missed)")
        lines += [f"  mistake: {json.dumps(x, ensure_ascii=False)}" for x in ev["mistakes"]]
    if "candidates" in result:
        c = result["candidates"]
        lines.append(f"all pairs: {c['pairs']} of {c['articles']} articles; {c['same_id_pairs']} pairs are one id "
                     f"in both files (Jaccard ≥ {c['same_id_jaccard_min']})")
        for band in c["bands"]:
            lines.append(f"Jaccard [{band['from']:.2f}, {band['to']:.2f}): {band['pairs']} pairs")
            lines += [f"    {p['jaccard']:.3f} {p['a']} [{p['a_source']}] {p['a_title']} || {p['b']} "
                      f"[{p['b_source']}] {p['b_title']}" for p in band["top"]]
    if "bench" in result:
        for name, runs in result["bench"].items():
            for run, b in runs.items():
                if run == "cache_file_mb":
                    continue
                lines.append(f"grouping {name}, {run.replace('_', ' ')}: {b['articles']} articles in {b['seconds']} s "
                             f"({b['ms_per_article']} ms each), {b['sketched']} sketched; "
                             f"{b['stories_of_several']} stories of several, {b['superseded']} superseded")
            lines.append(f"grouping {name}: cache file {runs['cache_file_mb']} MB")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the two corpus files")
    parser.add_argument("--pairs", type=Path, default=ROOT / "eval" / "duplicate_pairs.jsonl")
    parser.add_argument("--threshold", type=float, help="default: the settings' duplicate_threshold")
    parser.add_argument("--candidates", action="store_true", help="all-pairs Jaccard bands instead of the evaluation")
    parser.add_argument("--per-band", type=int, default=8, help="pairs shown per band with --candidates")
    parser.add_argument("--bench", action="store_true", help="time the grouping instead of the evaluation")
    parser.add_argument("--scale-chunks", type=int, default=0, help="with --bench: bench_scale.py's corpus of N chunks")
    parser.add_argument("--json", type=Path, dest="json_out", help="write every number here")
    args = parser.parse_args(argv)
    if args.threshold is None:
        args.threshold = Settings().duplicate_threshold
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    articles = load_corpus(args.data)
    result: dict[str, Any] = {"machine": machine(["datasketch", "numpy"])}
    if args.candidates:
        result["candidates"] = candidates(articles, args.per_band)
    elif args.bench:
        result["bench"] = bench(args, articles)
    else:
        result["evaluation"] = evaluate(args, articles)
    print(report(result))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
