"""The query side of the library: the encoder (loaded once) plus the index it serves.

The bot and the CLI hold one ``Engine``. Queries are thread-safe; ``reload_if_changed``
swaps in a newly built index without dropping queries in flight (they keep a reference to
the old one) and keeps the old index when the new one fails to load.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from . import store
from .answer import (AnswerWeights, Resolution, ScoredSentence, clip, compose, expected_kind, has_name, kind_match,
                     passage_coverage, points_back, rerank, resolve_query, rests_on_story, score_sentences)
from .embedding import Encoder, QueryCache
from .errors import IndexError_, IndexNotFound
from .records import Answer, Hit, Passage, Turn
from .search import Candidate, diverse, retrieve
from .settings import Settings
from .store import ChunkRow, StoredIndex

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
FOLLOWUP_BOOST = 0.15  # added to fused scores of the previous turn's articles on a follow-up


@dataclass(frozen=True)
class IndexInfo:
    """What /start and /estado show about the served index."""

    path: str
    articles: int
    chunks: int
    built_at: str
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


def _hit(cand: Candidate, chunk: ChunkRow) -> Hit:
    return Hit(chunk.article_id, chunk.chunk_id, chunk.title, chunk.text, cand.fused, chunk.url,
               chunk.source, chunk.date, chunk.start, chunk.end, cand.lexical, cand.dense)


class Engine:
    """Holds the encoder and the currently served index; see module docstring."""

    def __init__(self, settings: Settings, encoder: Encoder) -> None:
        # One FAISS thread per query: on two shared cores, two threads made exact search
        # ~4x slower (MODELS.md); concurrency comes from serving questions in parallel.
        faiss.omp_set_num_threads(settings.threads)
        self.settings = settings
        self.encoder = encoder
        self.queries = QueryCache(encoder)
        self.weights = AnswerWeights(settings.answer_lexical_weight, settings.answer_dense_weight,
                                     settings.answer_passage_weight, settings.answer_kind_weight)
        self._stored: StoredIndex | None = None
        self._rejected: Path | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> "Engine":
        """Load the model and the index; raises IndexNotFound / IndexMismatch / IndexCorrupt."""
        engine = cls(settings, encoder or Encoder(settings))
        engine._stored = StoredIndex.open(settings.index_dir, settings.model)
        return engine

    @property
    def ready(self) -> bool:
        return self._stored is not None

    def _index(self) -> StoredIndex:
        stored = self._stored
        if stored is None:
            raise IndexNotFound(f"no index loaded from {self.settings.index_dir} yet")
        return stored

    def reload_if_changed(self) -> bool:
        """Switch to a newer complete build if ``current`` moved; a bad build is logged and ignored."""
        with self._lock:
            target = store.current_build(Path(self.settings.index_dir))
            if target is None or target == self._rejected or (self._stored and target == self._stored.path):
                return False
            try:
                fresh = StoredIndex.open_build(target, self.settings.model)
            except IndexError_ as exc:
                # Remembered so the periodic check does not re-hash and re-log the same bad build.
                self._rejected = target
                log.error("new index at %s not loaded, still serving the old one: %s", target, exc)
                return False
            self._stored = fresh  # queries in flight keep their reference to the old index
            log.info("now serving index %s", target)
            return True

    def _candidates(self, stored: StoredIndex, text: str, vector: np.ndarray,
                    boost_articles: Sequence[str] = ()) -> list[Candidate]:
        s = self.settings
        return retrieve(stored, stored.analyzer.terms(text), vector, s.candidates, s.dense_weight,
                        s.sentence_weight, boost_articles, FOLLOWUP_BOOST if boost_articles else 0.0)

    def _passages_for(self, stored: StoredIndex, text: str, ranked: list[Candidate],
                      k: int) -> list[tuple[Candidate, ChunkRow]]:
        """The best k passages: near-duplicates removed, then re-ranked.

        Why a fixed pool: re-ranking only the k shown would let a passage lead for top_k=10
        and not for top_k=5, so the bot's first passage would differ from the evaluated one;
        passages beyond the pool follow in retrieval order, so a larger k changes nothing above.
        """
        size = self.settings.rerank_pool
        passages = diverse(stored, ranked, max(k, size))
        return (rerank(stored, text, passages[:size], self.settings.rerank_weight) + passages[size:])[:k]

    def _answer_pool(self, stored: StoredIndex, question: str, vector: np.ndarray,
                     passages: list[tuple[Candidate, ChunkRow]], thread: Sequence[str],
                     k: int) -> tuple[list[tuple[Candidate, ChunkRow]], list[tuple[Candidate, ChunkRow]], bool]:
        """The passages to show, the (up to three) the answer sentence may come from, and whether
        the question is answered inside the story it follows.

        Normally the best passages of the retrieval. A follow-up of an answered story is answered
        inside that story, from the passages that best match its own words: the thread's words
        found the story, but inside it they would pull the answer back to what was already said
        ("¿Y cuándo será la visita?" after the accusation), and a "dijo" from another article
        must not answer "¿quién lo dijo?". It leaves the story only when nothing in it points back
        and another story holds its own words better: "¿Y qué lleva la paella valenciana?", or
        "¿Dónde estuvo el youtuber?" (one word, so it looked like a follow-up) is a new topic.
        """
        story = set(thread)
        if not story:
            return passages, passages[:3], False
        own = self._passages_for(stored, question, self._candidates(stored, question, vector, thread), k)
        in_story = [p for p in own if p[1].article_id in story] or [p for p in passages if p[1].article_id in story]
        if not own or (in_story and self._stays_in(stored, question, in_story, own[0])):
            return _with_pool_first(in_story[:3], passages, k), in_story[:3], bool(in_story)
        return own, own[:3], False

    @staticmethod
    def _stays_in(stored: StoredIndex, question: str, in_story: list[tuple[Candidate, ChunkRow]],
                  best_elsewhere: tuple[Candidate, ChunkRow]) -> bool:
        """Whether a follow-up belongs to its story: it points back and names no one, or the story
        holds its words at least as well as the best passage its own words found. A name outweighs
        a pronoun: the "le" of "¿Qué le pasa a Messi?" points at Messi, not at the story before."""
        if points_back(question, stored.analyzer) and not has_name(question):
            return True
        held = max(passage_coverage(stored, question, chunk) for _, chunk in in_story[:3])
        return held >= passage_coverage(stored, question, best_elsewhere[1])

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        """Passages only, best first, near-duplicates removed."""
        stored = self._index()
        question = question[:MAX_QUESTION_CHARS]
        vector = self.queries.encode_queries([question])[0]
        ranked = self._candidates(stored, question, vector)
        passages = self._passages_for(stored, question, ranked, top_k or self.settings.top_k)
        return [_hit(c, chunk) for c, chunk in passages]

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        """The extractive answer to ``question``, resolved against ``history`` when it is a follow-up."""
        stored = self._index()
        question = " ".join(question[:MAX_QUESTION_CHARS].split())
        k = top_k or self.settings.top_k
        if not stored.analyzer.terms(question) and not any(ch.isalnum() for ch in question):
            return Answer(question, False, "", resolved_query=question)
        resolution = resolve_query(question, history, stored.analyzer)
        if not resolution.thread and not stored.analyzer.terms(question):
            # Nothing to search for: the closest "articles" to "¿Por qué?" are noise.
            return Answer(question, False, "", resolved_query=question, needs_subject=True)
        resolved = resolution.text
        # A follow-up's thread was asked a moment ago: its vectors are remembered, and their mean
        # with the follow-up's own stands for the whole thread at the cost of one embedding.
        vectors = self.queries.encode_queries([question, *resolution.thread])
        vector = _unit(vectors.mean(axis=0)) if resolution.thread else vectors[0]
        ranked = self._candidates(stored, resolved, vector, resolution.article_ids)
        passages = self._passages_for(stored, resolved, ranked, k)
        if not passages:
            return Answer(question, False, "", resolved_query=resolved)
        passages, pool, in_story = self._answer_pool(stored, question, vectors[0], passages, resolution.article_ids, k)
        if in_story and rests_on_story(question, stored.analyzer):
            return self._from_story(stored, question, resolution, vector, passages, k)
        sentences = score_sentences(stored, question, vectors[0], pool, self.weights, resolution.said)
        best = sentences[0] if sentences else None
        confidence = best.score if best else 0.0
        # Evidence for either reading will do: a question wrongly taken for a follow-up must not
        # be refused for the previous turn's words ("¿Cuándo ocurrió el terremoto?" before it).
        covered = max(passage_coverage(stored, q, best.chunk) for q in {question, resolved}) if best else 0.0
        if best is None or confidence < self.settings.refusal_threshold or covered < self.settings.refusal_min_coverage:
            return _refused(question, passages, resolved, confidence)
        return self._answered(question, sentences, passages, resolved)

    def _answered(self, question: str, sentences: list[ScoredSentence], passages: list[tuple[Candidate, ChunkRow]],
                  resolved: str) -> Answer:
        """The best sentence (with its neighbour when nearly as good), clipped, its spans highlighted."""
        chosen = compose(sentences[0], sentences, self.settings.answer_max_chars)
        answer_text = clip(" ".join(s.text for s in chosen), self.settings.answer_max_chars)
        return Answer(question, True, answer_text, self._passages(passages, chosen), resolved, sentences[0].score,
                      _titles(passages))

    def _from_story(self, stored: StoredIndex, question: str, resolution: Resolution, vector: np.ndarray,
                    passages: list[tuple[Candidate, ChunkRow]], k: int) -> Answer:
        """The answer to a follow-up that asks only for a kind of answer ("¿Por qué?", "¿Cuándo?",
        "¿quién lo dijo?"), taken from the whole story it follows.

        Its own words find nothing, and its passages are those of the thread's words, so every
        sentence of the story competes, read against the thread; only one holding what the question
        word asks for (a reason, a date, a name) may answer. A sentence already given may answer
        again: "¿quién lo dijo?" and "¿Por qué?" often ask about the very sentence just read.
        """
        kind = expected_kind(question)
        shown = {chunk.chunk_id: cand for cand, chunk in passages}
        pool = [(shown.get(chunk.chunk_id, Candidate(chunk.row, 0.0, 0.0, 0.0)), chunk)
                for article_id in resolution.article_ids for chunk in stored.article_chunks(article_id)]
        weights = replace(self.weights, passage=0.0, kind=0.0)  # one story: no passage prior; kind is a filter
        # With no word of its own it asks about what was just said ("¿Cuándo?" after "Se vendió por
        # más de 2 millones"): the last answer's words find the sentence telling the same event with
        # the detail asked. One that names its event ("¿Y cuándo será la visita?") is read as asked.
        bare = not stored.analyzer.terms(question)
        text = " ".join([resolution.text, *(resolution.said[:1] if bare else ())])
        sentences = [s for s in score_sentences(stored, text, vector, pool, weights)
                     if kind_match(kind, s.text, question)]
        if not sentences:
            return _refused(question, passages, resolution.text, 0.0)
        holding = next(p for p in pool if p[1].chunk_id == sentences[0].chunk.chunk_id)
        return self._answered(question, sentences, _with_pool_first([holding], passages, k), resolution.text)

    @staticmethod
    def _passages(passages: list[tuple[Candidate, ChunkRow]], chosen: list) -> tuple[Passage, ...]:
        """Passages with the answer's spans highlighted; the passage holding the answer comes first."""
        out = []
        for cand, chunk in passages:
            spans = tuple((max(0, s.start - chunk.start), min(len(chunk.text), s.end - chunk.start))
                          for s in chosen if s.chunk.article_id == chunk.article_id
                          and s.start >= chunk.start and s.end <= chunk.end)
            out.append(Passage(_hit(cand, chunk), spans))
        out.sort(key=lambda p: 0 if p.hit.chunk_id == chosen[0].chunk.chunk_id else 1)
        return tuple(out)

    def info(self) -> IndexInfo:
        stored = self._index()
        m = stored.manifest
        return IndexInfo(str(stored.path), m["counts"]["articles"], m["counts"]["chunks"], m["built_at"],
                         m["model"]["name"], m.get("dates", {}).get("min"), m.get("dates", {}).get("max"))

    def list_articles(self, offset: int = 0, limit: int = 10) -> list[ArticleInfo]:
        """Newest first; undated articles last, by title."""
        rows = self._index().query(
            "SELECT id, title, date, url, source FROM articles "
            "ORDER BY date IS NULL, date DESC, title LIMIT ? OFFSET ?",
            (max(0, limit), max(0, offset)),
        )
        return [ArticleInfo(*r) for r in rows]


def _titles(passages: list[tuple[Candidate, ChunkRow]]) -> tuple[str, ...]:
    """The (up to three) titles of the closest articles, as a refusal lists them."""
    return tuple(dict.fromkeys(chunk.title for _, chunk in passages))[:3]


def _refused(question: str, passages: list[tuple[Candidate, ChunkRow]], resolved: str, confidence: float) -> Answer:
    """The polite 'not found': the closest passages and their titles, so the user can rephrase."""
    return Answer(question, False, "", tuple(Passage(_hit(c, ch)) for c, ch in passages), resolved, confidence,
                  _titles(passages))


def _with_pool_first(pool: list[tuple[Candidate, ChunkRow]], passages: list[tuple[Candidate, ChunkRow]],
                     k: int) -> list[tuple[Candidate, ChunkRow]]:
    """The passages to show: the answer's pool first, so the passage holding the answer is among them.
    (The pool's scores are those of the follow-up's own words, the rest those of the thread's.)"""
    ids = {chunk.chunk_id for _, chunk in pool}
    return (pool + [p for p in passages if p[1].chunk_id not in ids])[:k]


def _unit(vector: np.ndarray) -> np.ndarray:
    """The vector scaled to length 1, as the index's vectors are (a mean of unit vectors is shorter)."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)
