"""Vectors already computed, kept on disk by (model, text), so no build embeds the same text twice.

Why: embedding is nearly all of a build's time. A ``--full`` rebuild after a chunking change, an
article that moved to another file, or the same wire story printed by several outlets would
otherwise embed text the machine has embedded before.

The cache is one SQLite file (atomic commits, so a build killed with ``kill -9`` leaves it usable
and keeps what was committed before the kill). Keys are a hash of the model identity, the side of
the model (query or passage) and the text, so a change of model or runtime simply misses. It is
bounded: above ``max_texts`` the least recently used vectors go first. Any error of the cache
(unreadable, corrupt, full disk) costs only its speed: it logs one line and the build goes on
without it.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .logsafe import escape

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL, used REAL NOT NULL)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used);
"""


def open_cache_file(path: Path, schema: str, table: str) -> sqlite3.Connection:
    """The cache file with ``schema`` in place (WAL: a killed build keeps what it committed);
    a corrupt file fails here, on a count of ``table``, not in the middle of a build."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
        db.execute(f"SELECT count(*) FROM {table}").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


def text_key(identity: str, text: str) -> bytes:
    """The cache key of ``text`` embedded by the model (and runtime, and side) named ``identity``."""
    return hashlib.blake2b(f"{identity}\0{text}".encode("utf-8", "surrogatepass"), digest_size=20).digest()


class EmbeddingCache:
    """Get and put float32 vectors of one dimension; a failing cache turns itself off."""

    def __init__(self, path: Path, dim: int, max_texts: int) -> None:
        self.path = Path(path)
        self.dim = dim
        self.max_texts = max_texts
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except (sqlite3.Error, OSError) as exc:
            self._disable("cannot open", exc)

    def _open(self) -> sqlite3.Connection:
        return open_cache_file(self.path, SCHEMA, "vectors")

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _disable(self, what: str, exc: BaseException) -> None:
        log.warning("embedding cache %s: %s %s; building without it",
                    escape(str(self.path)), what, escape(str(exc)))
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The vectors known for ``keys`` (marked as just used); unknown keys are absent."""
        if self._db is None or not keys:
            return {}
        found: dict[bytes, np.ndarray] = {}
        try:
            for start in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
                part = list(keys[start : start + 500])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part):
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dim,):
                        found[bytes(key)] = vector
            now = time.time()
            self._db.executemany("UPDATE vectors SET used = ? WHERE key = ?", [(now, k) for k in found])
            self._db.commit()
        except sqlite3.Error as exc:
            self._disable("cannot be read", exc)
            return {}
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Remember ``vectors`` (one per key), committed at once, then trim to the bound."""
        if self._db is None or not len(keys):
            return
        now = time.time()
        rows = [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes(), now) for k, v in zip(keys, vectors)]
        try:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)", rows)
            self._db.commit()
            self._trim()
        except sqlite3.Error as exc:
            self._disable("cannot be written", exc)

    def _trim(self) -> None:
        assert self._db is not None
        (count,) = self._db.execute("SELECT count(*) FROM vectors").fetchone()
        excess = count - self.max_texts
        if excess > 0:
            self._db.execute("DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used LIMIT ?)",
                             (excess,))
            self._db.commit()

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
