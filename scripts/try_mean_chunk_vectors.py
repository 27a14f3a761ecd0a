#!/usr/bin/env python
"""Measure "embed each text once" by deriving chunk vectors from sentence vectors, without embedding.

Copies an index folder and replaces every chunk vector of its current build by the normalised
mean of the vectors of the sentences inside the chunk (the build would then embed sentences only,
about half the tokens). Evaluate the copy with ``python -m index eval`` and compare with the
original (docs/performance.md, "Options measured").

    .venv/bin/python scripts/try_mean_chunk_vectors.py var/eval-v1.1 var/eval-v1.1-mean
    .venv/bin/python -m index eval --qa $SQUAD/squad_es-v1.1-dev-small.noxquad.json \\
        --work var/eval-v1.1-mean --split tune --json var/results/eval-v1.1-tune-mean.json
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import store  # noqa: E402


def index_dir(folder: Path) -> Path:
    """An eval work folder holds its index in ``index/``; an index folder is its own."""
    return folder / "index" if (folder / "index" / "current").exists() else folder


def mean_chunk_vectors(build: Path) -> np.ndarray:
    """The normalised mean of each chunk's sentence vectors (its own vector if it has none)."""
    chunks = faiss.read_index(str(build / store.VECTORS))
    own = chunks.reconstruct_n(0, chunks.ntotal)
    spans = np.load(build / store.CHUNK_SENTENCES)
    sentences = np.load(build / store.SENTENCE_VECTORS)
    out = np.array([sentences[a:b].mean(0) if b > a else own[i] for i, (a, b) in enumerate(spans)], dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    cosine = (out * own).sum(1)
    print(f"cosine of the mean to the chunk's own vector: min {cosine.min():.3f}, mean {cosine.mean():.3f}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="an index folder or an eval --work folder")
    parser.add_argument("copy", type=Path, help="where to write the modified copy (replaced if it exists)")
    args = parser.parse_args()
    shutil.rmtree(args.copy, ignore_errors=True)
    shutil.copytree(args.source, args.copy, symlinks=True)
    build = (index_dir(args.copy) / "current").resolve()
    vectors = mean_chunk_vectors(build)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.write_index(flat, str(build / store.VECTORS))
    manifest = json.loads((build / store.MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][store.VECTORS] = store.sha256_file(build / store.VECTORS)
    (build / store.MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
