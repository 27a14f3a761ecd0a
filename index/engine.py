"""The query side of the library: the encoder (loaded once) plus the index it serves.

The bot and the CLI hold one ``Engine``; it only orchestrates. A question's path:
follow-up resolution (``followup``) → search and re-ranking (``search``) → where the answer
may come from (``followup.answer_pool``) → sentence scoring and the outcome, answered or
refused (``answer``). Queries are thread-safe; ``reload_if_changed`` swaps in a newly built
index without dropping queries in flight (they keep a reference to the old one) and keeps the
old index when the new one fails to load.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from datetime import date
from typing import Hashable, Sequence

import faiss

from .answer import (AnswerWeights, Evidence, conclude, nothing_to_search, off_topic, score_sentences, verdict_answer,
                     with_article)
from .coverage import held_share
from .embedding import Encoder, QueryCache
from .errors import IndexError_, IndexMismatch, IndexNotFound
from .followup import (
    FOLLOWUP_BOOST, answer_pool, from_story, may_answer, points_back, resolve_query, rests_on_story, thread_vector,
)
from .gist import TopicRequest, about_story, latest_request, more_request, topic_request
from .latest import LatestPage, about_articles, bare_topic, dated_about, dated_page, news_listing, newest_page, page_of
from .noise import strip_noise
from .records import Answer, ArticleInfo, Hit, IndexInfo, Turn
from .search import search_passages, to_hit
from .settings import Settings
from .storage import Storage, current_key, open_key, open_storage
from .timeframe import Timeframe, date_span, parse_timeframe, today_of
from .verdict import claim_request

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000


class Engine:
    """Holds the encoder and the currently served index; see module docstring."""

    def __init__(self, settings: Settings, encoder: Encoder) -> None:
        # One FAISS thread per query: on two shared cores, two threads made exact search
        # ~4x slower (docs/performance.md); concurrency comes from serving questions in parallel.
        faiss.omp_set_num_threads(settings.threads)
        self.settings = settings
        self.encoder = encoder
        self.queries = QueryCache(encoder)
        self.weights = AnswerWeights.of(settings)
        self._stored: Storage | None = None
        self._rejected: Hashable | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> "Engine":
        """Load the model and the index; raises IndexNotFound / IndexMismatch / IndexCorrupt."""
        engine = cls(settings, encoder or Encoder(settings))
        engine._stored = _same_dimension(open_storage(settings), engine.encoder)
        return engine

    @property
    def ready(self) -> bool:
        return self._stored is not None

    def _index(self) -> Storage:
        stored = self._stored
        if stored is None:
            raise IndexNotFound(f"no index loaded from {self.settings.index_dir} yet")
        return stored

    def reload_if_changed(self) -> bool:
        """Switch to a newer complete build if ``current`` moved; a bad build is logged and ignored."""
        with self._lock:
            target = current_key(self.settings)
            if target is None or target == self._rejected or (self._stored and target == self._stored.build_key):
                return False
            try:
                fresh = _same_dimension(open_key(self.settings, target), self.encoder)
            except IndexError_ as exc:
                # Remembered so the periodic check does not re-hash and re-log the same bad build.
                self._rejected = target
                log.error("new index at %s not loaded, still serving the old one: %s", target, exc)
                return False
            self._stored = fresh  # queries in flight keep their reference to the old index
            log.info("now serving index %s", target)
            return True

    def today(self) -> date:
        """The date questions are asked on (ARTICLE_QA_TODAY, else the real date)."""
        return today_of(self.settings)

    def timeframe(self, question: str) -> Timeframe:
        """The question's time expression relative to today (``index.timeframe``)."""
        return parse_timeframe(question, self.today())

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        """Passages only, best first, near-duplicates removed; a time expression favours its dates."""
        stored = self._index()
        question = question[:MAX_QUESTION_CHARS]
        k = top_k or self.settings.top_k
        when = self.timeframe(question)
        if when.active:
            text = when.text_without_expression
            passages = search_passages(stored, self.settings, text, self.queries.encode_queries([text])[0], k,
                                       when=when)
            if passages and _used(when, passages[0][1].date):
                return [to_hit(c, chunk) for c, chunk in passages]
        text = _fallback(when, question)
        vector = self.queries.encode_queries([text])[0]
        passages = search_passages(stored, self.settings, text, vector, k, when=None)
        return [to_hit(c, chunk) for c, chunk in passages]

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        """The extractive answer to ``question``, resolved against ``history`` when it is a follow-up.

        Greetings, markup, emoji and mentions around a question (and its history's) are not
        about it and are stripped before analysis; the answer keeps the question as asked.
        """
        asked = _as_asked(question)
        answer = self._ask(strip_noise(asked), _cleaned(history), top_k or self.settings.top_k)
        return replace(answer, question=asked)

    def _ask(self, question: str, history: Sequence[Turn], k: int) -> Answer:
        stored = self._index()  # one index for the whole question, even if a reload swaps it meanwhile
        found, missed = self._timed_evidence(stored, question, history, k)
        answer = found if isinstance(found, Answer) else conclude(stored, self.settings, found)
        if missed and _says_other_dates(answer, missed):
            answer = replace(answer, outside_dates=missed)
        return answer

    def evidence(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Evidence | Answer:
        """The candidate sentences and passages ``ask`` decides from (or its answer when there is
        nothing to search for, or a claim's verdict), read from the question cleaned as ``ask``
        cleans it; the tuning scripts read the sentences' features from here."""
        cleaned = strip_noise(_as_asked(question))
        return self._timed_evidence(self._index(), cleaned, _cleaned(history), top_k or self.settings.top_k)[0]

    def _timed_evidence(self, stored: Storage, question: str, history: Sequence[Turn],
                        k: int) -> tuple[Evidence | Answer, str]:
        """The evidence, and the question's time expression when it found nothing of its dates.

        A question with a time expression is searched and analysed without its time words,
        favouring its dates. When that finds nothing of its dates, a question with a range ("ayer",
        "en 2020") is answered as asked, exactly as one without (its words may be the topic's:
        "los migrantes que llegaron en 2020"), and the expression is returned so the reply can say
        the answer is from other dates; "lo último sobre…" is answered without its words, which
        are never the topic's (docs/dates.md)."""
        when = self.timeframe(question)
        if not when.active:
            return self._evidence(stored, question, history, k), ""
        if when.latest and not points_back(when.text_without_expression, stored.analyzer):
            history = ()  # "lo último sobre el coronavirus" names its topic, however short
        found = self._evidence(stored, when.text_without_expression, history, k, when)
        if isinstance(found, Evidence) and found.passages and _used(when, found.passages[0][1].date):
            return found, ""
        return self._evidence(stored, _fallback(when, question), history, k), "" if when.latest else when.expression

    def _evidence(self, stored: Storage, question: str, history: Sequence[Turn], k: int,
                  when: Timeframe | None = None) -> Evidence | Answer:
        claim = claim_request(question) if self.settings.verdicts else None
        verdict = self._verdict(stored, question, claim, k, when) if claim else None
        if verdict is not None:
            return verdict
        if self.settings.story_leads:
            if more_request(question):
                return self._read_on(question, history)
            latest = when is not None and when.latest and not history  # "lo último sobre la lava": its newest story
            request = latest_request(question) if latest else topic_request(question)
            found = self._story_evidence(stored, question, request, history, k, when) if request else None
            if found is not None:
                return found
        return self._fact_evidence(stored, question, history, k, when)

    def _story_evidence(self, stored: Storage, question: str, request: TopicRequest, history: Sequence[Turn],
                        k: int, when: Timeframe | None) -> Evidence | Answer | None:
        """The evidence for a question that asks what a story is about (``index.gist``): searched by
        its subject alone, or the story the conversation is about ("¿Y de qué va la noticia?");
        answered with the story's lead. None when an event frame's subject is a detail of the
        story found rather than its subject: then it is answered as a question."""
        if not request.subject:
            turn = _last_story(history)
            if turn is None:
                return Answer(question, False, "", resolved_query=question, needs_subject=True)
            return Evidence(question, question, [], [], gate=False, lead=turn.article_ids[0])
        found = self._fact_evidence(stored, request.subject, (), k, when)
        if not isinstance(found, Evidence) or not found.sentences:
            return found if request.explicit else None
        story = found.sentences[0].chunk  # the story of the sentence that best answers its subject
        if not about_story(held_share(stored, request.subject, story.title), request):
            return None
        return replace(found, question=question, lead=story.article_id)

    def _verdict(self, stored: Storage, question: str, claim: str, k: int, when: Timeframe | None) -> Answer | None:
        """"¿Es verdad que…?": the claim searched alone, and the verdict the story found states
        (``index.verdict``). None when nothing is about the claim or the story states no verdict:
        then the question is answered as any other (and refused as any other)."""
        found = self._fact_evidence(stored, claim, (), k, when)
        if not isinstance(found, Evidence) or not found.sentences or off_topic(stored, self.settings, found):
            return None
        return verdict_answer(stored, self.settings, replace(found, question=question))

    def _read_on(self, question: str, history: Sequence[Turn]) -> Evidence | Answer:
        """"¿Qué más dice?": the story of the conversation's last answer, read on from that answer
        (past a "no dice nada más", from the answer before it: the end again)."""
        turn = _last_story(history, answered=True)
        if turn is None:
            return Answer(question, False, "", resolved_query=question, needs_subject=True)
        return Evidence(question, question, [], [], gate=False, lead=turn.article_ids[0], after=turn.answer)

    def _fact_evidence(self, stored: Storage, question: str, history: Sequence[Turn], k: int,
                       when: Timeframe | None = None) -> Evidence | Answer:
        s = self.settings
        resolution = resolve_query(question, history, stored.analyzer)
        early = nothing_to_search(question, stored.analyzer, bool(resolution.thread))
        if early is not None:
            return early
        vectors, tokens = self.queries.encode_queries_with_tokens([question, *resolution.thread])
        vector = thread_vector(vectors, resolution)
        passages = search_passages(stored, s, resolution.text, vector, k, resolution.article_ids, FOLLOWUP_BOOST,
                                   when)
        if not passages:
            return Evidence(question, resolution.text, [], [])
        pool = answer_pool(stored, s, question, vectors[0], passages, resolution.article_ids, k)
        if pool.in_story and rests_on_story(question, stored.analyzer):
            sentences, shown = from_story(stored, question, resolution, vector, pool.shown, k, self.weights)
            return Evidence(question, resolution.text, sentences, shown, gate=False)
        candidates = with_article(stored, pool.answer_from, pool.shown)
        every = score_sentences(stored, question, vectors[0], candidates, self.weights, tokens[0])
        sentences = may_answer(question, every, resolution.said, stored.analyzer)
        return Evidence(question, resolution.text, sentences, pool.shown, in_story=pool.in_story)

    def latest(self, about: str = "", page: int = 1, size: int = 10) -> LatestPage:
        """/ultimas: page ``page`` of the newest articles, of the whole index or about a topic,
        and of the period a time expression in it names ("ayer", "coronavirus esta semana")."""
        stored = self._index()
        about = " ".join(strip_noise(about[:MAX_QUESTION_CHARS]).split())
        when = self.timeframe(about)
        dated = when.names_period
        topic = bare_topic(when.text_without_expression) if dated else about
        if not topic:
            return dated_page(stored, when, self.today(), page, size) if dated else newest_page(
                stored, self.today(), page, size)
        found = about_articles(stored, self.settings, topic, self.queries.encode_queries([topic])[0], self.today())
        if dated:
            found = dated_about(found, when, self.today())
        return page_of(topic, found, len(found), page, size, dates=when.expression if dated else "")

    def news_topic(self, question: str) -> str | None:
        """What /ultimas lists for a message that asks for the news itself, read on today's date
        (``latest.news_listing``); None for any other message."""
        return news_listing(question[:MAX_QUESTION_CHARS], self.today())

    def info(self) -> IndexInfo:
        return self._index().info()

    def list_articles(self, offset: int = 0, limit: int = 10) -> list[ArticleInfo]:
        """Newest first; undated articles last, by title."""
        return self._index().list_articles(offset, limit)


def _as_asked(question: str) -> str:
    """The question as the answer reports it: at most MAX_QUESTION_CHARS, blanks collapsed."""
    return " ".join(question[:MAX_QUESTION_CHARS].split())


def _cleaned(history: Sequence[Turn]) -> list[Turn]:
    """The conversation's questions as analysed: without what is not about them (``index.noise``)."""
    return [replace(turn, question=strip_noise(turn.question)) for turn in history]


def _last_story(history: Sequence[Turn], answered: bool = False) -> Turn | None:
    """The conversation's latest turn that came from a story; with ``answered``, the latest that
    gave an answer from it (``answer.read_story`` finds out whether a rebuild dropped the story)."""
    return next((turn for turn in reversed(history) if turn.article_ids and (turn.answer or not answered)), None)


def _same_dimension(stored: Storage, encoder: Encoder) -> Storage:
    """A build whose vectors have another dimension than the encoder's cannot be searched."""
    built = stored.manifest.get("model", {}).get("dimension")
    dim = getattr(encoder, "dim", None)
    if built is not None and dim is not None and int(built) != int(dim):
        stored.close()
        raise IndexMismatch(f"the index holds {built}-dimensional vectors, the encoder makes {dim}; "
                            "rebuild it with `python -m index build --full`")
    return stored


def _says_other_dates(answer: Answer, expression: str) -> bool:
    """Whether the reply says it comes from other dates ("ayer" found nothing of its dates): only
    for an answer (or the article that does not say it) from a dated article, which is then known
    to be of another day; and not for an expression naming a year ("en 2020", "en enero de 2019"),
    which more often dates the event asked about than the news of it."""
    dated = bool(answer.passages) and answer.passages[0].hit.date is not None
    return answer.outcome in ("answered", "not_in_article") and dated and not _YEAR.search(expression)


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


def _fallback(when: Timeframe, question: str) -> str:
    """What is searched when the time expression decided nothing: a range's words may be the
    topic's ("los migrantes que llegaron en 2020"), so the question as asked; "lo último sobre…"
    never is, so the question without it."""
    return when.text_without_expression if when.latest else question


def _used(when: Timeframe, first_date: str | None) -> bool:
    """Whether the time expression decided the first passage: it is of the range's dates, or
    dated at all for "lo último" (among undated articles the expression can decide nothing)."""
    return when.contains(first_date) or (when.latest and date_span(first_date) is not None)
