"""The kept duplicate sketches (index.sketch_cache): what is read back is what was made, each
distinct text is sketched once, a broken file costs only speed, the vectors' file is shared."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from index.duplicates import group_sketches, group_texts, sketch_texts
from index.embed_cache import EmbeddingCache
from index.sketch_cache import SketchCache, sketch_key, sketches_of
from tests.test_duplicates import ECONOMY, FIRE, FIRE_OTHER

TEXTS = [FIRE, ECONOMY, "Ciudad de México (Agencia). " + FIRE + " Prohibida su reproducción.", FIRE_OTHER]


def same(a, b) -> bool:
    return np.array_equal(a.shingles, b.shingles) and np.array_equal(a.signature, b.signature)


def test_kept_sketches_read_back_as_made(tmp_path: Path) -> None:
    cache = SketchCache(tmp_path / "c.sqlite", 100)
    made, sketched = sketches_of(TEXTS, cache)
    assert sketched == len(TEXTS) and len(cache) == len(TEXTS)
    kept, sketched_again = sketches_of(TEXTS, cache)
    assert sketched_again == 0
    assert all(same(a, b) for a, b in zip(made, kept))
    assert group_sketches(kept, 0.55) == group_texts(TEXTS, 0.55)


def test_each_distinct_text_is_sketched_once(tmp_path: Path) -> None:
    cache = SketchCache(tmp_path / "c.sqlite", 100)
    sketches, sketched = sketches_of([FIRE, ECONOMY, FIRE], cache)
    assert sketched == 2 and same(sketches[0], sketches[2])
    _, sketched = sketches_of([FIRE, FIRE_OTHER], cache)
    assert sketched == 1  # only the text not seen before


def test_without_a_cache_every_text_is_sketched() -> None:
    sketches, sketched = sketches_of(TEXTS, None)
    assert sketched == len(TEXTS)
    assert all(same(a, b) for a, b in zip(sketches, sketch_texts(TEXTS)))


def test_the_bound_drops_the_least_recently_used(tmp_path: Path) -> None:
    cache = SketchCache(tmp_path / "c.sqlite", 2)
    sketches_of(TEXTS, cache)
    assert len(cache) == 2


def test_a_corrupt_file_is_logged_once_and_every_text_sketched(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="index.sketch_cache"):
        cache = SketchCache(path, 100)
        sketches, sketched = sketches_of(TEXTS, cache)
    assert sketched == len(TEXTS) and len(sketches) == len(TEXTS)
    assert len([r for r in caplog.records if "sketch cache" in r.getMessage()]) == 1


def test_a_damaged_row_is_sketched_again(tmp_path: Path) -> None:
    cache = SketchCache(tmp_path / "c.sqlite", 100)
    sketches_of([FIRE], cache)
    cache._table._db.execute("UPDATE sketches SET signature = ? WHERE key = ?", (b"\0" * 12, sketch_key(FIRE)))
    cache._table._db.commit()
    sketches, sketched = sketches_of([FIRE], cache)
    assert sketched == 1 and same(sketches[0], sketch_texts([FIRE])[0])


def test_sketches_and_vectors_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    vectors = EmbeddingCache(path, 4, 100)
    vectors.put([b"v"], np.ones((1, 4), dtype=np.float32))
    sketches = SketchCache(path, 100)
    sketches_of([FIRE], sketches)
    assert len(vectors) == 1 and len(sketches) == 1
    vectors.close()
    sketches.close()
