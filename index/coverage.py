"""How much of a question a passage or a sentence holds: the share of its idf weight.

One piece of evidence with five users: re-ranking (a passage whose best sentence holds all of
the question's words), the refusal (a passage that holds little of the question is not about
it), whether a follow-up stays in its story, whether a story's headline is about what "¿Qué
pasó con…?" names (``index.gist``), and the miss diagnosis script.
"""
from __future__ import annotations

from .records import Hit
from .storage import Storage
from .store import ChunkRow

UNKNOWN_TERM_FACTOR = 2.0  # a word no article uses weighs this much more than the rarest one


def coverage(question_terms: list[str], sentence_terms: set[str], idf: dict[str, float]) -> float:
    """Share of the question's idf weight that the sentence contains."""
    total = sum(idf.get(t, 0.0) for t in set(question_terms))
    if total <= 0:
        return 0.0
    return sum(idf.get(t, 0.0) for t in set(question_terms) if t in sentence_terms) / total


def passage_coverage(stored: Storage, text: str, chunk: ChunkRow) -> float:
    """How much of the question's idf weight the passage holds: low for questions about
    things the articles never mention ("¿Cuál es la capital de Mongolia?")."""
    return held_share(stored, text, chunk.title + "\n" + chunk.text)


def held_share(stored: Storage, text: str, holder: str) -> float:
    """The share of ``text``'s idf weight whose terms ``holder`` holds. A word no article uses
    at all is strong evidence the text is about something else (``UNKNOWN_TERM_FACTOR``)."""
    terms = stored.analyzer.terms(text)
    idf = stored.idf(terms, unknown_factor=UNKNOWN_TERM_FACTOR)
    return coverage(terms, set(stored.analyzer.document_terms(holder)), idf)


def sentence_coverages(stored: Storage, terms: list[str], idf: dict[str, float],
                       chunk: ChunkRow | Hit) -> list[tuple[int, int, int, str, float, set[str]]]:
    """(row, start, end, text, coverage, the sentence's own terms) of each sentence of a chunk.

    A sentence is read with its article's title, as every chunk is indexed with it: the answer
    sentence often leaves out the name the question (and the title) gives.
    """
    context = set(stored.analyzer.document_terms(chunk.title))
    out = []
    for row, start, end in stored.sentences_in(chunk.article_id, chunk.start, chunk.end):
        text = chunk.text[start - chunk.start : end - chunk.start]
        own = set(stored.analyzer.document_terms(text))
        out.append((row, start, end, text, coverage(terms, own | context, idf), own))
    return out


def best_coverage(stored: Storage, terms: list[str], idf: dict[str, float], chunk: ChunkRow | Hit) -> float:
    """The share of the question's idf weight held by the chunk's best sentence, read with its title."""
    return max((c[4] for c in sentence_coverages(stored, terms, idf, chunk)), default=0.0)
