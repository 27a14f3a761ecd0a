"""Follow-up questions: is it one, what thread does it follow, and does it stay in that story.

A question is a follow-up when it starts with "y", "pero", …, points back ("¿quién lo dijo?")
or names too little ("¿quién ganó?"). It is resolved against its whole thread, back to the
last question that named its subject, and answered inside the story the thread's last answer
came from, from the passages that best match its own words. It leaves that story only when
nothing in it points back and another story holds its words better. A follow-up that asks
only for a kind of answer ("¿Por qué?", "¿Cuándo?") is answered from the whole story by a
sentence holding that kind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from .answer import AnswerWeights, ScoredSentence, lacks_kind, score_sentences, story_passages, unsaid
from .coverage import passage_coverage
from .kinds import SCORED_KINDS, expected_kind, kind_match
from .lexical import Analyzer, fold, words
from .records import Turn
from .search import Ranked, search_passages
from .settings import Settings
from .storage import Storage

FOLLOWUP_BOOST = 0.15  # added to fused scores of the thread's articles on a follow-up

# Words that point back to an earlier turn ("¿quién lo dijo?", "¿y eso cuándo?").
_ANAPHORA = frozenset(
    "lo le les eso esto ello ese esa esos esas este esta estos estas aquel aquella "
    "dicho dicha ella ellos ellas alli ahi entonces tambien su sus".split()
)
# A follow-up that continues with "y", "pero", … keeps its story unless another holds its words
# more than this many times better: it is most likely about the story it continues, even where
# another article shares more of its words.
CONTINUE_MARGIN = 2.0
# Pronouns that are also articles ("¿quién la firmó?" but "¿qué es la carabela portuguesa?"):
# one points back only right after the question word, where an article cannot stand.
_ARTICLE_LIKE = frozenset("la los las".split())
_QUESTION_WORDS = frozenset("que quien quienes cuando donde como cuanto cuanta cuantos cuantas cual cuales no".split())
_FOLLOWUP_START = re.compile(r"^\W*(y|e|pero|entonces|tambien|ademas)\b", re.IGNORECASE)
# "cuál" with no noun of its own after a preposition picks one of what was just told: "¿Y en cuál
# fue la situación más grave?" after the attacked police stations is about those stations, though
# its story holds 0.48 of its words' weight and an article quoting "La situación es muy grave" all.
_WHICH_OF_THEM = re.compile(r"\b(?:en|de|a|con|por|para|desde|hasta) cual(?:es)? "
                            r"(?:fue|fueron|es|son|era|eran|sera|seran|esta|estan|estuvo|hubo|hay|habia|se)\b")


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
    if (any(t in _ANAPHORA for t in tokens) or "él" in re.findall(r"\w+", question.lower())
            or _WHICH_OF_THEM.search(" ".join(tokens))) and named <= 3:
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
    # A story that did not say what was asked is still the story: "¿Y quiénes son?" after "the
    # article does not say how many" asks about it.
    storied = [turn for turn in thread if turn.article_ids]
    articles = storied[0].article_ids if storied else ()
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


def thread_vector(vectors: np.ndarray, resolution: Resolution) -> np.ndarray:
    """The query vector of the whole thread: the question's own (row 0) and its thread's, averaged.

    The thread was asked a moment ago, so its vectors are remembered: the mean stands for the
    thread at the cost of one embedding. Scaled to length 1, as the index's vectors are.
    """
    if not resolution.thread:
        return vectors[0]
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 0 else mean.astype(np.float32)


@dataclass(frozen=True)
class Pool:
    """The passages to show, the (up to three) the answer sentence may come from, and whether
    the question is answered inside the story it follows."""

    shown: list[Ranked]
    answer_from: list[Ranked]
    in_story: bool


def answer_pool(stored: Storage, settings: Settings, question: str, vector: np.ndarray,
                passages: list[Ranked], thread: Sequence[str], k: int) -> Pool:
    """Where a question is answered from: normally the best passages of the retrieval.

    A follow-up of an answered story is answered inside that story, from the passages that best
    match its own words (``vector`` is its own): the thread's words found the story, but inside
    it they would pull the answer back to what was already said ("¿Y cuándo será la visita?"
    after the accusation), and a "dijo" from another article must not answer "¿quién lo dijo?".
    It leaves the story only when ``stays_in`` says no: "¿Y qué lleva la paella valenciana?", or
    "¿Dónde estuvo el youtuber?" (one word, so it looked like a follow-up) is a new topic.
    """
    story = set(thread)
    if not story:
        return Pool(passages, passages[:3], False)
    own = search_passages(stored, settings, question, vector, k, thread, FOLLOWUP_BOOST)
    in_story = [p for p in own if p[1].article_id in story] or [p for p in passages if p[1].article_id in story]
    if not own or (in_story and stays_in(stored, question, in_story, own[0])):
        return Pool(with_pool_first(in_story[:3], passages, k), in_story[:3], bool(in_story))
    return Pool(own, own[:3], False)


def stays_in(stored: Storage, question: str, in_story: list[Ranked], best_elsewhere: Ranked) -> bool:
    """Whether a follow-up belongs to its story: it points back and names no one, or the story
    holds its words at least as well as the best passage its own words found (half as well when
    it continues with "y": see ``CONTINUE_MARGIN``). A name outweighs a pronoun: the "le" of
    "¿Qué le pasa a Messi?" points at Messi, not at the story before."""
    if points_back(question, stored.analyzer) and not has_name(question):
        return True
    held = max(passage_coverage(stored, question, chunk) for _, chunk in in_story[:3])
    elsewhere = passage_coverage(stored, question, best_elsewhere[1])
    if _FOLLOWUP_START.match(fold(question)):
        return held > 0 and (held * CONTINUE_MARGIN >= elsewhere or _holds_asked(question, in_story[:3]))
    return held >= elsewhere


def _holds_asked(question: str, passages: list[Ranked]) -> bool:
    """A passage of the story holds the kind of answer the follow-up asks for: "y cuánto duró la
    rueda de prensa" after the mission's story, which tells of "una conferencia de prensa de tres
    horas" in other words than another article's "rueda de prensa"."""
    kind = expected_kind(question)
    return kind in SCORED_KINDS and any(kind_match(kind, chunk.text, question) for _, chunk in passages)


def from_story(stored: Storage, question: str, resolution: Resolution, vector: np.ndarray,
               passages: list[Ranked], k: int, weights: AnswerWeights) -> tuple[list[ScoredSentence], list[Ranked]]:
    """The candidate sentences, and the passages to show, for a follow-up that asks only for a
    kind of answer ("¿Por qué?", "¿Cuándo?", "¿quién lo dijo?"), taken from the whole story.

    Its own words find nothing, and its passages are those of the thread's words, so every
    sentence of the story competes, read against the thread; only one holding what the question
    word asks for (a reason, a date, a name) may answer. A sentence already given may answer
    again: "¿quién lo dijo?" and "¿Por qué?" often ask about the very sentence just read.
    """
    kind = expected_kind(question)
    pool = story_passages(stored, resolution.article_ids, passages)
    # One story: no passage prior; the kind is a filter here, not a score.
    weights = replace(weights, passage=0.0, kind=0.0, kind_loose=0.0, kind_missing=0.0)
    # With no word of its own it asks about what was just said ("¿Cuándo?" after "Se vendió por
    # más de 2 millones"): the last answer's words find the sentence telling the same event with
    # the detail asked. One that names its event ("¿Y cuándo será la visita?") is read as asked.
    bare = not stored.analyzer.terms(question)
    text = " ".join([resolution.text, *(resolution.said[:1] if bare else ())])
    sentences = [s for s in score_sentences(stored, text, vector, pool, weights) if kind_match(kind, s.text, question)]
    if not sentences:
        return [], passages
    own = set(stored.analyzer.terms(question))
    if own:
        # Its one word of its own names the detail asked, over the thread's many: "¿Y cuándo fue
        # la última?" after the postponed summit is the sentence about the last one, not the
        # postponement the thread's words describe. Sentences holding it come first, in score order.
        sentences.sort(key=lambda s: not own & set(stored.analyzer.terms(s.text)))
    holding = next(p for p in pool if p[1].chunk_id == sentences[0].chunk.chunk_id)
    return sentences, with_pool_first([holding], passages, k)


def may_answer(question: str, every: list[ScoredSentence], said: Sequence[str],
               analyzer: Analyzer) -> list[ScoredSentence]:
    """The sentences that may answer a follow-up: none already given by its thread, unless only
    a given one holds the kind asked, or the follow-up's own words point at one.

    A first answer may hold the next fact: "…la reina, de 94 años… su esposo, de 99 años" before
    "¿Y cuántos años tiene su marido?" ("the article does not say" would be wrong), or "El año
    pasado… salían 30 autos por minuto", given for this year's count, before "¿Y cuántos salían
    el año pasado?" (the best new sentence, "dos o tres autos por minuto", answers another thing).
    """
    fresh = unsaid(every, said)
    if fresh is every:
        return every
    if lacks_kind(question, fresh) and not lacks_kind(question, every):
        return every
    return every if asks_for_said(question, every, fresh, analyzer) else fresh


def asks_for_said(question: str, every: list[ScoredSentence], fresh: list[ScoredSentence], analyzer: Analyzer) -> bool:
    """Whether the follow-up asks for a sentence already given: the best-scored of those holds
    every one of the follow-up's own words (two or more; all but one of three or more: "¿Y
    cuántos pidió la acusación particular?" of "…la acusación particular, propuso… cinco años"),
    more than the best sentence not given does, and the kind it asks for. One word in common is
    not enough: "¿Y en qué emisora lo dijo?" asks for a new fact about what was said, not for the
    sentence with "dijo" again."""
    own = set(analyzer.terms(question))
    kept = {id(s) for s in fresh}
    said = next((s for s in every if id(s) not in kept), None)
    if len(own) < 2 or not fresh or said is None:
        return False
    kind = expected_kind(question)
    if kind and not kind_match(kind, said.text, question):
        return False
    held = lambda sentence: len(own & set(analyzer.document_terms(sentence.text)))  # noqa: E731
    needed = len(own) - 1 if len(own) >= 3 else len(own)
    return held(said) >= needed and held(said) > held(fresh[0])


def with_pool_first(pool: list[Ranked], passages: list[Ranked], k: int) -> list[Ranked]:
    """The passages to show: the answer's pool first, so the passage holding the answer is among them.
    (The pool's scores are those of the follow-up's own words, the rest those of the thread's.)"""
    ids = {chunk.chunk_id for _, chunk in pool}
    return (pool + [p for p in passages if p[1].chunk_id not in ids])[:k]
