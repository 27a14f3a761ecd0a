"""Each article text's duplicate sketch (``index.duplicates.Sketch``) kept on disk by a hash of
the text, so a rebuild sketches only the texts it has not seen.

Why: grouping articles into stories runs over every article at every build (a copy arriving
today can join a story indexed a year ago), and most of its time is hashing each article's
shingles in Python, about a millisecond an article, whether or not the article changed
(docs/duplicates.md, "The cost at build time"). LSH and the exact checks are what is left.

Where: a table of the embedding cache's SQLite file, not of the index. Like a vector, a sketch
is a pure function of a text, needed only while building; kept there it survives what the
index's carry-over does not (``--full``, a new model or chunking, a new index format), also
holds the older versions of an article that the index leaves out, and is shared by two files
holding the same text. Keys are a hash of ``SKETCH_VERSION``, the shingle and MinHash
parameters, datasketch's version and the text, so a change of any of them simply misses.
It is bounded like the vectors (least recently used go first, ``max_rows``), and any error of
the file costs only speed: one log line, and the build sketches every text itself.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np

from .duplicates import NUM_PERM, SCHEME, SEED, SHINGLE_WORDS, SKETCH_VERSION, Sketch, sketch_texts
from .embed_cache import open_cache_file
from .logsafe import escape

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sketches (key BLOB PRIMARY KEY, shingles BLOB NOT NULL, signature BLOB NOT NULL,
    used REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sketches_used ON sketches(used);
"""
_IDENTITY = (f"sketch-v{SKETCH_VERSION}:shingle-words={SHINGLE_WORDS}:perm={NUM_PERM}:seed={SEED}:"
             f"{SCHEME}:datasketch={metadata.version('datasketch')}")
_BATCH = 500  # SQLite caps the parameters of one statement


def sketch_key(text: str) -> bytes:
    """The key of ``text``'s sketch."""
    return hashlib.blake2b(f"{_IDENTITY}\0{text}".encode("utf-8", "surrogatepass"), digest_size=20).digest()


class SketchCache:
    """Get and put sketches by key; a failing file turns the cache off."""

    def __init__(self, path: Path, max_rows: int) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self._db: sqlite3.Connection | None = None
        try:
            self._db = open_cache_file(self.path, SCHEMA, "sketches")
        except (sqlite3.Error, OSError) as exc:
            self._disable("cannot open", exc)

    def _disable(self, what: str, exc: BaseException) -> None:
        log.warning("duplicate sketch cache %s: %s %s; sketching every article",
                    escape(str(self.path)), what, escape(str(exc)))
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def get(self, keys: Sequence[bytes]) -> dict[bytes, Sketch]:
        """The sketches known for ``keys`` (marked as just used); unknown keys are absent."""
        if self._db is None or not keys:
            return {}
        found: dict[bytes, Sketch] = {}
        try:
            for start in range(0, len(keys), _BATCH):
                part = list(keys[start : start + _BATCH])
                marks = ",".join("?" * len(part))
                for key, shingles, signature in self._db.execute(
                        f"SELECT key, shingles, signature FROM sketches WHERE key IN ({marks})", part):
                    sketch = _decode(shingles, signature)
                    if sketch is not None:
                        found[bytes(key)] = sketch
            now = time.time()
            self._db.executemany("UPDATE sketches SET used = ? WHERE key = ?", [(now, k) for k in found])
            self._db.commit()
        except sqlite3.Error as exc:
            self._disable("cannot be read", exc)
            return {}
        return found

    def put(self, keys: Sequence[bytes], sketches: Sequence[Sketch]) -> None:
        """Remember ``sketches`` (one per key), committed at once, then trim to the bound."""
        if self._db is None or not keys:
            return
        now = time.time()
        rows = [(k, np.ascontiguousarray(s.shingles, dtype=np.uint32).tobytes(),
                 np.ascontiguousarray(s.signature, dtype=np.uint32).tobytes(), now) for k, s in zip(keys, sketches)]
        try:
            self._db.executemany("INSERT OR REPLACE INTO sketches VALUES (?,?,?,?)", rows)
            self._db.commit()
            self._trim()
        except sqlite3.Error as exc:
            self._disable("cannot be written", exc)

    def _trim(self) -> None:
        assert self._db is not None
        (count,) = self._db.execute("SELECT count(*) FROM sketches").fetchone()
        excess = count - self.max_rows
        if excess > 0:
            self._db.execute("DELETE FROM sketches WHERE key IN (SELECT key FROM sketches ORDER BY used LIMIT ?)",
                             (excess,))
            self._db.commit()

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM sketches").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _decode(shingles: bytes, signature: bytes) -> Sketch | None:
    """A stored sketch, or None when its signature is not NUM_PERM values (then it is recomputed)."""
    if len(signature) != 4 * NUM_PERM or len(shingles) % 4:
        return None
    return Sketch(np.frombuffer(shingles, dtype=np.uint32), np.frombuffer(signature, dtype=np.uint32))


def sketches_of(texts: Sequence[str], cache: SketchCache | None) -> tuple[list[Sketch], int]:
    """The sketch of each text, from the cache or computed (then kept), and how many texts were
    sketched here: each distinct text once, whatever how many articles carry it."""
    keys = [sketch_key(t) for t in texts]
    known = cache.get(list(dict.fromkeys(keys))) if cache is not None else {}
    missing: dict[bytes, str] = {}
    for key, text in zip(keys, texts):
        if key not in known:
            missing.setdefault(key, text)
    made = dict(zip(missing, sketch_texts(list(missing.values()))))
    if cache is not None and made:
        cache.put(list(made), list(made.values()))
    known.update(made)
    return [known[k] for k in keys], len(made)
