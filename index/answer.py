"""From ranked passages to an extractive answer: sentence choice, refusal, follow-ups.

The answer is always a sentence (or two adjacent ones) copied from an article, never
generated text. Each candidate sentence of the top passages is scored against the question
by idf-weighted term coverage (lexical, the article's title counted as context) and cosine
with its stored vector (dense), plus its passage's retrieval score relative to the best one;
weights and the refusal threshold are settings chosen on held-out data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from .lexical import Analyzer, fold, words
from .records import Hit, Turn
from .search import Candidate
from .store import ChunkRow, StoredIndex

# Words that point back to an earlier turn ("¿quién lo dijo?", "¿y eso cuándo?").
_ANAPHORA = frozenset(
    "lo le les eso esto ello ese esa esos esas este esta estos estas aquel aquella "
    "dicho dicha ella ellos ellas alli ahi entonces tambien".split()
)
# Pronouns that are also articles ("¿quién la firmó?" but "¿qué es la carabela portuguesa?"):
# one points back only right after the question word, where an article cannot stand.
_ARTICLE_LIKE = frozenset("la los las".split())
_QUESTION_WORDS = frozenset("que quien quienes cuando donde como cuanto cuanta cuantos cuantas cual cuales no".split())
UNKNOWN_TERM_FACTOR = 2.0
_FOLLOWUP_START = re.compile(r"^\W*(y|e|pero|entonces|tambien|ademas)\b", re.IGNORECASE)


_MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre"
# News dates its events by weekday ("el pasado sábado", "este jueves") as often as by month.
_DAYS = "lunes martes miercoles jueves viernes sabado domingo ayer anoche anteayer hoy"
_DATE = re.compile(r"\b(1\d{3}|20\d{2}|siglo|" + "|".join(_MONTHS.split() + _DAYS.split()) + r")\b")
# An amount: a number that is not a year ("2,9 millones", "1.500", "dos"); "un"/"una" are
# mostly articles, and a year answers "¿cuándo?", not "¿cuánto?".
_NUMERAL = re.compile(r"\d[\d.,]*\d|\d")
_YEAR = re.compile(r"1\d{3}|20\d{2}")
_AMOUNT_WORD = re.compile(
    r"\b(uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|veinte|treinta|cuarenta|"
    r"cincuenta|cien|ciento|cientos|mil|millon|millones|mitad|doble|triple)\b")
_PROPER = re.compile(r"(?<!^)(?<![.!?¿¡]\s)\b[A-ZÁÉÍÓÚÑ][\wáéíóúñü]+")
# Question word -> the kind of answer it asks for ("¿cuándo?" wants a date).
_EXPECT = (
    (re.compile(r"\b(cuando|que ano|en que ano|que fecha|que siglo|que dia|que mes)\b"), "date"),
    (re.compile(r"\b(cuantos|cuantas|cuanto|cuanta|que porcentaje|que cantidad|que edad|que numero)\b"), "number"),
    (re.compile(r"\b(quien|quienes|a quien|de quien)\b"), "person"),
    (re.compile(r"\bpor que\b|^\W*(y\s+)?para que\b|\b(que motivo|que razon|a que se debe)\b"), "reason"),
    (re.compile(r"\b(donde|adonde|en que lugar|en que pais|en que ciudad|en que region)\b"), "place"),
)
# The kinds whose bonus helps choose the sentence. A reason or a place as a bonus was flat to
# harmful on the SQuAD-es tune half (answer holds gold 0.7725 -> 0.7715: most Wikipedia
# sentences name a place, many say "para"); those two only filter a follow-up that asks
# nothing but "¿Por qué?" / "¿Dónde?" (see ``rests_on_story``).
SCORED_KINDS = frozenset({"date", "number", "person"})
# What states a reason or a purpose ("porque", "debido a", "para prolongar el conflicto").
_REASON = re.compile(
    r"\b(porque|debido a|ya que|puesto que|dado que|a causa de|por culpa de|gracias a|para|a fin de|"
    r"con el fin de|con el objetivo de|por lo que|por eso|motivo|motivos|razon|razones|causa|causas)\b")
# A place: a name after a preposition of place ("en Pionyang", "desde la Casa Blanca").
_PLACE = re.compile(r"\b(?:en|desde|hacia|hasta|a)\s+(?:el\s+|la\s+|los\s+|las\s+)?"
                    r"([A-ZÁÉÍÓÚÑ][\wáéíóúñü]+)")


@dataclass(frozen=True)
class AnswerWeights:
    lexical: float
    dense: float
    passage: float
    kind: float = 0.0


def expected_kind(question: str) -> str | None:
    """The kind of answer a Spanish question word asks for, if it says."""
    folded = fold(question)
    return next((kind for pattern, kind in _EXPECT if pattern.search(folded)), None)


def kind_match(kind: str | None, sentence: str, question: str) -> float:
    """1.0 when the sentence holds something of the expected kind that the question does not."""
    if kind == "date":
        found = set(_DATE.findall(fold(sentence)))
    elif kind == "number":
        found = {n for n in _NUMERAL.findall(sentence) if not _YEAR.fullmatch(n)} | set(_AMOUNT_WORD.findall(fold(sentence)))
    elif kind == "person":
        found = {m.group(0) for m in _PROPER.finditer(sentence)}
    elif kind == "reason":  # "¿Para qué sirve?" is answered by a "para": the asked word counts here
        return 1.0 if _REASON.search(fold(sentence)) else 0.0
    elif kind == "place":
        found = set(_PLACE.findall(sentence))
    else:
        return 0.0
    asked = {t.strip("¿?¡!.,;:«»\"'()") for t in fold(question).split()}
    return 1.0 if any(fold(f) not in asked for f in found) else 0.0


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
    return bool(_FOLLOWUP_START.match(fold(question))) or leans_back(question, analyzer)


def leans_back(question: str, analyzer: Analyzer) -> bool:
    """A question that cannot stand without the earlier turn: it points back ("¿quién lo dijo?")
    or names too little ("¿quién ganó?"). "¿Y qué lleva la paella?" follows up only by its "y"."""
    # One content word says too little ("¿quién ganó?"), unless it is a name ("¿Qué es la OTAN?").
    named = len(analyzer.terms(question))
    return points_back(question, analyzer) or (named <= 1 and not has_name(question))


def points_back(question: str, analyzer: Analyzer) -> bool:
    """A pronoun that refers to the earlier turn ("¿quién lo dijo?", "¿cuándo la firmaron?"),
    or no content word at all ("¿Por qué?"): such a question can only be about the story before."""
    tokens, named = words(fold(question)), len(analyzer.terms(question))
    if named == 0:
        return True
    if (any(t in _ANAPHORA for t in tokens) or "él" in re.findall(r"\w+", question.lower())) and named <= 3:
        return True
    return any(t in _ARTICLE_LIKE and prev in _QUESTION_WORDS for prev, t in zip(tokens, tokens[1:])) and named <= 2


def rests_on_story(question: str, analyzer: Analyzer) -> bool:
    """A follow-up that asks only for a kind of answer ("¿Por qué?", "¿Cuándo?", "¿quién lo dijo?"):
    with at most one content word its own words cannot find the answer; the story it follows and
    the kind of answer it asks for can."""
    return expected_kind(question) is not None and len(analyzer.terms(question)) <= 1


def has_name(question: str) -> bool:
    """A capitalised word after the first one: a name or an acronym the question is about."""
    return any(w[0].isupper() for w in re.findall(r"[^\W\d_]+", question)[1:])


@dataclass(frozen=True)
class Resolution:
    """How a question reads against the conversation: the text to retrieve with, the articles of
    the thread it follows (boosted) and the answers that thread already gave (not repeated)."""

    text: str
    article_ids: tuple[str, ...] = ()
    said: tuple[str, ...] = ()
    thread: tuple[str, ...] = ()  # the earlier questions it leans on, newest first


def resolve_query(question: str, history: Sequence[Turn], analyzer: Analyzer) -> Resolution:
    """Resolve a follow-up against its whole thread, back to the question that named its subject:
    after "¿Qué acusa EE. UU.?", "¿Por qué?", the question "¿Y qué recibe a cambio?" still
    follows the accusation, not the bare "¿Por qué?"."""
    if not history or not is_followup(question, analyzer):
        return Resolution(question)
    thread = _thread(history, analyzer)
    answered = [turn for turn in thread if turn.answer]
    articles = answered[0].article_ids if answered else ()
    questions = tuple(t.question for t in thread)
    return Resolution(" ".join([question, *questions]), articles, tuple(t.answer for t in answered), questions)


def _thread(history: Sequence[Turn], analyzer: Analyzer) -> list[Turn]:
    """The latest turns, newest first, up to and including the last one that named its own
    subject: "¿Y qué es la carabela portuguesa?" starts a thread of its own, "¿Por qué?" does not."""
    thread = []
    for turn in reversed(history):
        thread.append(turn)
        if not leans_back(turn.question, analyzer):
            break
    return thread


def coverage(question_terms: list[str], sentence_terms: set[str], idf: dict[str, float]) -> float:
    """Share of the question's idf weight that the sentence contains."""
    total = sum(idf.get(t, 0.0) for t in set(question_terms))
    if total <= 0:
        return 0.0
    return sum(idf.get(t, 0.0) for t in set(question_terms) if t in sentence_terms) / total


def passage_coverage(stored: StoredIndex, text: str, chunk: ChunkRow) -> float:
    """How much of the question's idf weight the passage holds: low for questions about
    things the articles never mention ("¿Cuál es la capital de Mongolia?")."""
    terms = stored.analyzer.terms(text)
    # A word no article uses at all is strong evidence the question is about something else.
    idf = stored.bm25.idf(terms, unknown_factor=UNKNOWN_TERM_FACTOR)
    return coverage(terms, set(stored.analyzer.document_terms(chunk.title + "\n" + chunk.text)), idf)


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


def score_sentences(stored: StoredIndex, question: str, query_vector: np.ndarray,
                    passages: list[tuple[Candidate, ChunkRow]], weights: AnswerWeights,
                    exclude: Sequence[str] = ()) -> list[ScoredSentence]:
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


def sentence_coverages(stored: StoredIndex, terms: list[str], idf: dict[str, float],
                       chunk: ChunkRow | Hit) -> list[tuple[int, int, int, str, float]]:
    """(row, start, end, text, coverage) of each sentence of a chunk.

    A sentence is read with its article's title, as every chunk is indexed with it: the answer
    sentence often leaves out the name the question (and the title) gives.
    """
    context = set(stored.analyzer.document_terms(chunk.title))
    out = []
    for row, start, end in stored.sentences_in(chunk.article_id, chunk.start, chunk.end):
        text = chunk.text[start - chunk.start : end - chunk.start]
        out.append((row, start, end, text, coverage(terms, set(stored.analyzer.document_terms(text)) | context, idf)))
    return out


def best_coverage(stored: StoredIndex, terms: list[str], idf: dict[str, float], chunk: ChunkRow | Hit) -> float:
    """The share of the question's idf weight held by the chunk's best sentence, read with its title."""
    return max((c[4] for c in sentence_coverages(stored, terms, idf, chunk)), default=0.0)


def rerank(stored: StoredIndex, text: str, passages: list[tuple[Candidate, ChunkRow]],
           weight: float) -> list[tuple[Candidate, ChunkRow]]:
    """The retrieved passages re-ordered by fused score + ``weight`` x best-sentence coverage.

    Why: all of the question's words inside one sentence is evidence that BM25 over the whole
    chunk and the vectors do not see; measured on the SQuAD-es tune half (README). Only the
    few passages already retrieved are re-scored, so it costs a few milliseconds.
    """
    if not weight or not passages:
        return passages
    terms = stored.analyzer.terms(text)
    idf = stored.bm25.idf(terms)
    scored = [(replace(cand, fused=cand.fused + weight * best_coverage(stored, terms, idf, chunk)), chunk)
              for cand, chunk in passages]
    return sorted(scored, key=lambda p: -p[0].fused)


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
