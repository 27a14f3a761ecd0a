"""RowFile: rows of a .npy matrix read with pread, equal to numpy's own reading, never memory-mapped."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.build import build_index
from index.engine import Engine
from index.rowfile import RowFile
from tests.support.encoder import FakeEncoder


@pytest.fixture
def matrix(tmp_path: Path) -> tuple[np.ndarray, Path]:
    data = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    path = tmp_path / "m.npy"
    np.save(path, data)
    return data, path


def test_rows_equal_numpy(matrix) -> None:
    data, path = matrix
    rows = RowFile(path)
    assert rows.shape == (50, 8) and len(rows) == 50 and rows.dtype == np.float32
    assert np.array_equal(rows[3], data[3]) and np.array_equal(rows[-1], data[-1])
    for index in ([5, 6, 7], [9, 2, 3, 4, 40], np.array([0, 49, 48]), [7]):
        assert np.array_equal(rows[index], data[np.asarray(index)])
    assert rows[[]].shape == (0, 8)
    rows.close()


def test_out_of_range_and_bad_files(matrix, tmp_path: Path) -> None:
    data, path = matrix
    rows = RowFile(path)
    with pytest.raises(IndexError):
        rows[50]
    with pytest.raises(IndexError):
        rows[[1, 50]]
    np.save(tmp_path / "flat.npy", np.zeros(5, dtype=np.float32))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(data))
    short = tmp_path / "short.npy"
    short.write_bytes(path.read_bytes()[:-40])
    for bad in ("flat.npy", "fortran.npy", "short.npy"):
        with pytest.raises(ValueError):
            RowFile(tmp_path / bad)


def test_concurrent_reads_agree(matrix) -> None:
    data, path = matrix
    rows = RowFile(path)
    picks = [np.random.default_rng(i).choice(50, 10, replace=False) for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda p: rows[p], picks))
    assert all(np.array_equal(g, data[p]) for g, p in zip(got, picks))


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc/self/maps")
def test_served_index_does_not_map_its_sentence_vectors(fake_settings) -> None:
    """Mapped, a 1M-chunk index's sentence file became 2.3 GB of the bot's RSS (README)."""
    (fake_settings.articles_dir / "a.txt").write_text("Título\nUna frase sobre misiles. Otra frase sobre Corea.\n",
                                                      encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    engine = Engine.open(fake_settings, FakeEncoder())
    answer = engine.ask("¿Qué frase habla de misiles?")
    assert answer.passages
    target = str(engine._index().path / store.SENTENCE_VECTORS)
    assert target not in Path("/proc/self/maps").read_text()
