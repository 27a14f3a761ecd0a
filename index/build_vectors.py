"""The document vectors a build needs: each distinct text embedded once, known ones from the cache.

Why here and not in the encoder: only a build has many texts to embed, and only a build can
tell the operator how far it is. The texts are embedded longest first in batches of similar
length (a runtime that pads a batch then pads little), each batch is committed to the cache as
soon as it is computed (a killed build keeps its work), and one progress bar with texts/s and
ETA covers them all, shown only on a terminal.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
from tqdm import tqdm

from .embed_cache import EmbeddingCache, text_key

BATCH_TEXTS = 64  # texts per call to the encoder: the progress bar's and the cache's step


class DocumentEncoder(Protocol):
    name: str
    backend: str
    dim: int

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Embedded:
    """The vectors of the texts asked for, in their order, and where they came from."""

    vectors: np.ndarray
    embedded: int = 0  # distinct texts the model ran on
    cached: int = 0  # distinct texts whose vector came from the cache


def identity(encoder: DocumentEncoder) -> str:
    """What a cached vector depends on: the model, its runtime (vectors differ slightly), the side."""
    return "|".join([encoder.name, getattr(encoder, "identity", encoder.backend), str(encoder.dim), "passage"])


def embed_documents(texts: Sequence[str], encoder: DocumentEncoder, cache: EmbeddingCache | None = None,
                    progress: bool = False) -> Embedded:
    """Vectors for ``texts``: duplicates embedded once, cached ones read, the rest embedded and cached."""
    distinct = list(dict.fromkeys(texts))
    ident = identity(encoder)
    keys = {t: text_key(ident, t) for t in distinct}
    known = cache.get([keys[t] for t in distinct]) if cache is not None else {}
    vectors = {t: known[keys[t]] for t in distinct if keys[t] in known}
    todo = sorted((t for t in distinct if t not in vectors), key=len, reverse=True)
    show = progress and sys.stderr.isatty()
    with tqdm(total=len(todo), desc="embedding", unit="text", disable=not show, smoothing=0.1) as bar:
        for start in range(0, len(todo), BATCH_TEXTS):
            batch = todo[start : start + BATCH_TEXTS]
            fresh = encoder.encode_documents(batch)
            if cache is not None:
                cache.put([keys[t] for t in batch], fresh)
            vectors.update(zip(batch, fresh))
            bar.update(len(batch))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for row, text in enumerate(texts):
        out[row] = vectors[text]
    return Embedded(out, embedded=len(todo), cached=len(distinct) - len(todo))
