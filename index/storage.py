"""The storage interface search, answers, follow-ups and the engine talk to, and how to open one.

Two implementations: the index folder (``index.store.StoredIndex``: FAISS + SQLite + bm25s) and
PostgreSQL with pgvector (``index.pg_store.PgIndex``), chosen by ``settings.database_url``.
Every call is shaped so a database answers it with one query: top-k and scores for given rows,
never a dense array over all rows. Analysis (``analyzer``), fusion, re-ranking and answers stay
in Python and are shared.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Hashable, Protocol, Sequence

import numpy as np

from .lexical import Analyzer
from .records import AlsoIn, ArticleInfo, IndexInfo
from .settings import Settings

if TYPE_CHECKING:
    from .store import ChunkRow


@dataclass(frozen=True)
class LexicalHits:
    """BM25 of a query: the top rows (best first, positive scores only) and the score of every row
    asked for besides (rows holding none of the terms score 0 and may be absent)."""

    top: np.ndarray  # int64 rows, best first
    scores: dict[int, float] = field(default_factory=dict)  # row -> BM25, top rows and asked rows

    def score(self, row: int) -> float:
        return self.scores.get(int(row), 0.0)


class Storage(Protocol):
    """A loaded, validated build; read-only and safe to query from several threads."""

    analyzer: Analyzer  # the build's analysis: questions are analysed as its chunks were
    also_in: dict[str, tuple[AlsoIn, ...]]  # article id -> its story's other outlets (only for such articles)
    manifest: dict  # what the build recorded: format, model and dimension, analyzer, counts, article hashes

    @property
    def build_key(self) -> Hashable:
        """What identifies the build served (a folder, a build id): the engine reloads when it moves."""

    @property
    def size(self) -> int:
        """Number of chunk rows."""

    def lexical(self, terms: Sequence[str], k: int, rows: Sequence[int] = ()) -> LexicalHits:
        """BM25 top ``k`` for the analysed ``terms``, and the BM25 of ``rows``."""

    def idf(self, terms: Sequence[str], unknown_factor: float = 1.0) -> dict[str, float]:
        """Inverse document frequency of each term (bm25s' Lucene variant, see lexical.Bm25Index.idf)."""

    def dense_top(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the ``k`` chunks nearest the query vector, best first."""

    def cosines(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Exact cosine of the query vector with each chunk row's vector."""

    def best_sentence_cosines(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Each chunk row's best sentence cosine with the query; NaN for a chunk without sentences."""

    def sentence_cosines(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Cosine of the query vector with each sentence row's vector (float32)."""

    def sentence_tokens(self, rows: Sequence[int]) -> list[np.ndarray]:
        """Each sentence row's token vectors (``index.token_match``; none from a model without them)."""

    def chunks(self, rows: Sequence[int]) -> list[ChunkRow]:
        """Chunk rows with their article's metadata, in the order asked."""

    def article_chunks(self, article_id: str) -> list[ChunkRow]:
        """All chunks of one article, in reading order."""

    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """(row, start, end) of the article's sentences inside [start, end), in text order."""

    def article_text(self, article_id: str) -> str: ...

    def articles(self, ids: Sequence[str]) -> list[ArticleInfo]:
        """The listing rows of the given articles (any order)."""

    def list_articles(self, offset: int = 0, limit: int = 10, until: str | None = None,
                      since: str | None = None) -> list[ArticleInfo]:
        """One row per story (its representative, with ``also_in``), newest first; undated last,
        by title; none dated after ``until`` (an ISO day); with ``since`` (ISO text: a year, a
        month or a day), only stories dated from it on, compared as text: "2021-02" is from
        "2021-02" on and "2021" on, not from "2021-02-01" on (its day is unknown)."""

    def count_listed(self, until: str | None = None, since: str | None = None) -> int:
        """How many rows ``list_articles`` has in all (with the same ``until`` and ``since``)."""

    def info(self) -> IndexInfo: ...

    def close(self) -> None: ...


def uses_database(settings: Settings) -> bool:
    return bool(getattr(settings, "database_url", None))


def open_storage(settings: Settings) -> Storage:
    """The served build of the configured backend; raises IndexNotFound / IndexMismatch / IndexCorrupt."""
    if uses_database(settings):
        from .pg_store import PgIndex

        return PgIndex.open(settings)
    from .store import StoredIndex

    return StoredIndex.open(settings.index_dir, settings.model)


def current_key(settings: Settings) -> Hashable | None:
    """The ``build_key`` of the build currently switched in, or None (cheap: checked at each reload)."""
    if uses_database(settings):
        from .pg_store import current_build_id

        return current_build_id(settings)
    from pathlib import Path

    from .store import current_build

    return current_build(Path(settings.index_dir))


def open_key(settings: Settings, key: Hashable) -> Storage:
    """Load the build ``current_key`` named."""
    if uses_database(settings):
        from .pg_store import PgIndex

        return PgIndex.open(settings, build_id=key)
    from .store import StoredIndex

    return StoredIndex.open_build(key, settings.model)
