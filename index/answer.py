"""From ranked passages to an extractive answer: sentence choice, refusal, follow-ups.

The answer is always a sentence (or two adjacent ones) copied from an article, never
generated text. Each candidate sentence of the top passages is scored against the question
by idf-weighted term coverage (lexical) and cosine with its stored vector (dense), plus the
rank of its passage; weights and the refusal threshold are settings chosen on held-out data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .lexical import Analyzer, fold, words
from .records import Turn
from .search import Candidate
from .store import ChunkRow, StoredIndex

# Words that point back to an earlier turn ("¿quién lo dijo?", "¿y eso cuándo?").
_ANAPHORA = frozenset(
    "lo la los las le les eso esto ello ese esa esos esas este esta estos estas aquel aquella "
    "dicho dicha el ella ellos ellas alli ahi entonces tambien".split()
)
_FOLLOWUP_START = re.compile(r"^\W*(y|e|pero|entonces|tambien|ademas)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerWeights:
    lexical: float = 0.5
    dense: float = 0.35
    passage: float = 0.15


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


def is_followup(question: str, analyzer: Analyzer) -> bool:
    """An elliptical question leans on the previous turn: it starts with "y", points back, or says too little."""
    folded = fold(question)
    if _FOLLOWUP_START.match(folded):
        return True
    tokens = words(folded)
    if any(t in _ANAPHORA for t in tokens) and len(analyzer.terms(question)) <= 3:
        return True
    return len(analyzer.terms(question)) <= 1


def resolve_query(question: str, history: Sequence[Turn], analyzer: Analyzer) -> tuple[str, tuple[str, ...]]:
    """The text to retrieve with, and the articles of the turn it follows (empty for a standalone question)."""
    if not history or not is_followup(question, analyzer):
        return question, ()
    last = history[-1]
    return f"{question} {last.question}", tuple(last.article_ids)


def coverage(question_terms: list[str], sentence_terms: set[str], idf: dict[str, float]) -> float:
    """Share of the question's idf weight that the sentence contains."""
    total = sum(idf.get(t, 0.0) for t in set(question_terms))
    if total <= 0:
        return 0.0
    return sum(idf.get(t, 0.0) for t in set(question_terms) if t in sentence_terms) / total


def score_sentences(stored: StoredIndex, question: str, query_vector: np.ndarray,
                    passages: list[tuple[Candidate, ChunkRow]], weights: AnswerWeights,
                    exclude: Sequence[str] = ()) -> list[ScoredSentence]:
    """Every sentence of the given passages, best first."""
    terms = stored.analyzer.terms(question)
    idf = stored.bm25.idf(terms)
    excluded = {" ".join(e.split()) for e in exclude if e}
    scored: list[ScoredSentence] = []
    seen: set[tuple[str, int]] = set()
    for rank, (_, chunk) in enumerate(passages):
        article_text = None
        for row, start, end in stored.sentences_in(chunk.article_id, chunk.start, chunk.end):
            if (chunk.article_id, start) in seen:
                continue
            seen.add((chunk.article_id, start))
            text = chunk.text[start - chunk.start : end - chunk.start]
            if " ".join(text.split()) in excluded:
                continue
            lex = coverage(terms, set(stored.analyzer.terms(text)), idf)
            dense = float(np.asarray(stored.sentence_vectors[row], dtype=np.float32) @ query_vector)
            prior = 1.0 / (1 + rank)
            score = weights.lexical * lex + weights.dense * dense + weights.passage * prior
            scored.append(ScoredSentence(score, lex, dense, chunk, start, end, text, rank))
    scored.sort(key=lambda s: -s.score)
    return scored


def compose(best: ScoredSentence, ranked: list[ScoredSentence], max_chars: int) -> list[ScoredSentence]:
    """The best sentence, plus its neighbour in the same passage when that one scores nearly as well."""
    chosen = [best]
    for other in ranked[1:4]:
        adjacent = other.chunk.row == best.chunk.row and (other.start == best.end + 1 or other.end + 1 == best.start
                                                          or abs(other.start - best.end) <= 2 or abs(best.start - other.end) <= 2)
        if adjacent and other.score >= 0.8 * best.score and len(best.text) + len(other.text) + 1 <= max_chars:
            chosen.append(other)
            break
    return sorted(chosen, key=lambda s: s.start)


def clip(text: str, max_chars: int) -> str:
    """Cut an over-long sentence at a word boundary; the ellipsis marks the cut."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
