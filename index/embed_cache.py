"""Vectors already computed, kept on disk by (model, text), so no build embeds the same text twice.

Why: embedding is nearly all of a build's time. A ``--full`` rebuild after a chunking change, an
article that moved to another file, or the same wire story printed by several outlets would
otherwise embed text the machine has embedded before.

The cache is one SQLite file (atomic commits, so a build killed with ``kill -9`` leaves it usable
and keeps what was committed before the kill). Keys are a hash of the model identity, the side of
the model (query or passage) and the text, so a change of model or runtime simply misses. It is
bounded: above ``max_texts`` the least recently used vectors go first. A sentence's token vectors
(``index.token_match``) are kept beside, in their own table under their own keys. Any error of the cache
(unreadable, corrupt, full disk) costs only its speed: it logs one line and the build goes on
without it (``index.cache_table``, shared with the duplicate sketches).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .cache_table import CacheTable, cache_key


def text_key(identity: str, text: str) -> bytes:
    """The cache key of ``text`` embedded by the model (and runtime, and side) named ``identity``."""
    return cache_key(identity, text)


class EmbeddingCache:
    """Get and put float32 vectors of one dimension; a failing cache turns itself off."""

    def __init__(self, path: Path, dim: int, max_texts: int) -> None:
        self.path, self.dim, self.max_texts = Path(path), dim, max_texts
        self._table = CacheTable(self.path, "vectors", ("vector",), max_texts, "embedding cache",
                                 "building without it")
        self._tokens = CacheTable(self.path, "tokens", ("tokens",), max_texts, "token cache", "building without it")

    @property
    def enabled(self) -> bool:
        return self._table.enabled

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The vectors known for ``keys`` (marked as just used); unknown keys are absent, and so is a
        vector of another dimension."""
        found = {key: np.frombuffer(blob, dtype=np.float32) for key, (blob,) in self._table.get(keys).items()}
        return {key: vector for key, vector in found.items() if vector.shape == (self.dim,)}

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Remember ``vectors`` (one per key), committed at once, then trim to the bound."""
        self._table.put([(k, (np.ascontiguousarray(v, dtype=np.float32).tobytes(),)) for k, v in zip(keys, vectors)])

    def get_tokens(self, keys: Sequence[bytes], dims: int) -> dict[bytes, np.ndarray]:
        """The token vectors known for ``keys`` (tokens x ``dims`` int8); unknown keys are absent."""
        found = {key: np.frombuffer(blob, dtype=np.int8) for key, (blob,) in self._tokens.get(keys).items()}
        return {key: t.reshape(-1, dims) for key, t in found.items() if dims and t.size % dims == 0}

    def put_tokens(self, keys: Sequence[bytes], tokens: Sequence[np.ndarray]) -> None:
        self._tokens.put([(k, (np.ascontiguousarray(t, dtype=np.int8).tobytes(),)) for k, t in zip(keys, tokens)])

    def __len__(self) -> int:
        return len(self._table)

    def close(self) -> None:
        self._table.close()
        self._tokens.close()
