"""The on-disk index: a directory of plain files, switched in atomically.

Layout of an index directory::

    DIR/current          symlink -> builds/<id> (replaced atomically with os.replace)
    DIR/builds/<id>/     manifest.json, vectors.faiss, sentences.npy, chunk_sentences.npy,
                         meta.sqlite, bm25/ (bm25s numpy + JSON files), aliases.tsv
    DIR/build.lock       flock held by the one running build

A build writes ``builds/.tmp-<id>`` and only renames it and moves ``current`` once every
file is written and fsynced, so a build killed at any moment leaves the served index intact.
No pickle anywhere: numpy arrays load with allow_pickle=False, metadata is SQLite and JSON.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from .errors import BuildLocked, IndexCorrupt, IndexMismatch, IndexNotFound
from .lemmas import fingerprint as lemma_fingerprint, spanish_lemmas
from .lexical import Analyzer, Bm25Index
from .duplicates import also_in_of
from .records import AlsoIn, ArticleInfo, IndexInfo
from .rowfile import RowFile
from .storage import LexicalHits
from .vectors import tune_for_search

# The stories ``list_articles`` lists: each once, dated up to ``until`` (undated too) and from ``since``.
_LISTED = "story = id AND (? IS NULL OR date IS NULL OR date <= ?) AND (? IS NULL OR date >= ?)"

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 2: chunk_sentences.npy; 3: articles.story (near-duplicate stories); 4: sentence tokens
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentences.npy"
CHUNK_SENTENCES = "chunk_sentences.npy"
SENTENCE_TOKENS = "sentence_tokens.npy"  # index.token_match: every sentence's token vectors, end to end
SENTENCE_TOKEN_SPANS = "sentence_token_spans.npy"  # each sentence's [first, end) rows in them
METADATA = "meta.sqlite"
BM25_DIR = "bm25"
ALIASES = "aliases.tsv"
CURRENT = "current"
BUILDS = "builds"
LOCK = "build.lock"
KEEP_BUILDS = 2
REBUILD_HINT = "rebuild it with `python -m index build --full`"

SCHEMA = """
CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, url TEXT,
    source TEXT, path TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL, story TEXT NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, article_id TEXT NOT NULL,
    position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, article_id TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX chunks_article ON chunks(article_id, position);
CREATE INDEX sentences_article ON sentences(article_id, start);
CREATE INDEX articles_date ON articles(date);
CREATE INDEX articles_story ON articles(story);
"""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_files(build_dir: Path) -> list[Path]:
    """Every file of a build that the manifest checksums (all but the manifest itself)."""
    return sorted(p for p in build_dir.rglob("*") if p.is_file() and p.name != MANIFEST)


def fsync_tree(directory: Path) -> None:
    """Flush file contents and directory entries before the switch makes them visible."""
    for path in [*data_files(directory), directory / MANIFEST]:
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    for folder in [directory, *[p for p in directory.rglob("*") if p.is_dir()]]:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory; the kernel drops the lock if the build dies."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise BuildLocked(f"another build is running on {index_dir} (lock {index_dir / LOCK})") from exc
            raise
        yield
    finally:
        handle.close()


def current_build(index_dir: Path) -> Path | None:
    """The build the ``current`` pointer names, or None when there is none yet."""
    pointer = Path(index_dir) / CURRENT
    try:
        target = os.readlink(pointer)
    except (FileNotFoundError, OSError):
        return None
    path = (Path(index_dir) / target).resolve()
    return path if path.is_dir() else None


def switch_current(index_dir: Path, build_dir: Path) -> None:
    """Atomically point ``current`` at ``build_dir`` (a relative symlink, replaced by rename)."""
    tmp = index_dir / f".{CURRENT}.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(build_dir, index_dir), tmp)
    os.replace(tmp, index_dir / CURRENT)
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_builds(index_dir: Path, keep: Path | None) -> None:
    """Drop leftovers of killed builds and all but the newest finished builds."""
    builds = index_dir / BUILDS
    if not builds.is_dir():
        return
    for tmp in builds.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    finished = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    for old in finished[KEEP_BUILDS:]:
        if keep is None or old.resolve() != keep.resolve():
            shutil.rmtree(old, ignore_errors=True)


def read_manifest(build_dir: Path) -> dict:
    try:
        return json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"{build_dir} has no {MANIFEST}; {REBUILD_HINT}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{build_dir / MANIFEST} is not valid JSON; {REBUILD_HINT}") from exc


def verify_checksums(build_dir: Path, manifest: dict) -> None:
    """Refuse a build whose files differ from what its manifest recorded."""
    expected: dict[str, str] = manifest.get("files", {})
    if not expected:
        raise IndexCorrupt(f"{build_dir / MANIFEST} lists no files; {REBUILD_HINT}")
    for name, digest in expected.items():
        path = build_dir / name
        if not path.is_file():
            raise IndexCorrupt(f"{path} is missing; {REBUILD_HINT}")
        if sha256_file(path) != digest:
            raise IndexCorrupt(f"{path} does not match its checksum in the manifest; {REBUILD_HINT}")


def check_compatible(manifest: dict, model: str, where: Path) -> None:
    """An index embedded by another model or written in another format cannot be searched."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {where} has format version {manifest.get('format_version')}, this code reads "
            f"version {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    if manifest.get("model", {}).get("name") != model:
        raise IndexMismatch(
            f"index at {where} was built with model {manifest.get('model', {}).get('name')!r}, "
            f"but the configured model is {model!r}; {REBUILD_HINT}"
        )


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Rows of the n largest positive scores, best first."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > n:
        positive = positive[np.argpartition(-scores[positive], n - 1)[:n]]
    return positive[np.argsort(-scores[positive], kind="stable")]


@dataclass(frozen=True)
class ChunkRow:
    row: int
    chunk_id: str
    article_id: str
    position: int
    start: int
    end: int
    text: str
    title: str
    date: str | None
    url: str | None
    source: str | None
    story: str = ""  # the story's id: its representative article's id (index.duplicates)
    also_in: tuple[AlsoIn, ...] = ()  # the story's other outlets


class StoredIndex:
    """A loaded, validated build of the index folder (the ``index.storage.Storage`` interface).
    Read-only and safe to query from several threads."""

    def __init__(self, build_dir: Path, manifest: dict) -> None:
        self.path = build_dir
        self.manifest = manifest
        self.vectors = faiss.read_index(str(build_dir / VECTORS))
        tune_for_search(self.vectors, manifest.get("faiss", {}))  # nprobe / efSearch from the build
        self.sentence_vectors = RowFile(build_dir / SENTENCE_VECTORS)  # read with pread, see rowfile.py
        self.token_rows = RowFile(build_dir / SENTENCE_TOKENS)
        self.token_spans = RowFile(build_dir / SENTENCE_TOKEN_SPANS)
        # [first, end) sentence rows of each chunk: search scores a chunk by its best sentence.
        self.chunk_sentences = np.load(build_dir / CHUNK_SENTENCES, allow_pickle=False)
        self.bm25 = Bm25Index.load(build_dir / BM25_DIR, mmap=True)
        # Queries are analysed as the build analysed the chunks: an index from before lemmas has none.
        analysis = manifest.get("analyzer", {})
        built_with = analysis.get("lemmas")
        lemmas = spanish_lemmas() if built_with else None
        if built_with and built_with != lemma_fingerprint():
            log.warning("index %s was built with another lemma table; the next build re-analyses it", build_dir.name)
        self.analyzer = Analyzer((build_dir / ALIASES).read_text(encoding="utf-8"), lemmas,
                                 alias_parts=bool(analysis.get("alias_parts")))
        uri = f"file:{build_dir / METADATA}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._db_lock = threading.Lock()
        self._check_counts()
        self.also_in = self._also_in()

    def _also_in(self) -> dict[str, tuple[AlsoIn, ...]]:
        """For each article of a story carried by several outlets, the other outlets (named once,
        not the article's own, at most ``MAX_ALSO_IN``). Loaded once: few articles have any."""
        rows = self.query(
            "SELECT id, story, source, url FROM articles WHERE story IN "
            "(SELECT story FROM articles GROUP BY story HAVING COUNT(*) > 1) ORDER BY story, id != story, id"
        )
        return also_in_of(rows)

    def _check_counts(self) -> None:
        counts = self.manifest.get("counts", {})
        if self.vectors.ntotal != counts.get("chunks") or self.bm25.num_docs != counts.get("chunks"):
            raise IndexCorrupt(f"{self.path}: vector or BM25 count differs from the manifest; {REBUILD_HINT}")
        if self.chunk_sentences.shape != (counts.get("chunks"), 2):
            raise IndexCorrupt(f"{self.path}: chunk-to-sentence table differs from the manifest; {REBUILD_HINT}")
        if self.sentence_vectors.shape[0] != counts.get("sentences"):
            raise IndexCorrupt(f"{self.path}: sentence vector count differs from the manifest; {REBUILD_HINT}")
        if self.token_spans.shape[0] != counts.get("sentences"):
            raise IndexCorrupt(f"{self.path}: sentence token table differs from the manifest; {REBUILD_HINT}")

    @classmethod
    def open(cls, index_dir: Path, model: str, verify: bool = True) -> "StoredIndex":
        """Load the build ``current`` points at; raises IndexNotFound / IndexMismatch / IndexCorrupt."""
        build_dir = current_build(Path(index_dir))
        if build_dir is None:
            raise IndexNotFound(
                f"no index at {index_dir}; build one with `python -m index build --index {index_dir}`"
            )
        return cls.open_build(build_dir, model, verify)

    @classmethod
    def open_build(cls, build_dir: Path, model: str, verify: bool = True) -> "StoredIndex":
        manifest = read_manifest(build_dir)
        check_compatible(manifest, model, build_dir)
        if verify:
            verify_checksums(build_dir, manifest)
        try:
            return cls(build_dir, manifest)
        except (OSError, RuntimeError, ValueError, sqlite3.DatabaseError) as exc:
            raise IndexCorrupt(f"cannot read index files in {build_dir}: {exc}; {REBUILD_HINT}") from exc

    @property
    def build_key(self) -> Path:
        return self.path

    @property
    def size(self) -> int:
        return int(self.vectors.ntotal)

    def lexical(self, terms: list[str], k: int, rows=()) -> LexicalHits:
        """bm25s scores every row at once; the top ``k`` and the asked rows are kept."""
        scores = self.bm25.scores(terms)
        top = top_rows(scores, k)
        wanted = {int(r) for r in top} | {int(r) for r in rows}
        return LexicalHits(top, {r: float(scores[r]) for r in wanted})

    def idf(self, terms: list[str], unknown_factor: float = 1.0) -> dict[str, float]:
        return self.bm25.idf(terms, unknown_factor)

    def dense_top(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        values, rows = self.vectors.search(vector.reshape(1, -1), k)
        return rows[0], values[0]

    def cosines(self, vector: np.ndarray, rows) -> np.ndarray:
        """Exact cosine of the query with given rows (vectors are normalised)."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.vstack([self.vectors.reconstruct(int(r)) for r in rows]) @ vector

    def best_sentence_cosines(self, vector: np.ndarray, rows) -> np.ndarray:
        spans = self.chunk_sentences[np.asarray(rows, dtype=np.int64)]
        sizes = spans[:, 1] - spans[:, 0]
        out = np.full(len(spans), np.nan)
        has = sizes > 0
        if not has.any():
            return out
        flat = np.concatenate([np.arange(a, b) for a, b in spans[has]])
        sims = np.asarray(self.sentence_vectors[flat], dtype=np.float32) @ vector
        offsets = np.concatenate([[0], np.cumsum(sizes[has])[:-1]])
        out[has] = np.maximum.reduceat(sims, offsets)
        return out

    def sentence_cosines(self, vector: np.ndarray, rows) -> np.ndarray:
        return np.asarray(self.sentence_vectors[list(rows)], dtype=np.float32) @ vector

    def sentence_tokens(self, rows) -> list[np.ndarray]:
        """Each sentence's token vectors (``index.token_match``), in the order asked: one read per
        run of consecutive sentences (a story's), whose token vectors are consecutive too."""
        spans = self.token_spans[list(rows)]
        out: list[np.ndarray] = []
        run = 0
        for i in range(1, len(spans) + 1):
            if i == len(spans) or spans[i, 0] != spans[i - 1, 1]:
                block, base = self.token_rows.span(int(spans[run, 0]), int(spans[i - 1, 1])), int(spans[run, 0])
                out.extend(block[a - base : b - base] for a, b in spans[run:i])
                run = i
        return out

    def articles(self, ids) -> list[ArticleInfo]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.query(f"SELECT id, title, date, url, source FROM articles WHERE id IN ({marks})", tuple(ids))
        return [ArticleInfo(*r) for r in rows]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._db_lock:
            return self._db.execute(sql, params).fetchall()

    def chunks(self, rows: list[int]) -> list[ChunkRow]:
        """Chunk rows with their article's metadata, in the order asked."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        found = self.query(
            f'SELECT c.row, c.chunk_id, c.article_id, c.position, c.start, c."end", c.text, '
            f"a.title, a.date, a.url, a.source, a.story FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"WHERE c.row IN ({marks})",
            tuple(int(r) for r in rows),
        )
        by_row = {r[0]: ChunkRow(*r, also_in=self.also_in.get(r[2], ())) for r in found}
        return [by_row[int(r)] for r in rows if int(r) in by_row]

    def article_chunks(self, article_id: str) -> list[ChunkRow]:
        """All chunks of one article, in reading order."""
        return self.chunks(self.article_rows(article_id)[0])

    def article_rows(self, article_id: str) -> tuple[list[int], list[int]]:
        """The article's chunk rows in reading order and its sentence rows in text order
        (a rebuild copies an unchanged article's vectors from them)."""
        chunks = self.query("SELECT row FROM chunks WHERE article_id = ? ORDER BY position", (article_id,))
        sentences = self.query("SELECT row FROM sentences WHERE article_id = ? ORDER BY start", (article_id,))
        return [r[0] for r in chunks], [r[0] for r in sentences]

    def list_articles(self, offset: int = 0, limit: int = 10, until: str | None = None,
                      since: str | None = None) -> list[ArticleInfo]:
        """One row per story (its representative, naming the story's other outlets), newest
        first; undated last, by title. ``until`` (ISO day): none dated after it (ISO text of
        any precision compares as its first day); ``since``: only those dated from it on (see
        ``storage.Storage.list_articles``)."""
        rows = self.query(
            f"SELECT id, title, date, url, source FROM articles WHERE {_LISTED} "
            "ORDER BY date IS NULL, date DESC, title LIMIT ? OFFSET ?",
            (until, until, since, since, max(0, limit), max(0, offset)),
        )
        return [ArticleInfo(*r, also_in=self.also_in.get(r[0], ())) for r in rows]

    def count_listed(self, until: str | None = None, since: str | None = None) -> int:
        """How many rows ``list_articles`` has in all (with the same ``until`` and ``since``)."""
        rows = self.query(f"SELECT COUNT(*) FROM articles WHERE {_LISTED}", (until, until, since, since))
        return int(rows[0][0])

    def info(self) -> IndexInfo:
        """What the manifest says about this build, for /start and /estado; and the stories
        /fuentes lists (one per story)."""
        m = self.manifest
        dates = m.get("dates", {})
        return IndexInfo(str(self.path), m["counts"]["articles"], m["counts"]["chunks"], m["built_at"],
                         m["model"]["name"], dates.get("min"), dates.get("max"), stories=self.count_listed())

    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """(row, start, end) of the article's sentences inside [start, end)."""
        return self.query(
            'SELECT row, start, "end" FROM sentences WHERE article_id = ? AND start >= ? AND "end" <= ? '
            "ORDER BY start",
            (article_id, start, end),
        )

    def article_text(self, article_id: str) -> str:
        rows = self.query("SELECT text FROM articles WHERE id = ?", (article_id,))
        return rows[0][0] if rows else ""

    def close(self) -> None:
        with self._db_lock:
            self._db.close()
        self.sentence_vectors.close()
        self.token_rows.close()
        self.token_spans.close()
