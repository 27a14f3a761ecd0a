"""The newest articles, optionally about a topic: the bot's /ultimas and ``python -m index latest``.

Why not the answer path: "what is new about X" wants a list of stories, not a sentence. The
articles about the topic are the ones the normal retrieval finds for it (sharing at least one of
its words, and scoring close to the best); among those the newest come first, undated last.
Both lists show a story once, by its representative naming the other outlets ("También en"),
and nothing dated after today: an article cannot be news before it is published.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from .records import ArticleInfo
from .search import retrieve
from .settings import Settings
from .storage import Storage
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
                "articles": [a.to_json() for a in self.articles]}


def newest_page(stored: Storage, today: date, page: int, size: int) -> LatestPage:
    """Page ``page`` of the whole index's stories, newest first, none dated after ``today``."""
    until = today.isoformat()
    return page_of("", None, stored.count_listed(until), page, size,
                   lambda offset, limit: stored.list_articles(offset, limit, until))


def about_articles(stored: Storage, settings: Settings, text: str, vector: np.ndarray,
                   today: date | None = None) -> list[ArticleInfo]:
    """The stories about ``text``, each by its representative, newest first (undated last;
    equally dated by relevance). With ``today``, articles dated after it are left out before
    anything else: what is not published yet neither is listed nor sets the bar of relevance."""
    ranked = retrieve(stored, stored.analyzer.terms(text), vector, settings.candidates, settings.dense_weight,
                      settings.sentence_weight)
    chunks = {ch.row: ch for ch in stored.chunks([c.row for c in ranked])}
    ranked = [c for c in ranked if c.row in chunks and _published(chunks[c.row].date, today)]
    if not ranked:
        return []
    floor = ABOUT_MIN_SHARE * ranked[0].fused
    ids: list[str] = []
    for c in ranked:
        story = chunks[c.row].story or chunks[c.row].article_id
        if c.lexical > 0 and c.fused >= floor and story not in ids:
            ids.append(story)
    found = {a.id: a for a in articles_by_id(stored, ids[:ABOUT_MAX]) if _published(a.date, today)}
    ordered = [replace(found[i], also_in=stored.also_in.get(i, ())) for i in ids if i in found]
    return sorted(ordered, key=_start, reverse=True)  # stable: equally dated keep their relevance order


def _published(article_date: str | None, today: date | None) -> bool:
    """Undated, or dated up to ``today`` (a month or a year by its first day)."""
    span = date_span(article_date)
    return today is None or span is None or span[0] <= today


def _start(article: ArticleInfo) -> str:
    span = date_span(article.date)
    return span[0].isoformat() if span else ""


def articles_by_id(stored: Storage, ids: list[str]) -> list[ArticleInfo]:
    """The listing rows of the given articles (any order)."""
    return stored.articles(ids)


def page_of(about: str, articles: list[ArticleInfo] | None, total: int, page: int, size: int,
            fetch=None) -> LatestPage:
    """Page ``page`` (clamped to the pages there are) of ``articles``, or of ``fetch(offset, limit)``."""
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    offset = (page - 1) * size
    chosen = articles[offset:offset + size] if articles is not None else fetch(offset, size)
    return LatestPage(about, tuple(chosen), page, pages, total)
