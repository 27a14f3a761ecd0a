#!/usr/bin/env python
"""Fit index/data/token_basis.npz: the centring and projection of e5's token states that the
token match stores (index/token_match.py).

The sentences of the news corpus's articles, less those the holdout items of eval/news_dev.jsonl
are about (the holdout half is never fitted on), are read by the default model on its
default runtime; their tokens' last hidden states give the mean state and the principal
directions (the top ``--dims`` eigenvectors of the states' covariance). Deterministic: the same
corpus and model give the same file.

    python scripts/fit_token_basis.py --articles ../shared/data/news_es/true_news_unmasked.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.chunking import article_sentences  # noqa: E402
from index.e5_onnx import OnnxE5  # noqa: E402
from index.ingest import load_articles  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.token_match import BASIS_FILE  # noqa: E402


def holdout_articles(news_dev: Path) -> set[str]:
    """The article ids of the news set's holdout half."""
    ids = set()
    for line in news_dev.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item.get("split") == "holdout" and item.get("article_id"):
            ids.add(item["article_id"])
    return ids


def fit(states: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean state and the ``dims`` directions of largest variance, largest first."""
    mean = states.mean(axis=0)
    centred = (states - mean).astype(np.float64)
    values, vectors = np.linalg.eigh(centred.T @ centred / len(centred))
    axes = vectors[:, np.argsort(values)[::-1][:dims]]
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(dims)])  # one sign per axis, whatever LAPACK gives
    return mean.astype(np.float32), axes.astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, required=True, help="the news corpus (JSONL)")
    parser.add_argument("--news", type=Path, default=Path("eval/news_dev.jsonl"), help="the news evaluation set")
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--out", type=Path, default=BASIS_FILE)
    args = parser.parse_args()
    settings = Settings()
    held_out = holdout_articles(args.news)
    articles = [a for a in load_articles(args.articles).articles if a.id not in held_out]
    texts = list(dict.fromkeys(s.text for a in articles for s in article_sentences(a)))
    model = OnnxE5(1, Path(settings.model_cache_dir), int8=settings.embed_quantize)
    states = np.concatenate([tokens for i in range(0, len(texts), 32)
                             for tokens in model.encode_with_tokens(texts[i : i + 32], False)[1]])
    mean, axes = fit(states, args.dims)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, model=np.array(settings.model), mean=mean, axes=axes)
    print(f"{len(articles)} articles, {len(texts)} sentences, {len(states)} tokens -> {args.out} "
          f"({args.dims} of {states.shape[1]} dimensions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
