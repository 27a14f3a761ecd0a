"""Hybrid retrieval: Spanish BM25 and dense FAISS search, fused by weighted normalised scores,
then near-duplicates removed and the best few passages re-ranked.

Why weighted min-max fusion and not reciprocal rank fusion: when one list is much weaker than
the other, equal-weight RRF loses to the better list alone; a weighted sum of normalised scores
lets each signal count as much as it earns (docs/evaluation.md has the grid). Three signals:
BM25 (the question's exact words), the chunk's vector and the chunk's best sentence's vector
(the dense side links "EE. UU." to "estadounidenses"). The weights are settings chosen on a
held-out development split (scripts/tune_search.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Iterable

import numpy as np

from .coverage import best_coverage
from .records import Hit
from .settings import Settings
from .storage import Storage
from .store import ChunkRow, top_rows as _top_rows  # noqa: F401 (tests import it from here)
from .timeframe import Timeframe, date_span

# Dates (docs/dates.md; chosen on the tune half of eval/dates_dev.jsonl by scripts/tune_dates.py).
DATE_BOOST = 1.0  # added to the fused score of a candidate published inside the question's range
DATE_MIN_SHARE = 0.5  # ...when the best such candidate scores at least this share of the best overall
LATEST_MIN_SHARE = 0.6  # "lo último": among articles scoring this share of the best, the newest leads
TIE_EPSILON = 1e-4  # no time expression: of passages this close to the first, the newest leads


@dataclass(frozen=True)
class Candidate:
    """A chunk row with its raw and fused scores."""

    row: int
    fused: float
    lexical: float
    dense: float
    sentence: float = 0.0


Ranked = tuple[Candidate, ChunkRow]  # a passage as the answer layer sees it: its scores and its row


def to_hit(cand: Candidate, chunk: ChunkRow) -> Hit:
    """The record a caller gets for a ranked passage."""
    return Hit(chunk.article_id, chunk.chunk_id, chunk.title, chunk.text, cand.fused, chunk.url,
               chunk.source, chunk.date, chunk.start, chunk.end, cand.lexical, cand.dense, chunk.also_in)


def _minmax(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12:
        return np.where(values > 0, 1.0, 0.0) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def dense_scores(stored: Storage, query_vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Exact cosine of the query with given rows (vectors are normalised)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.float32)
    return stored.cosines(query_vector, rows)


def best_sentence_scores(stored: Storage, query_vector: np.ndarray, rows: np.ndarray,
                         fallback: np.ndarray) -> np.ndarray:
    """Cosine of each chunk's best sentence with the query.

    Why: a question usually paraphrases one sentence, and a chunk's single vector blurs that
    sentence with its neighbours; the best sentence is a sharper dense signal (measured on the
    SQuAD-es tune half, docs/evaluation.md). A chunk without sentences (a lone heading) keeps ``fallback``.
    """
    best = stored.best_sentence_cosines(query_vector, rows)
    out = np.asarray(fallback, dtype=np.float64).copy()
    has = ~np.isnan(best)
    out[has] = best[has]
    return out


def retrieve(stored: Storage, terms: list[str], query_vector: np.ndarray, candidates: int,
             dense_weight: float, sentence_weight: float = 0.0, boost_articles: Iterable[str] = (),
             boost: float = 0.0) -> list[Candidate]:
    """All candidates from both retrievers, ranked by the fused score (best first).

    fused = (1 - dense_weight - sentence_weight) * BM25 + dense_weight * chunk cosine
            + sentence_weight * best-sentence cosine, each min-max normalised over the candidates.
    """
    k = min(candidates, stored.size)
    dense_rows, dense_vals = stored.dense_top(query_vector, k)
    found = {int(r): float(v) for r, v in zip(dense_rows, dense_vals) if r >= 0}
    lexical_hits = stored.lexical(terms, candidates, list(found))
    lex_rows = lexical_hits.top
    missing = np.array([r for r in lex_rows if int(r) not in found], dtype=np.int64)
    found.update({int(r): float(v) for r, v in zip(missing, dense_scores(stored, query_vector, missing))})
    rows = np.array(sorted(found), dtype=np.int64)
    if len(rows) == 0:
        return []
    lexical = np.array([lexical_hits.score(r) for r in rows], dtype=np.float64)
    dense = np.array([found[int(r)] for r in rows], dtype=np.float64)
    sentence = best_sentence_scores(stored, query_vector, rows, dense) if sentence_weight else dense
    lexical_weight = max(0.0, 1.0 - dense_weight - sentence_weight)
    fused = lexical_weight * _minmax(lexical) + dense_weight * _minmax(dense) + sentence_weight * _minmax(sentence)
    if boost and boost_articles:
        boosted = set(boost_articles)
        for i, chunk in enumerate(stored.chunks([int(r) for r in rows])):
            if chunk.article_id in boosted:
                fused[i] += boost
    order = np.argsort(-fused, kind="stable")
    return [Candidate(int(rows[i]), float(fused[i]), float(lexical[i]), float(dense[i]), float(sentence[i]))
            for i in order]


def _overlap(a: ChunkRow, b: ChunkRow) -> float:
    """Share of the shorter window that two windows of the same article have in common."""
    if a.article_id != b.article_id:
        return 0.0
    common = min(a.end, b.end) - max(a.start, b.start)
    shorter = max(1, min(a.end - a.start, b.end - b.start))
    return max(0, common) / shorter


def diverse(stored: Storage, ranked: list[Candidate], k: int,
            max_overlap: float = 0.5) -> list[Ranked]:
    """The best k chunks, skipping near-duplicates: overlapping windows, identical texts, and
    passages of another copy of a story already shown (its first-ranked article speaks for it;
    the source line names the other outlets)."""
    chosen: list[Ranked] = []
    seen_texts: set[str] = set()
    story_article: dict[str, str] = {}  # story -> the article whose passages represent it
    window = ranked[: max(4 * k, k + 10)]
    for cand, chunk in zip(window, stored.chunks([c.row for c in window])):
        key = " ".join(chunk.text.split()).casefold()
        if key in seen_texts or any(_overlap(chunk, other) > max_overlap for _, other in chosen):
            continue
        if story_article.setdefault(chunk.story or chunk.article_id, chunk.article_id) != chunk.article_id:
            continue
        chosen.append((cand, chunk))
        seen_texts.add(key)
        if len(chosen) == k:
            break
    return chosen


def rerank(stored: Storage, text: str, passages: list[Ranked], weight: float) -> list[Ranked]:
    """The retrieved passages re-ordered by fused score + ``weight`` x best-sentence coverage.

    Why: all of the question's words inside one sentence is evidence that BM25 over the whole
    chunk and the vectors do not see; measured on the SQuAD-es tune half (docs/evaluation.md).
    Only the few passages already retrieved are re-scored, so it costs a few milliseconds.
    """
    if not weight or not passages:
        return passages
    terms = stored.analyzer.terms(text)
    idf = stored.idf(terms)
    scored = [(replace(cand, fused=cand.fused + weight * best_coverage(stored, terms, idf, chunk)), chunk)
              for cand, chunk in passages]
    return sorted(scored, key=lambda p: -p[0].fused)


def favour_dates(stored: Storage, ranked: list[Candidate], when: Timeframe,
                 boost: float | None = None, min_share: float | None = None) -> list[Candidate]:
    """Candidates published inside the question's range moved up by ``boost``, re-ranked.

    Only when the best of them is relevant enough (``min_share`` of the best fused score): a
    date alone must not bring up an article about something else. Undated articles and those
    outside the range keep their score (a month-precision date counts when its month overlaps).
    """
    boost = DATE_BOOST if boost is None else boost
    min_share = DATE_MIN_SHARE if min_share is None else min_share
    if not ranked or not when.has_range or not boost:
        return ranked
    dates = {c.row: c.date for c in stored.chunks([c.row for c in ranked])}
    inside = [when.contains(dates.get(c.row)) for c in ranked]
    best_inside = max((c.fused for c, ok in zip(ranked, inside) if ok), default=None)
    if best_inside is None or best_inside < min_share * ranked[0].fused:
        return ranked
    moved = [replace(c, fused=c.fused + boost) if ok else c for c, ok in zip(ranked, inside)]
    return sorted(moved, key=lambda c: -c.fused)


def _start(article_date: str | None, until: date | None = None) -> str:
    """The first day an article's date may stand for, as sortable text ('' when undated, or
    when after ``until``: not published yet on the day asked)."""
    span = date_span(article_date)
    return span[0].isoformat() if span and (until is None or span[0] <= until) else ""


def favour_newest(stored: Storage, ranked: list[Candidate], until: date | None,
                  min_share: float | None = None, boost: float | None = None) -> list[Candidate]:
    """"Lo último sobre…": of the articles with a candidate scoring ``min_share`` of the best,
    the newest dated one (up to ``until``) has its candidates moved up by ``boost``.

    Why articles and not passages: one long article can fill the whole passage pool, and the
    question asks which story is the newest, not which window of it.
    """
    min_share = LATEST_MIN_SHARE if min_share is None else min_share
    boost = DATE_BOOST if boost is None else boost
    if not ranked:
        return ranked
    close = [c for c in ranked if c.fused >= min_share * ranked[0].fused]
    chunks = stored.chunks([c.row for c in close])
    dated = [(_start(ch.date, until), ch.article_id) for ch in chunks]
    newest = max(dated, key=lambda d: d[0], default=("", ""))  # max keeps the best ranked of equals
    if not newest[0]:
        return ranked
    rows = {ch.row for ch in stored.chunks([c.row for c in ranked]) if ch.article_id == newest[1]}
    moved = [replace(c, fused=c.fused + boost) if c.row in rows else c for c in ranked]
    return sorted(moved, key=lambda c: -c.fused)


def newer_on_ties(passages: list[Ranked], epsilon: float | None = None) -> list[Ranked]:
    """Of the passages whose scores are within ``epsilon`` of the first's, the newest leads;
    everything else keeps its order (a question without a time expression is answered as
    before, only an exact tie for the first place goes to the newer story)."""
    epsilon = TIE_EPSILON if epsilon is None else epsilon
    if len(passages) < 2:
        return passages
    top = passages[0][0].fused
    tied = [p for p in passages if top - p[0].fused <= epsilon]
    newest = max(tied, key=lambda p: _start(p[1].date))  # the first of equally dated: the best
    return passages if newest is passages[0] else [newest] + [p for p in passages if p is not newest]


def search_passages(stored: Storage, settings: Settings, text: str, vector: np.ndarray, k: int,
                    boost_articles: Iterable[str] = (), boost: float = 0.0,
                    when: Timeframe | None = None) -> list[Ranked]:
    """The best k passages for a query: retrieved, fused, near-duplicates removed, then re-ranked.

    Why a fixed pool: re-ranking only the k shown would let a passage lead for top_k=10
    and not for top_k=5, so the bot's first passage would differ from the evaluated one;
    passages beyond the pool follow in retrieval order, so a larger k changes nothing above.
    ``when``, the question's time expression, favours articles of its range and orders the pool
    by date (``favour_dates``, ``favour_newest``, ``order_by_date``).
    """
    ranked = retrieve(stored, stored.analyzer.terms(text), vector, settings.candidates, settings.dense_weight,
                      settings.sentence_weight, boost_articles, boost)
    if when is not None:
        ranked = favour_dates(stored, ranked, when)
        ranked = favour_newest(stored, ranked, when.end) if when.latest else ranked
    size = settings.rerank_pool
    passages = diverse(stored, ranked, max(k, size))
    ordered = rerank(stored, text, passages[:size], settings.rerank_weight)
    return (order_by_date(ordered, when) + passages[size:])[:k]


def order_by_date(passages: list[Ranked], when: Timeframe | None) -> list[Ranked]:
    """Without a time expression, the newer of two tied passages first (with one, the dates
    already decided through ``favour_dates`` / ``favour_newest``)."""
    return passages if when is not None and when.active else newer_on_ties(passages)
