"""One table of a build cache file: values (blobs) by key, bounded, least recently used out first.

Why one class for both build caches (the embedding vectors, ``index.embed_cache``, and the
duplicate sketches, ``index.sketch_cache``): they keep different values in the same file under
the same rules. The file is SQLite (atomic commits, WAL: a build killed with ``kill -9`` keeps
what it committed). Above ``max_rows`` the least recently used rows go first. Any error of the
file (unreadable, corrupt, full disk) costs only speed: one log line, then the table turns
itself off and the build computes every value itself.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Sequence

from .logsafe import escape

log = logging.getLogger(__name__)

_BATCH = 500  # SQLite caps the parameters of one statement


def cache_key(identity: str, text: str) -> bytes:
    """The key of ``text`` computed the way ``identity`` names (model and side, sketch parameters)."""
    return hashlib.blake2b(f"{identity}\0{text}".encode("utf-8", "surrogatepass"), digest_size=20).digest()


def _schema(table: str, columns: Sequence[str]) -> str:
    values = "".join(f"{c} BLOB NOT NULL, " for c in columns)
    return (f"CREATE TABLE IF NOT EXISTS {table} (key BLOB PRIMARY KEY, {values}used REAL NOT NULL) WITHOUT ROWID;\n"
            f"CREATE INDEX IF NOT EXISTS {table}_used ON {table}(used);")


def _open(path: Path, schema: str, table: str) -> sqlite3.Connection:
    """The file with ``schema`` in place; a corrupt file fails here, on a count of ``table``,
    not in the middle of a build."""
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


class CacheTable:
    """Get and put rows of blobs by key in one table; a failing file turns the table off.

    ``what`` names the cache in the log line, ``without`` says how the build goes on without it.
    """

    def __init__(self, path: Path, table: str, columns: Sequence[str], max_rows: int, what: str,
                 without: str) -> None:
        self.path, self.table, self.columns, self.max_rows = Path(path), table, tuple(columns), max_rows
        self._what, self._without = what, without
        self._db: sqlite3.Connection | None = None
        try:
            self._db = _open(self.path, _schema(table, self.columns), table)
        except (sqlite3.Error, OSError) as exc:
            self._disable("cannot open", exc)

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _disable(self, what: str, exc: BaseException) -> None:
        log.warning("%s %s: %s %s; %s", self._what, escape(str(self.path)), what, escape(str(exc)), self._without)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def get(self, keys: Sequence[bytes]) -> dict[bytes, tuple[bytes, ...]]:
        """The rows known for ``keys`` (marked as just used); unknown keys are absent."""
        if self._db is None or not keys:
            return {}
        found: dict[bytes, tuple[bytes, ...]] = {}
        select = f"SELECT key, {', '.join(self.columns)} FROM {self.table} WHERE key IN "
        try:
            for start in range(0, len(keys), _BATCH):
                part = list(keys[start : start + _BATCH])
                for key, *values in self._db.execute(select + f"({','.join('?' * len(part))})", part):
                    found[bytes(key)] = tuple(values)
            now = time.time()
            self._db.executemany(f"UPDATE {self.table} SET used = ? WHERE key = ?", [(now, k) for k in found])
            self._db.commit()
        except sqlite3.Error as exc:
            self._disable("cannot be read", exc)
            return {}
        return found

    def put(self, rows: Sequence[tuple[bytes, tuple[bytes, ...]]]) -> None:
        """Remember ``(key, values)`` rows, committed at once, then trim to the bound."""
        if self._db is None or not rows:
            return
        now = time.time()
        marks = ",".join("?" * (len(self.columns) + 2))
        try:
            self._db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES ({marks})",
                                 [(key, *values, now) for key, values in rows])
            self._db.commit()
            self._trim()
        except sqlite3.Error as exc:
            self._disable("cannot be written", exc)

    def _trim(self) -> None:
        assert self._db is not None
        excess = len(self) - self.max_rows
        if excess > 0:
            self._db.execute(f"DELETE FROM {self.table} WHERE key IN "
                             f"(SELECT key FROM {self.table} ORDER BY used LIMIT ?)", (excess,))
            self._db.commit()

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
