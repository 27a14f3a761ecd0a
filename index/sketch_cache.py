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

from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np

from .cache_table import CacheTable, cache_key
from .duplicates import NUM_PERM, SCHEME, SEED, SHINGLE_WORDS, SKETCH_VERSION, Sketch, sketch_texts

_IDENTITY = (f"sketch-v{SKETCH_VERSION}:shingle-words={SHINGLE_WORDS}:perm={NUM_PERM}:seed={SEED}:"
             f"{SCHEME}:datasketch={metadata.version('datasketch')}")


def sketch_key(text: str) -> bytes:
    """The key of ``text``'s sketch."""
    return cache_key(_IDENTITY, text)


class SketchCache:
    """Get and put sketches by key; a failing file turns the cache off."""

    def __init__(self, path: Path, max_rows: int) -> None:
        self.path, self.max_rows = Path(path), max_rows
        self._table = CacheTable(self.path, "sketches", ("shingles", "signature"), max_rows,
                                 "duplicate sketch cache", "sketching every article")

    @property
    def enabled(self) -> bool:
        return self._table.enabled

    def get(self, keys: Sequence[bytes]) -> dict[bytes, Sketch]:
        """The sketches known for ``keys`` (marked as just used); unknown or damaged ones are absent."""
        found = {key: _decode(*values) for key, values in self._table.get(keys).items()}
        return {key: sketch for key, sketch in found.items() if sketch is not None}

    def put(self, keys: Sequence[bytes], sketches: Sequence[Sketch]) -> None:
        """Remember ``sketches`` (one per key), committed at once, then trim to the bound."""
        self._table.put([(k, (np.ascontiguousarray(s.shingles, dtype=np.uint32).tobytes(),
                              np.ascontiguousarray(s.signature, dtype=np.uint32).tobytes()))
                         for k, s in zip(keys, sketches)])

    def __len__(self) -> int:
        return len(self._table)

    def close(self) -> None:
        self._table.close()


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
