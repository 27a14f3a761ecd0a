"""From ranked passages to the answer: sentence choice, and the outcome, answered or refused.

The answer is always a sentence (or two adjacent ones) copied from an article, never
generated text. Each candidate sentence of the top passages is scored against the question
by idf-weighted term coverage (lexical, the article's title counted as context) and cosine
with its stored vector (dense), plus its passage's retrieval score relative to the best one
and a bonus when it holds the kind of answer asked (``kinds``); weights and the refusal
thresholds are settings chosen on held-out data. ``conclude`` turns the scored sentences into
an ``Answer``: the best one when the evidence is strong enough, otherwise a polite refusal
with the closest titles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .coverage import passage_coverage, sentence_coverages
from .kinds import SCORED_KINDS, expected_kind, kind_match
from .lexical import Analyzer
from .records import Answer, Passage
from .search import Ranked, to_hit
from .settings import Settings
from .store import ChunkRow, StoredIndex


@dataclass(frozen=True)
class AnswerWeights:
    lexical: float
    dense: float
    passage: float
    kind: float = 0.0

    @classmethod
    def of(cls, settings: Settings) -> "AnswerWeights":
        return cls(settings.answer_lexical_weight, settings.answer_dense_weight,
                   settings.answer_passage_weight, settings.answer_kind_weight)


@dataclass(frozen=True)
class ScoredSentence:
    score: float
    lexical: float
    dense: float
    chunk: ChunkRow
    start: int  # offsets in the article text
    end: int
    text: str
    rank: int


def said_before(sentence: str, answers: Sequence[str]) -> bool:
    """Whether the sentence was (part of) an answer already given.

    An answer may join two sentences, and a long one is clipped with an ellipsis: then the
    sentence counts as said when the clipped answer ends with its beginning.
    """
    text = " ".join(sentence.split())
    if not text:
        return False
    for answer in answers:
        at = answer.find(text[:20])
        if at >= 0 and (text in answer or answer.endswith("…") and text.startswith(answer[at:-1].rstrip())):
            return True
    return False


def score_sentences(stored: StoredIndex, question: str, query_vector: np.ndarray, passages: list[Ranked],
                    weights: AnswerWeights, exclude: Sequence[str] = ()) -> list[ScoredSentence]:
    """Every sentence of the given passages, best first."""
    terms = stored.analyzer.terms(question)
    idf = stored.bm25.idf(terms)
    kind = expected_kind(question) if weights.kind else None
    kind = kind if kind in SCORED_KINDS else None
    excluded = [" ".join(e.split()) for e in exclude if e]
    found: list[tuple[int, float, ChunkRow, int, int, int, str, float]] = []
    seen: set[tuple[str, int]] = set()
    top = passages[0][0].fused if passages else 0.0
    for rank, (cand, chunk) in enumerate(passages):
        # How strongly retrieval believes in this passage, relative to the best: near-ties stay
        # near-ties, where a 1/(1+rank) prior would hand the first passage a fixed lead.
        prior = cand.fused / top if top > 0 else 0.0
        for row, start, end, text, lex in sentence_coverages(stored, terms, idf, chunk):
            if (chunk.article_id, start) in seen:
                continue
            seen.add((chunk.article_id, start))
            if not said_before(text, excluded):
                found.append((rank, prior, chunk, row, start, end, text, lex))
    # One read of all the sentence vectors involved rather than one per sentence.
    dense_scores = np.asarray(stored.sentence_vectors[[f[3] for f in found]], dtype=np.float32) @ query_vector
    scored: list[ScoredSentence] = []
    for (rank, prior, chunk, _, start, end, text, lex), dense in zip(found, dense_scores):
        score = weights.lexical * lex + weights.dense * float(dense) + weights.passage * prior
        if kind:
            score += weights.kind * kind_match(kind, text, question)
        scored.append(ScoredSentence(score, lex, float(dense), chunk, start, end, text, rank))
    scored.sort(key=lambda s: -s.score)
    return scored


def nothing_to_search(question: str, analyzer: Analyzer, follows: bool) -> Answer | None:
    """The refusal of a question with nothing to look for, before any search; None otherwise.

    Punctuation or emoji alone finds nothing; "¿Por qué?" that follows no earlier turn names
    nothing either, and its closest "articles" would be noise: the reply asks for the subject.
    """
    if analyzer.terms(question):
        return None
    if not any(ch.isalnum() for ch in question):
        return Answer(question, False, "", resolved_query=question)
    if not follows:
        return Answer(question, False, "", resolved_query=question, needs_subject=True)
    return None


def conclude(stored: StoredIndex, settings: Settings, question: str, resolved: str,
             sentences: list[ScoredSentence], passages: list[Ranked], gate: bool = True) -> Answer:
    """The outcome: the best sentence when the evidence holds, otherwise a refusal.

    The evidence (when ``gate``): the best sentence scores at least ``refusal_threshold`` and
    its passage holds at least ``refusal_min_coverage`` of the question's idf weight. Either
    reading of the question will do: one wrongly taken for a follow-up must not be refused for
    the previous turn's words ("¿Cuándo ocurrió el terremoto?" after another story). Without a
    gate, any sentence answers (the caller already kept only sentences of the kind asked).
    """
    if not sentences:
        return refused(question, passages, resolved, 0.0)
    best = sentences[0]
    if gate:
        covered = max(passage_coverage(stored, q, best.chunk) for q in {question, resolved})
        if best.score < settings.refusal_threshold or covered < settings.refusal_min_coverage:
            return refused(question, passages, resolved, best.score)
    chosen = compose(best, sentences, settings.answer_max_chars)
    text = clip(" ".join(s.text for s in chosen), settings.answer_max_chars)
    return Answer(question, True, text, highlighted(passages, chosen), resolved, best.score, closest_titles(passages))


def refused(question: str, passages: list[Ranked], resolved: str, confidence: float) -> Answer:
    """The polite 'not found': the closest passages and their titles, so the user can rephrase."""
    return Answer(question, False, "", tuple(Passage(to_hit(c, ch)) for c, ch in passages), resolved, confidence,
                  closest_titles(passages))


def closest_titles(passages: list[Ranked]) -> tuple[str, ...]:
    """The (up to three) titles of the closest articles, as a refusal lists them."""
    return tuple(dict.fromkeys(chunk.title for _, chunk in passages))[:3]


def highlighted(passages: list[Ranked], chosen: list[ScoredSentence]) -> tuple[Passage, ...]:
    """Passages with the answer's spans highlighted; the passage holding the answer comes first."""
    out = []
    for cand, chunk in passages:
        spans = tuple((max(0, s.start - chunk.start), min(len(chunk.text), s.end - chunk.start))
                      for s in chosen if s.chunk.article_id == chunk.article_id
                      and s.start >= chunk.start and s.end <= chunk.end)
        out.append(Passage(to_hit(cand, chunk), spans))
    out.sort(key=lambda p: 0 if p.hit.chunk_id == chosen[0].chunk.chunk_id else 1)
    return tuple(out)


def compose(best: ScoredSentence, ranked: list[ScoredSentence], max_chars: int,
            ratio: float = 0.8) -> list[ScoredSentence]:
    """The best sentence, plus its neighbour in the same passage when that one scores nearly as well."""
    chosen = [best]
    for other in ranked[1:4]:
        gap = max(other.start - best.end, best.start - other.end)
        adjacent = other.chunk.row == best.chunk.row and 0 <= gap <= 2
        if adjacent and other.score >= ratio * best.score and len(best.text) + len(other.text) + 1 <= max_chars:
            chosen.append(other)
            break
    return sorted(chosen, key=lambda s: s.start)


def clip(text: str, max_chars: int) -> str:
    """Cut an over-long sentence at a word boundary; the ellipsis marks the cut."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
