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
from .token_match import empty

BATCH_TEXTS = 64  # texts per call to the encoder: the progress bar's and the cache's step


class DocumentEncoder(Protocol):
    name: str
    backend: str
    dim: int

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Embedded:
    """The vectors of the texts asked for, in their order, and where they came from; the token
    vectors of the texts asked with them (empty for the others, and for a model without them)."""

    vectors: np.ndarray
    embedded: int = 0  # distinct texts the model ran on
    cached: int = 0  # distinct texts whose vector came from the cache
    tokens: list[np.ndarray] | None = None


def identity(encoder: DocumentEncoder) -> str:
    """What a cached vector depends on: the model, its runtime (vectors differ slightly), the side."""
    return "|".join([encoder.name, getattr(encoder, "identity", encoder.backend), str(encoder.dim), "passage"])


def token_dims(encoder: DocumentEncoder) -> int:
    """The width of the encoder's token vectors; 0 when it gives none (``index.token_match``)."""
    basis = getattr(encoder, "token_basis", None)
    return basis.dims if basis is not None else 0


def embed_documents(texts: Sequence[str], encoder: DocumentEncoder, cache: EmbeddingCache | None = None,
                    progress: bool = False, with_tokens: frozenset[str] = frozenset()) -> Embedded:
    """Vectors for ``texts``: duplicates embedded once, cached ones read, the rest embedded and cached.

    The texts in ``with_tokens`` (sentences) get their token vectors too, from the same runs; a
    text counts as cached only when all it needs is."""
    distinct = list(dict.fromkeys(texts))
    ident = identity(encoder)
    dims = token_dims(encoder)
    wants = with_tokens if dims else frozenset()
    keys = {t: text_key(ident, t) for t in distinct}
    token_keys = {t: text_key(f"{ident}|tokens|{encoder.token_basis.fingerprint}", t)  # type: ignore[attr-defined]
                  for t in distinct if t in wants}
    known = cache.get([keys[t] for t in distinct]) if cache is not None else {}
    vectors = {t: known[keys[t]] for t in distinct if keys[t] in known}
    known_tokens = cache.get_tokens(list(token_keys.values()), dims) if cache is not None and token_keys else {}
    tokens = {t: known_tokens[k] for t, k in token_keys.items() if k in known_tokens}
    todo = sorted((t for t in distinct if t not in vectors or (t in wants and t not in tokens)), key=len, reverse=True)
    show = progress and sys.stderr.isatty()
    with tqdm(total=len(todo), desc="embedding", unit="text", disable=not show, smoothing=0.1) as bar:
        for start in range(0, len(todo), BATCH_TEXTS):
            batch = todo[start : start + BATCH_TEXTS]
            if any(t in wants for t in batch):
                fresh, fresh_tokens = encoder.encode_documents_with_tokens(batch)  # type: ignore[attr-defined]
                got = [(t, tok) for t, tok in zip(batch, fresh_tokens) if t in wants]
                tokens.update(got)
                if cache is not None:
                    cache.put_tokens([token_keys[t] for t, _ in got], [tok for _, tok in got])
            else:
                fresh = encoder.encode_documents(batch)
            if cache is not None:
                cache.put([keys[t] for t in batch], fresh)
            vectors.update(zip(batch, fresh))
            bar.update(len(batch))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for row, text in enumerate(texts):
        out[row] = vectors[text]
    return Embedded(out, embedded=len(todo), cached=len(distinct) - len(todo),
                    tokens=[tokens.get(t, empty(dims)) for t in texts])
