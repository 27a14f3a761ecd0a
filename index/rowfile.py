"""Rows of a saved 2-D .npy matrix, read on demand with ``pread`` instead of a memory map.

Why not ``np.load(mmap_mode="r")``: each question reads the sentence vectors of its ~200
candidate chunks, scattered over the file. Through a memory map the kernel maps the already
cached pages around every read into the process (the checksum pass at start has cached the
whole file), so after a few hundred questions a 1M-chunk index's 2.2 GB sentence file all
counted as the bot's resident memory, and ``madvise(MADV_RANDOM)`` did not stop it
(scripts/bench_scale.py, docs/performance.md). ``pread`` copies just the rows asked for, and the file stays
in the shared page cache, where the kernel can drop it.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class RowFile:
    """Read-only rows of a C-ordered 2-D .npy file; thread-safe (``pread`` has no file position)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        try:
            with open(path, "rb", buffering=0) as handle:
                version = np.lib.format.read_magic(handle)
                if version not in _HEADER_READERS:
                    raise ValueError(f"{path}: unsupported .npy format version {version}")
                shape, fortran, dtype = _HEADER_READERS[version](handle)
                self._offset = handle.tell()
            if fortran or len(shape) != 2 or dtype.hasobject:
                raise ValueError(f"{path}: expected a C-ordered 2-D numeric array, got {shape} {dtype}")
            if self._offset + shape[0] * shape[1] * dtype.itemsize > os.fstat(self._fd).st_size:
                raise ValueError(f"{path}: shorter than its header says")
        except BaseException:
            self.close()
            raise
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = dtype
        self._row_bytes = self.shape[1] * dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, first: int, count: int) -> np.ndarray:
        data = os.pread(self._fd, count * self._row_bytes, self._offset + first * self._row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])

    def __getitem__(self, index) -> np.ndarray:
        """One row (an int) or several (a sequence of ints), in the order asked."""
        if isinstance(index, (int, np.integer)):
            row = int(index) + (self.shape[0] if index < 0 else 0)
            if not 0 <= row < self.shape[0]:
                raise IndexError(f"row {index} out of range for {self.shape[0]} rows")
            return self._read(row, 1)[0]
        rows = np.asarray(index, dtype=np.int64).reshape(-1)
        if len(rows) == 0:
            return np.zeros((0, self.shape[1]), dtype=self.dtype)
        if rows.min() < 0 or rows.max() >= self.shape[0]:
            raise IndexError(f"rows out of range for {self.shape[0]} rows")
        return self._gather(rows)

    def span(self, first: int, end: int) -> np.ndarray:
        """The consecutive rows [first, end), in one read."""
        if not 0 <= first <= end <= self.shape[0]:
            raise IndexError(f"rows {first}:{end} out of range for {self.shape[0]} rows")
        return self._read(first, end - first)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """One pread per run of consecutive rows (a chunk's sentences are consecutive)."""
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks, [len(rows)]])
        return np.concatenate([self._read(int(rows[a]), int(b - a)) for a, b in zip(starts, ends)])

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    # An index replaced by a hot reload is dropped, not closed (its queries may still run).
    __del__ = close
