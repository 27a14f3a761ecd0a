"""The conversation, independent of the transport: message text in, replies (text + buttons) out.

Telegram handlers and the console both drive one ``Conversation``; it owns the per-chat
history, the allowlist, the rate limiter, the answers kept for buttons and the /estado
counters (see ``bot.state``). Engine calls are blocking CPU work, so they run in a thread
(``asyncio.to_thread``) and never stall the event loop. Commands are carried out by
``bot.commands``; the words are in ``bot.wording``, the button protocol in ``bot.buttons``.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable, Hashable

from index.errors import IndexNotFound
from index.records import Answer, Turn

from . import buttons, render, smalltalk, wording
from .buttons import Press
from .cleaning import clean_question, has_words
from .commands import Busy, Call, Commands, parse_command
from .feedback import FeedbackLog, new_qid
from .qa_engine import QAEngine, engine_ready
from .render import Format, Reply
from .settings import BotSettings
from .state import AnswerStore, Allowlist, History, RateLimiter, Stats, StoredAnswer

__all__ = ["ButtonResult", "Conversation", "Sender"]

MORE_PAGE = 3  # passages per "Más pasajes" message
MAX_SOURCES = 3  # source lines (and "Ver pasaje" buttons) under an answer
_POSTING = frozenset({buttons.PASSAGE, buttons.MORE})  # presses that post messages, like questions


@dataclass(frozen=True)
class Sender:
    """Where a message came from; ``user_id`` may be None (e.g. anonymous group admins)."""

    chat_id: int
    user_id: int | None

    @property
    def rate_key(self) -> Hashable:
        """Whom the rate limit counts: the user, or the chat when the user is unknown."""
        return self.user_id if self.user_id is not None else ("chat", self.chat_id)


@dataclass(frozen=True)
class ButtonResult:
    """What a button press produces: new messages, a replacement for the pressed message,
    and/or a short notice for answerCallbackQuery."""

    replies: tuple[Reply, ...] = ()
    edit: Reply | None = None
    notice: str | None = None


class Conversation:
    """One bot's conversations. ``local=True`` is the console operator: no allowlist, no
    rate limit, admin rights, and /estado without timings (so transcripts are reproducible)."""

    def __init__(
        self,
        engine: QAEngine,
        settings: BotSettings,
        fmt: Format = render.HTML,
        *,
        feedback: FeedbackLog | None = None,
        clock: Callable[[], float] = time.monotonic,
        local: bool = False,
    ):
        self.engine = engine
        self.settings = settings
        self.fmt = fmt
        self.local = local
        self.feedback = feedback if feedback is not None else FeedbackLog(settings.feedback_log)
        self.history = History(settings.history_turns, settings.history_ttl_seconds, clock)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, 60.0, clock)
        self.allowlist = Allowlist(settings.allowed_ids)
        self.answers = AnswerStore(settings.answers_per_chat)
        self.stats = Stats(clock)
        self.commands = Commands(engine, settings, fmt, self.history, self.stats, local)
        # What each button on an answer does (bot.buttons has the kinds).
        self._on_answer_press: dict[str, Callable[[Sender, StoredAnswer, Press], ButtonResult]] = {
            buttons.PASSAGE: self._show_passage,
            buttons.MORE: self._show_more,
            buttons.VOTE: self._vote,
        }

    # ------------------------------------------------------------------ gatekeeping

    @property
    def ready(self) -> bool:
        """False while the engine has no index to serve (see ``QAEngine``)."""
        return engine_ready(self.engine)

    def is_admin(self, sender: Sender) -> bool:
        """The console operator always is; on Telegram, the users in ``settings.admin_ids``."""
        return self.local or (sender.user_id is not None and sender.user_id in self.settings.admin_ids)

    def admit(self, sender: Sender) -> list[Reply] | None:
        """None if the message may be processed; otherwise the replies (maybe none) to send."""
        if self.local:
            return None
        verdict = self.allowlist.check(sender.user_id, sender.chat_id)
        if verdict != "allow":
            return [Reply(wording.NOT_ALLOWED)] if verdict == "notify" else []
        verdict = self.limiter.check(sender.rate_key)
        if verdict != "allow":
            return [Reply(wording.RATE_LIMITED)] if verdict == "notify" else []
        return None

    # ------------------------------------------------------------------ entry points

    async def handle_text(
        self, sender: Sender, text: str, busy: Busy | None = None, bot_username: str | None = None
    ) -> list[Reply]:
        """A message as typed: '/command args' runs the command, anything else is a question."""
        command = parse_command(text or "", bot_username)
        if command is not None:
            return await self.command(sender, *command, busy=busy)
        if (text or "").lstrip().startswith("/"):
            return []  # a command for another bot
        return await self.question(sender, text, busy=busy)

    async def question(self, sender: Sender, text: str, busy: Busy | None = None) -> list[Reply]:
        """Answer a question with the engine, remembering it for follow-ups and buttons; what
        must not reach the engine (a refused sender, no words, small talk) gets a short reply, and
        a message asking for the news itself the newest stories (not a turn either)."""
        early = self.admit(sender)
        if early is not None:
            return early
        question = clean_question(text, self.settings.max_question_chars)
        early = self._screen(question)
        if early is not None:
            return early
        try:
            # "noticias", "¿Qué hay de nuevo?", "noticias de ayer": the stories of /ultimas [ayer]
            listing = await asyncio.to_thread(self.engine.news_topic, question)
            if listing is not None:
                return await self.commands.latest_page(listing)
        except IndexNotFound:
            return [Reply(wording.NOT_READY)]
        if busy:
            await busy()
        try:
            answer, latency = await self._ask(sender.chat_id, question)
        except IndexNotFound:  # the engine lost or has not yet got its index
            return [Reply(wording.NOT_READY)]
        return self._answer_replies(sender.chat_id, question, answer, latency)

    async def non_text(self, sender: Sender) -> list[Reply]:
        """A sticker, photo, voice note, location...: say what the bot understands."""
        refused = self.admit(sender)
        return refused if refused is not None else [Reply(wording.ONLY_TEXT)]

    async def command(self, sender: Sender, name: str, args: str = "", busy: Busy | None = None) -> list[Reply]:
        """Run /name with its argument text."""
        refused = self.admit(sender)
        if refused is not None:
            return refused
        return await self.commands.run(name, Call(sender.chat_id, self.is_admin(sender), args, busy))

    async def press(self, sender: Sender, data: str) -> ButtonResult:
        """A button press (callback data from ``bot.buttons``): page /fuentes or /ultimas, or act on an answer."""
        if not self.local and self.allowlist.check(sender.user_id, sender.chat_id) != "allow":
            return ButtonResult()
        press = buttons.decode(data)
        if press is None:
            return ButtonResult()
        if press.kind == buttons.SOURCES:
            return await self._turn_page(press.arg)
        if press.kind == buttons.LATEST:
            return await self._turn_page(press.arg, press.answer_id)
        stored = self.answers.get(sender.chat_id, press.answer_id)
        if stored is None:
            return ButtonResult(notice=wording.EXPIRED)
        if press.kind in _POSTING and not self.local and self.limiter.check(sender.rate_key) != "allow":
            return ButtonResult(notice=wording.RATE_LIMITED)  # the same budget as questions
        return self._on_answer_press[press.kind](sender, stored, press)

    async def reload(self) -> bool:
        """Ask the engine to switch to a newer build (the periodic check and /recargar)."""
        return await self.commands.reload()

    # ------------------------------------------------------------------ questions

    def _screen(self, question: str) -> list[Reply] | None:
        """The reply to a message the engine need not see, or None to ask the engine."""
        if not has_words(question):
            return [Reply(wording.NOT_A_QUESTION)]
        social = smalltalk.reply_for(question)
        if social is not None:  # not a turn: the next follow-up still leans on the last question
            return [Reply(social)]
        if not self.ready:
            return [Reply(wording.NOT_READY)]
        return None

    async def _ask(self, chat_id: int, question: str) -> tuple[Answer, float]:
        """The engine's answer in the light of the chat's last turns, and its latency (s)."""
        history = self.history.get(chat_id)
        started = time.perf_counter()
        answer = await asyncio.to_thread(self.engine.ask, question, history, None)
        latency = time.perf_counter() - started
        self.stats.record(latency, answer.answered)
        return answer, latency

    def _answer_replies(self, chat_id: int, question: str, answer: Answer, latency: float) -> list[Reply]:
        """Keep the answer for its buttons and as the chat's last turn, log it, render it."""
        sources, extra = _split_passages(answer)
        qid = new_qid()
        key = self.answers.put(chat_id, StoredAnswer(answer, sources, extra, qid))
        article_ids = tuple(dict.fromkeys(answer.passages[i].hit.article_id for i in sources))
        self.history.add(chat_id, Turn(question, answer.answer if answer.answered else "", article_ids))
        self.feedback.question(qid, question, answer, latency * 1000)
        text = render.answer_text(answer, sources, self.fmt)
        return render.replies(text, self.fmt, buttons.answer_keyboard(key, len(sources), bool(extra)))

    # ------------------------------------------------------------------ buttons

    async def _turn_page(self, arg: str, topic: str | None = None) -> ButtonResult:
        """◀ / ▶ under /fuentes (or /ultimas, with its ``topic``): the pressed message now shows that page."""
        if not self.ready:
            return ButtonResult(notice=wording.NOT_READY)
        try:
            if topic is None:
                page = await self.commands.sources_page(arg)
            else:
                page = await self.commands.latest_page(topic, int(arg) if arg.isascii() and arg.isdigit() else 1)
        except IndexNotFound:
            return ButtonResult(notice=wording.NOT_READY)
        return ButtonResult(edit=page[0])

    def _show_passage(self, sender: Sender, stored: StoredAnswer, press: Press) -> ButtonResult:
        """Ver pasaje: one source passage, its answer highlighted, as a new message."""
        number = press.number
        if number is None:
            return ButtonResult()
        if not 0 <= number < len(stored.sources):
            return ButtonResult(notice=wording.EXPIRED)
        passage = stored.answer.passages[stored.sources[number]]
        return ButtonResult(replies=tuple(render.replies(render.passage_text(passage, self.fmt), self.fmt)))

    def _show_more(self, sender: Sender, stored: StoredAnswer, press: Press) -> ButtonResult:
        """Más pasajes: the next page of the passages that were not shown as sources."""
        number = press.number
        if number is None:
            return ButtonResult()
        page = stored.extra[number : number + MORE_PAGE]
        if not page:
            return ButtonResult(notice=wording.NO_MORE_PASSAGES)
        passages = [stored.answer.passages[i] for i in page]
        text = render.passages_text(passages, len(stored.sources) + number + 1, self.fmt, wording.MORE_PASSAGES)
        nxt = number + MORE_PAGE
        keyboard = buttons.more_keyboard(press.answer_id, nxt) if nxt < len(stored.extra) else ()
        return ButtonResult(replies=tuple(render.replies(text, self.fmt, keyboard)))

    def _vote(self, sender: Sender, stored: StoredAnswer, press: Press) -> ButtonResult:
        """👍 / 👎: one vote per user and answer, logged with the question for the operator."""
        if press.arg not in buttons.VOTES:
            return ButtonResult()
        if sender.user_id in stored.voters:
            return ButtonResult(notice=wording.VOTE_AGAIN)
        stored.voters.add(sender.user_id)
        self.feedback.vote(stored.qid, press.arg)
        return ButtonResult(notice=wording.VOTE_THANKS)


def _split_passages(answer: Answer) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sources: passages carrying the answer (highlighted), one per article, at most
    MAX_SOURCES, else the first one. Extra: every other passage, for "Más pasajes"."""
    if not answer.passages:
        return (), ()
    if not answer.answered and answer.outcome != "not_in_article":  # its story's passage is its source
        return (), tuple(range(len(answer.passages)))
    sources: list[int] = []
    seen: set[str] = set()
    for i, passage in enumerate(answer.passages):
        if passage.highlight and passage.hit.article_id not in seen and len(sources) < MAX_SOURCES:
            sources.append(i)
            seen.add(passage.hit.article_id)
    if not sources:
        sources = [0]
    extra = tuple(i for i in range(len(answer.passages)) if i not in sources)
    return tuple(sources), extra
