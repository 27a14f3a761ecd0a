"""The newest articles, optionally about a topic: the bot's /ultimas and ``python -m index latest``.

Why not the answer path: "what is new about X" wants a list of stories, not a sentence. The
articles about the topic are the ones the normal retrieval finds for it (sharing at least one of
its words, and scoring close to the best); among those the newest come first, undated last.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .records import ArticleInfo
from .search import retrieve
from .settings import Settings
from .store import StoredIndex
from .timeframe import date_span

ABOUT_MAX = 50  # articles listed for one topic at most
ABOUT_MIN_SHARE = 0.6  # an article is about the topic when a chunk of it scores this share of the best


@dataclass(frozen=True)
class LatestPage:
    """One page of the newest articles (``about`` empty: of the whole index)."""

    about: str
    articles: tuple[ArticleInfo, ...]
    page: int
    pages: int
    total: int

    def to_json(self) -> dict:
        return {"about": self.about, "page": self.page, "pages": self.pages, "total": self.total,
                "articles": [vars(a) for a in self.articles]}


def about_articles(stored: StoredIndex, settings: Settings, text: str, vector: np.ndarray) -> list[ArticleInfo]:
    """The articles about ``text``, newest first (undated last; equally dated by relevance)."""
    ranked = retrieve(stored, stored.analyzer.terms(text), vector, settings.candidates, settings.dense_weight,
                      settings.sentence_weight)
    if not ranked:
        return []
    floor = ABOUT_MIN_SHARE * ranked[0].fused
    ids: list[str] = []
    relevant = [c for c in ranked if c.lexical > 0 and c.fused >= floor]
    for chunk in stored.chunks([c.row for c in relevant]):
        if chunk.article_id not in ids:
            ids.append(chunk.article_id)
        if len(ids) == ABOUT_MAX:
            break
    found = {a.id: a for a in articles_by_id(stored, ids)}
    ordered = [found[i] for i in ids if i in found]
    return sorted(ordered, key=_start, reverse=True)  # stable: equally dated keep their relevance order


def _start(article: ArticleInfo) -> str:
    span = date_span(article.date)
    return span[0].isoformat() if span else ""


def articles_by_id(stored: StoredIndex, ids: list[str]) -> list[ArticleInfo]:
    """The listing rows of the given articles (any order)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = stored.query(f"SELECT id, title, date, url, source FROM articles WHERE id IN ({marks})", tuple(ids))
    return [ArticleInfo(*r) for r in rows]


def page_of(about: str, articles: list[ArticleInfo] | None, total: int, page: int, size: int,
            fetch=None) -> LatestPage:
    """Page ``page`` (clamped to the pages there are) of ``articles``, or of ``fetch(offset, limit)``."""
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    offset = (page - 1) * size
    chosen = articles[offset:offset + size] if articles is not None else fetch(offset, size)
    return LatestPage(about, tuple(chosen), page, pages, total)
