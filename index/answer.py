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

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import token_match
from .coverage import passage_coverage, sentence_coverages
from .kinds import SCORED_KINDS, counts_something, expected_kind, focus_word, found, kind_match, value_before
from .lexical import Analyzer, fold
from .records import Answer, Passage
from .search import Candidate, Ranked, to_hit
from .settings import Settings
from .storage import Storage
from .store import ChunkRow
from .unstated import says_unstated
from .verdict import verdict_at


# What a candidate sentence is scored on; ``AnswerWeights`` holds one weight for each.
FEATURES = ("lexical", "dense", "passage", "kind", "kind_loose", "kind_missing", "article", "lead", "novelty",
            "focus", "focus_value", "context", *token_match.NAMES)
_KIND, _FOCUS, _FOCUS_VALUE, _CONTEXT = (FEATURES.index(name) for name in ("kind", "focus", "focus_value", "context"))


@dataclass(frozen=True)
class AnswerWeights:
    """Weights of a sentence's features (``FEATURES``); the score is their weighted sum.

    lexical: share of the question's idf weight the sentence holds (title as context);
    dense: cosine with the question; passage: its passage's retrieval score relative to the
    best; kind: it holds the date, amount, count, age, duration, share, hour or name asked for;
    kind_loose: it holds the cause or place asked for (weak: most sentences name a place);
    kind_missing: the question asks for a kind the sentence does not hold; article: it belongs
    to the best passage's article; lead: it is in its article's first passage; novelty: the
    share of its words the question does not use (an echo of the question states nothing new);
    focus: it uses the noun the question asks about ("club" of "¿Qué club…?"); focus_value: a
    number stands right before that noun ("cinco títulos"); context: its passage's cosine with
    the question (the sentence read with its neighbours); match, match_peak: how well each
    question word is met by a word of the sentence as e5 reads them in context, the mean and
    the three best (``token_match``: "copió" meets "plagió").
    """

    lexical: float
    dense: float
    passage: float
    kind: float = 0.0
    kind_loose: float = 0.0
    kind_missing: float = 0.0
    article: float = 0.0
    lead: float = 0.0
    novelty: float = 0.0
    focus: float = 0.0
    focus_value: float = 0.0
    context: float = 0.0
    match: float = 0.0
    match_peak: float = 0.0

    @classmethod
    def of(cls, settings: Settings) -> "AnswerWeights":
        return cls(*(getattr(settings, f"answer_{name}_weight") for name in FEATURES))

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in FEATURES], dtype=np.float64)


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
    features: tuple[float, ...] = ()  # in the order of FEATURES
    row: int = -1  # the sentence's row in the index's sentence vectors


def said_before(sentence: str, answers: Sequence[str]) -> bool:
    """Whether the sentence was (part of) an answer already given.

    An answer may join two sentences, and a long one is clipped with an ellipsis: then the
    sentence counts as said when the clipped answer ends with its beginning, or, clipped at both
    ends around what was asked (``clip``), lies inside it.
    """
    text = " ".join(sentence.split())
    if not text:
        return False
    for answer in answers:
        if answer.startswith("…") and answer.strip("…").rstrip(",;: ") in text:  # clipped at both ends
            return True
        at = answer.find(text[:20])
        if at >= 0 and (text in answer or answer.endswith("…") and text.startswith(answer[at:-1].rstrip())):
            return True
    return False


def score_sentences(stored: Storage, question: str, query_vector: np.ndarray, passages: list[Ranked],
                    weights: AnswerWeights, query_tokens: np.ndarray | None = None) -> list[ScoredSentence]:
    """Every sentence of the given passages, best first (``query_tokens``: the question's token
    vectors, for the token match; without them it is 0 for every sentence)."""
    terms = stored.analyzer.terms(question)
    idf = stored.idf(terms)
    kind = expected_kind(question)
    focus = set(stored.analyzer.terms(focus_word(question) or ""))
    found: list[tuple[int, float, ChunkRow, int, int, int, str, float, set[str]]] = []
    seen: set[tuple[str, int]] = set()
    top = passages[0][0].fused if passages else 0.0
    for rank, (cand, chunk) in enumerate(passages):
        # How strongly retrieval believes in this passage, relative to the best: near-ties stay
        # near-ties, where a 1/(1+rank) prior would hand the first passage a fixed lead.
        prior = cand.fused / top if top > 0 else 0.0
        for row, start, end, text, lex, own in sentence_coverages(stored, terms, idf, chunk):
            if (chunk.article_id, start) in seen or _asks(text):
                continue
            seen.add((chunk.article_id, start))
            found.append((rank, prior, chunk, row, start, end, text, lex, own))
    # One read of all the sentence vectors involved rather than one per sentence.
    rows = [f[3] for f in found]
    dense_scores = stored.sentence_cosines(query_vector, rows)
    if query_tokens is not None and len(query_tokens):
        matches = token_match.match_features(query_tokens, stored.sentence_tokens(rows))
    else:  # no token vectors for the question: nothing to read
        matches = np.zeros((len(found), len(token_match.NAMES)))
    context = _passage_cosines(stored, [f[2] for f in found], query_vector)
    lead_article = passages[0][1].article_id if passages else ""
    asked = set(terms)
    w = weights.vector()
    scored: list[ScoredSentence] = []
    for (rank, prior, chunk, row, start, end, text, lex, own), dense, match in zip(found, dense_scores, matches):
        holds = kind_match(kind, text, question) if kind else 0.0
        features = (lex, float(dense), prior, holds if kind in SCORED_KINDS else 0.0,
                    holds if kind and kind not in SCORED_KINDS else 0.0, 1.0 - holds if kind else 0.0,
                    float(chunk.article_id == lead_article), float(chunk.position == 0),
                    len(own - asked) / len(own) if own else 0.0, float(bool(focus & own)),
                    float(bool(focus) and kind == "count" and value_before(text, focus, stored.analyzer.terms)),
                    context[chunk.row], *match.tolist())
        score = float(np.dot(w, features))
        scored.append(ScoredSentence(score, lex, float(dense), chunk, start, end, text, rank, features, row))
    scored.sort(key=lambda s: -s.score)
    return scored


def _asks(sentence: str) -> bool:
    """A sentence that is itself a question ("¿Cómo se hizo el estudio?", a subheading) states no
    fact, so it answers nothing."""
    text = sentence.strip()
    return text.startswith("¿") and text.endswith("?")


def unsaid(sentences: list[ScoredSentence], said: Sequence[str]) -> list[ScoredSentence]:
    """The sentences that were not (part of) an answer already given, in their order."""
    answers = [" ".join(a.split()) for a in said if a]
    return [s for s in sentences if not said_before(s.text, answers)] if answers else sentences


def _passage_cosines(stored: Storage, chunks: list[ChunkRow], query_vector: np.ndarray) -> dict[int, float]:
    """Each distinct passage's cosine with the question (vectors are normalised)."""
    rows = sorted({chunk.row for chunk in chunks})
    if not rows:
        return {}
    return dict(zip(rows, np.asarray(stored.cosines(query_vector, rows)).astype(float).tolist()))


def story_passages(stored: Storage, article_ids: Sequence[str], shown: list[Ranked]) -> list[Ranked]:
    """Every passage of the given articles in reading order, with the retrieval scores of those
    among ``shown`` (passages not retrieved carry none)."""
    known = {chunk.chunk_id: cand for cand, chunk in shown}
    return [(known.get(chunk.chunk_id, Candidate(chunk.row, 0.0, 0.0, 0.0)), chunk)
            for article_id in article_ids for chunk in stored.article_chunks(article_id)]


def with_article(stored: Storage, pool: list[Ranked], shown: list[Ranked]) -> list[Ranked]:
    """The pool, then the rest of its best passage's article, in reading order.

    Why: a news story states the asked fact in a paragraph that often repeats none of the
    question's words ("¿Con qué materiales?" → "gel siliconado, fibra de vidrio y acero"),
    so retrieval ranks it low; the story itself was found. Passages not retrieved carry no
    retrieval score, which the passage feature weighs.
    """
    if not pool:
        return pool
    have = {chunk.chunk_id for _, chunk in pool}
    return pool + [p for p in story_passages(stored, [pool[0][1].article_id], shown) if p[1].chunk_id not in have]


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


@dataclass(frozen=True)
class Evidence:
    """What a question's outcome is decided from: its candidate sentences, best first, and the
    passages to show. ``gate`` is off when the caller already kept only sentences of the asked
    kind (a follow-up that asks nothing but "¿Por qué?"): then any sentence answers.
    ``in_story`` is set for a follow-up answered inside the story it follows: that story is
    about it, so it is never off-topic (at most the story does not say). ``lead`` names the
    article whose lead answers a question about what a story is about (``index.gist``);
    ``after``, the answer just given from it, read on from ("¿Qué más dice?")."""

    question: str
    resolved: str
    sentences: list[ScoredSentence]
    passages: list[Ranked]
    gate: bool = True
    in_story: bool = False
    lead: str = ""
    after: str = ""


def conclude(stored: Storage, settings: Settings, evidence: Evidence) -> Answer:
    """The outcome: answered, not in the article, or off-topic (see ``records.Answer``).

    Off-topic when retrieval found nothing about the question: the best sentence's topicality
    (``topicality``) is below ``refusal_threshold`` or its passage holds less than
    ``refusal_min_coverage`` of the question's idf weight (either reading of the question will do:
    one wrongly taken for a follow-up must not be refused for the previous turn's words). Not in the
    article when the story was found but does not state what was asked: the question asks for a kind
    of answer (an amount, a date, a name…) that no candidate sentence of the story holds, the best
    sentence says the fact is unknown or withheld ("sigue bajo investigación", ``unstated``), or it
    scores below ``not_in_article_threshold``. Ungated evidence (a follow-up that asks
    nothing but "¿Por qué?", already filtered by kind) is answered by any sentence. A question
    about what a story is about (``Evidence.lead``) that is not off-topic gets the story's lead.
    """
    question, resolved, sentences, passages = evidence.question, evidence.resolved, evidence.sentences, evidence.passages
    if not sentences and not evidence.lead:
        return refused(question, passages, resolved, 0.0)
    if sentences and evidence.gate and off_topic(stored, settings, evidence):
        return refused(question, passages, resolved, sentences[0].score)
    if evidence.lead:
        return read_story(stored, settings, evidence)
    best = sentences[0]
    if evidence.gate and (best.score < settings.not_in_article_threshold or not_stated(question, sentences)):
        return Answer(question, False, "", highlighted(passages, [best]), resolved, best.score,
                      closest_titles(passages), outcome="not_in_article", closest=best.text)
    chosen = compose(best, sentences, settings.answer_max_chars, settings.answer_join_margin)
    text = clip(" ".join(s.text for s in chosen), settings.answer_max_chars, question, stored.analyzer)
    return Answer(question, True, text, highlighted(passages, chosen), resolved, best.score, closest_titles(passages))


def off_topic(stored: Storage, settings: Settings, evidence: Evidence) -> bool:
    """Whether retrieval found nothing about the question (see ``conclude``); a follow-up answered
    inside its story never is."""
    best = evidence.sentences[0]
    covered = max(passage_coverage(stored, q, best.chunk) for q in {evidence.question, evidence.resolved})
    weak = topicality(best, covered, settings) < settings.refusal_threshold or covered < settings.refusal_min_coverage
    return weak and not evidence.in_story


SHORT_READ = 60  # characters: a passage that says less is read on into the next (``read_story``)
OPENING = 4  # a story's first passages, where its lead and a fact-check's verdict (``verdict.VERDICT_WITHIN``) lie
_ASKING = re.compile(r"\?[\"'»”’]*$")


def read_story(stored: Storage, settings: Settings, evidence: Evidence) -> Answer:
    """The story read from its start (a question about what it is about: its lead) or on from the
    answer just given (``Evidence.after``): the next sentences of one passage that fit in
    ``answer_max_chars`` (at least one, clipped), that passage shown first. What says less than
    ``SHORT_READ`` characters, or ends asking, is read on into the next passage: a story that
    opens with a pull quote ("Gracias a esta tierra por darme a estos dos hijitos") or a
    subhead that asks ("¿Cómo lo lograron?") would otherwise be summed up by it. Past its last
    sentence the story does not say more (``not_in_article``, with nothing closest). A story a
    rebuild has dropped leaves nothing to read: the reply asks for the subject."""
    chunks = stored.article_chunks(evidence.lead)
    if not chunks:
        return Answer(evidence.question, False, "", resolved_query=evidence.resolved, needs_subject=True)
    # A lead is in the first passages; reading on needs the whole story, to find where the answer was.
    story = story_sentences(stored, chunks if evidence.after else chunks[:OPENING],
                            evidence.sentences[0].score if evidence.sentences else 0.0)
    after = [" ".join(evidence.after.split())] if evidence.after else []
    said = [i for i, s in enumerate(story) if after and said_before(s.text, after)]
    rest = story[said[-1] + 1:] if said else story
    if not rest:
        last = chunks[-1]
        shown = (Passage(to_hit(Candidate(last.row, 0.0, 0.0, 0.0), last)),)
        return Answer(evidence.question, False, "", shown, evidence.resolved, 0.0, (last.title,),
                      outcome="not_in_article")
    chosen = [rest[0]]
    for s in rest[1:]:
        read = sum(len(c.text) + 1 for c in chosen)
        same = s.chunk.chunk_id == chosen[-1].chunk.chunk_id
        on = same or read < SHORT_READ or _ASKING.search(chosen[-1].text)
        if read + len(s.text) > settings.answer_max_chars or not on:
            break
        chosen.append(s)
    return _read_out(evidence, settings, chosen, [s.chunk for s in chosen])


def _read_out(evidence: Evidence, settings: Settings, chosen: list[ScoredSentence], shown: list[ChunkRow],
              text: str = "") -> Answer:
    """The answer read out of a story rather than chosen by score (its lead, its next sentences,
    its verdict): ``chosen``'s text (or ``text``), the passages it was read from shown first."""
    first = list({c.chunk_id: c for c in shown}.values())
    passages = [p for p in evidence.passages if p[1].chunk_id not in {c.chunk_id for c in first}]
    passages[:0] = [(Candidate(c.row, 0.0, 0.0, 0.0), c) for c in first]
    shown_passages = highlighted(passages, chosen) if chosen else tuple(Passage(to_hit(*p)) for p in passages)
    text = text or clip(" ".join(s.text for s in chosen), settings.answer_max_chars)
    score = chosen[0].score if chosen else (evidence.sentences[0].score if evidence.sentences else 0.0)
    return Answer(evidence.question, True, text, shown_passages, evidence.resolved, score, closest_titles(passages))


def verdict_answer(stored: Storage, settings: Settings, evidence: Evidence) -> Answer | None:
    """The verdict the story that best answers a claim states (``index.verdict``), or None when
    it states none. Stated in the text, it is that sentence, after the one before it when it says
    less than ``SHORT_READ`` and both fit ("… Sin embargo esto es totalmente falso."); stated
    only in the headline, the headline, with the story's first passage shown."""
    chunks = stored.article_chunks(evidence.sentences[0].chunk.article_id)
    story = story_sentences(stored, chunks[:OPENING], evidence.sentences[0].score)
    at = verdict_at(chunks[0].title, [s.text for s in story]) if chunks else None
    if at is None:
        return None
    if at < 0:
        return _read_out(evidence, settings, [], chunks[:1], " ".join(chunks[0].title.split()))
    verdict = story[at]
    before = story[at - 1] if at > 0 else None
    fits = before is not None and len(before.text) + 1 + len(verdict.text) <= settings.answer_max_chars
    chosen = [before, verdict] if fits and len(verdict.text) < SHORT_READ else [verdict]
    return _read_out(evidence, settings, chosen, [s.chunk for s in chosen])


def story_sentences(stored: Storage, chunks: Sequence[ChunkRow], score: float = 0.0) -> list[ScoredSentence]:
    """Every sentence of an article's passages in reading order, each once (passages overlap by a
    sentence), with the first passage that holds it."""
    out: list[ScoredSentence] = []
    seen: set[int] = set()
    for chunk in chunks:
        for row, start, end in stored.sentences_in(chunk.article_id, chunk.start, chunk.end):
            if start not in seen:
                seen.add(start)
                text = chunk.text[start - chunk.start : end - chunk.start]
                out.append(ScoredSentence(score, 0.0, 0.0, chunk, start, end, text, len(out), row=row))
    return out


def topicality(best: ScoredSentence, covered: float, settings: Settings) -> float:
    """How much the best sentence is about the question, for the off-topic decision: its score,
    plus its passage's share of the question's idf weight, its cosine with the question and its
    passage's. The score ranks a story's sentences; the cosines say whether any article is about
    the question at all (weights learned on the tune halves by scripts/tune_answer.py)."""
    return (best.score + settings.refusal_coverage_weight * covered + settings.refusal_dense_weight * best.dense
            + settings.refusal_context_weight * best.features[_CONTEXT])


def not_stated(question: str, sentences: list[ScoredSentence]) -> bool:
    """The rules that say the found story does not state what was asked, score aside: no
    candidate of the story holds the asked kind, or the best sentence says the fact is unknown
    or withheld (``unstated``). The tuning reads the same rules (scripts/tune_answer.py)."""
    return lacks_kind(question, sentences) or says_unstated(question, sentences[0].text)


def lacks_kind(question: str, sentences: list[ScoredSentence]) -> bool:
    """The question asks for a kind of answer that no candidate sentence of the best one's
    article holds: "¿Cuántos misiles ha enviado?" to a story that gives no number of missiles.
    A count must stand before the counted noun ("cinco misiles"): a story about missiles holds
    other numbers (dates, ages) that do not answer it. A story that never names the counted noun
    may count it in other words ("cuánta gente" → "872 personas"): then any number will do.
    Only the kinds told in few ways count."""
    kind = expected_kind(question)
    if kind not in SCORED_KINDS:  # a cause or a place is told in too many ways to be sure it is missing
        return False
    story = [s for s in sentences if s.chunk.article_id == sentences[0].chunk.article_id]
    if kind == "count" and focus_word(question) and not any(s.features[_FOCUS] for s in story):
        return not any(counts_something(s.text, question) for s in story)
    held = _FOCUS_VALUE if kind == "count" and focus_word(question) else _KIND  # as scored, not found again
    return not any(s.features[held] for s in story)


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
            margin: float = 2.0) -> list[ScoredSentence]:
    """The best sentence, plus its neighbour in the same passage when that one scores nearly as well:
    within ``margin`` of it. A score difference is the log-odds with which the learned weights
    prefer one sentence to the other (a pairwise logistic regression), so the margin means the
    same whatever the weights' scale."""
    chosen = [best]
    for other in ranked[1:4]:
        gap = max(other.start - best.end, best.start - other.end)
        adjacent = other.chunk.row == best.chunk.row and 0 <= gap <= 2
        if adjacent and other.score >= best.score - margin and len(best.text) + len(other.text) + 1 <= max_chars:
            chosen.append(other)
            break
    return sorted(chosen, key=lambda s: s.start)


def clip(text: str, max_chars: int, question: str = "", analyzer: Analyzer | None = None) -> str:
    """Cut an over-long sentence at word boundaries; an ellipsis marks each cut.

    The stretch kept is the one holding most of what was asked (the question's words, and twice
    over the values of the kind it asks for), the earliest such: a 450-character sentence may
    say "cada seis años", the length asked about, only in its last line.
    """
    if len(text) <= max_chars:
        return text
    start = _focus_start(text, max_chars - 2, question, analyzer) if analyzer and question else 0
    if start == 0:
        cut = text[: max_chars - 1].rsplit(" ", 1)[0]
        return cut.rstrip(",;:") + "…"
    rest = text[start:]
    if len(rest) + 1 <= max_chars:
        return "…" + rest
    cut = rest[: max_chars - 2].rsplit(" ", 1)[0]
    return "…" + cut.rstrip(",;:") + "…"


def _focus_start(text: str, width: int, question: str, analyzer: Analyzer) -> int:
    """Where the stretch of ``width`` characters holding most of the asked starts (a word's start)."""
    asked = set(analyzer.terms(question))
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    weight = [float(bool(asked.intersection(analyzer.document_terms(text[a:b])))) for a, b in spans]
    folded = fold(text)
    if len(folded) == len(text):  # a value found in the folded text sits at the same offsets in the text
        for value in found(expected_kind(question), text):
            for m in re.finditer(re.escape(fold(value)), folded):
                for i, (a, b) in enumerate(spans):
                    if a < m.end() and b > m.start():
                        weight[i] += 2.0
    best, best_start = -1.0, 0
    for i, (a, _) in enumerate(spans):
        held = sum(w for (_, end), w in zip(spans[i:], weight[i:]) if end - a <= width)
        if held > best:
            best, best_start = held, a
    return best_start
