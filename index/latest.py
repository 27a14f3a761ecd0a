"""The newest articles, optionally about a topic: the bot's /ultimas and ``python -m index latest``.

Why not the answer path: "what is new about X" wants a list of stories, not a sentence. The
articles about the topic are the ones the normal retrieval finds for it (sharing at least one of
its words, and scoring close to the best); among those the newest come first, undated last.
Both lists show a story once, by its representative naming the other outlets ("También en"),
and nothing dated after today: an article cannot be news before it is published. A time
expression ("noticias de ayer", "/ultimas coronavirus esta semana") keeps either list to the
period it names (``index.timeframe``), without the days after it that a search allows.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from .gist import news_request
from .noise import strip_noise
from .records import ArticleInfo
from .search import retrieve
from .settings import Settings
from .storage import Storage
from .timeframe import Timeframe, date_span, parse_timeframe

# The prepositions a time expression taken out of a message leaves at its end ("noticias de").
_DANGLING = re.compile(r"(?:\s+(?:de|del|desde|en|durante|para|sobre))+(?=[\s?!.]*$)", re.IGNORECASE)
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
    dates: str = ""  # the time expression the list keeps to ("ayer", "esta semana"), when one was asked

    def to_json(self) -> dict:
        return {"about": self.about, "dates": self.dates, "page": self.page, "pages": self.pages,
                "total": self.total, "articles": [a.to_json() for a in self.articles]}


def newest_page(stored: Storage, today: date, page: int, size: int) -> LatestPage:
    """Page ``page`` of the whole index's stories, newest first, none dated after ``today``."""
    until = today.isoformat()
    return page_of("", None, stored.count_listed(until), page, size,
                   lambda offset, limit: stored.list_articles(offset, limit, until))


def dated_page(stored: Storage, when: Timeframe, today: date, page: int, size: int) -> LatestPage:
    """Page ``page`` of the stories dated inside the period ``when`` names ("noticias de ayer",
    "/ultimas esta semana"), newest first, none after ``today``. A story dated only to its month
    or year is listed for a month or a year asked, not for a day or a week: its day is unknown."""
    start, end = _period(when, today)
    until, since = end.isoformat(), _since(start, end)
    return page_of("", None, stored.count_listed(until, since), page, size,
                   lambda offset, limit: stored.list_articles(offset, limit, until, since), when.expression)


def dated_about(articles: list[ArticleInfo], when: Timeframe, today: date) -> list[ArticleInfo]:
    """The stories about a topic ("/ultimas coronavirus ayer") dated inside the period ``when``
    names (loosely for a story dated only to its month or year)."""
    start, end = _period(when, today)
    return [a for a in articles if (span := date_span(a.date)) is not None and span[0] <= end and span[1] >= start]


def _period(when: Timeframe, today: date) -> tuple[date, date]:
    """The days of the period a time expression names, none after today."""
    start = when.start or today
    return start, min(when.named_end or when.end or today, today)


def _since(start: date, end: date) -> str:
    """The ISO text the stories of [start, end] are dated from: the year of a whole year, the
    month of a whole month (so a story dated only to it is in), else the first day."""
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return f"{start.year:04d}"
    if start.day == 1 and (end.year, end.month) == (start.year, start.month) and end.day == monthrange(
            end.year, end.month)[1]:
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


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
            fetch=None, dates: str = "") -> LatestPage:
    """Page ``page`` (clamped to the pages there are) of ``articles``, or of ``fetch(offset, limit)``."""
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    offset = (page - 1) * size
    chosen = articles[offset:offset + size] if articles is not None else fetch(offset, size)
    return LatestPage(about, tuple(chosen), page, pages, total, dates)


def news_listing(message: str, today: date) -> str | None:
    """What /ultimas lists for a message that asks for the news itself (``gist.news_request``,
    read after ``index.noise``): "" (the newest stories) for "noticias", "¿Qué hay de nuevo?";
    its time expression for "noticias de ayer", "¿Qué pasó esta semana?", "titulares de ayer"
    (then ``Engine.latest`` lists that period); None for any other message, which is a question."""
    cleaned = strip_noise(message)
    if news_request(cleaned):
        return ""
    when = parse_timeframe(cleaned, today)
    if when.names_period and news_request(bare_topic(when.text_without_expression)):
        return when.expression
    return None


def bare_topic(text: str) -> str:
    """A message's words once its time expression is taken out, without the preposition it leaves
    dangling ("noticias" of "noticias de ayer", "coronavirus" of "coronavirus de esta semana")."""
    return _DANGLING.sub("", text.strip())
