"""The query side of the library: one loaded model plus the index it serves (WORK IN PROGRESS).

The bot and the CLI hold one ``Engine``. Queries are thread-safe; ``reload_if_changed``
swaps in a newly built index without dropping queries and keeps the old one on failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .records import Answer, Hit, Turn
from .settings import Settings


@dataclass(frozen=True)
class IndexInfo:
    """What /start and /estado show about the served index."""

    path: str
    articles: int
    chunks: int
    built_at: str  # ISO 8601, UTC
    model: str
    date_min: str | None
    date_max: str | None


@dataclass(frozen=True)
class ArticleInfo:
    """One indexed article as listed by /fuentes (newest first)."""

    id: str
    title: str
    date: str | None
    url: str | None
    source: str | None


class Engine:
    """Holds the encoder (loaded once) and the currently served index."""

    @classmethod
    def open(cls, settings: Settings, encoder: object | None = None) -> "Engine":
        """Load the model and the index at settings.index_dir (raises IndexNotFound/IndexMismatch)."""
        raise NotImplementedError

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        raise NotImplementedError

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        raise NotImplementedError

    def info(self) -> IndexInfo:
        raise NotImplementedError

    def list_articles(self, offset: int = 0, limit: int = 10) -> list[ArticleInfo]:
        raise NotImplementedError

    def reload_if_changed(self) -> bool:
        """Switch to a newer complete build if the current pointer moved; True if it switched."""
        raise NotImplementedError
