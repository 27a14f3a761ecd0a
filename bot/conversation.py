"""The conversation, independent of the transport: message text in, replies (text + buttons) out.

Telegram handlers and the console both drive one ``Conversation``; it owns the per-chat
history, the allowlist, the rate limiter, the answers kept for buttons and the /estado
counters (see ``bot.state``). Engine calls are blocking CPU work, so they run in a thread
(``asyncio.to_thread``) and never stall the event loop. The words it replies with are in
``bot.wording``.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Hashable, Protocol, Sequence

from index.errors import IndexNotFound
from index.records import Answer, Hit, Turn

from . import buttons, render, smalltalk, wording
from .buttons import Keyboard, Press
from .cleaning import clean_question, has_words
from .feedback import FeedbackLog, new_qid
from .render import Format, Reply
from .settings import BotSettings
from .state import AnswerStore, Allowlist, History, RateLimiter, Stats, StoredAnswer

__all__ = ["ButtonResult", "Conversation", "QAEngine", "Sender", "parse_command"]

log = logging.getLogger(__name__)

Busy = Callable[[], Awaitable[None]]

_ALIASES = {"help": "ayuda", "new": "nuevo", "sources": "fuentes", "search": "buscar"}

MORE_PAGE = 3  # passages per "Más pasajes" message
MAX_SOURCES = 3  # source lines (and "Ver pasaje" buttons) under an answer

NEEDS_INDEX = frozenset({"start", "buscar", "fuentes", "estado"})  # commands that read the index
_POSTING = frozenset({buttons.PASSAGE, buttons.MORE})  # presses that post messages, like questions


class QAEngine(Protocol):
    """What the bot needs from ``index.Engine`` (blocking, thread-safe methods).

    An engine may also have a ``ready`` property (``index.Engine`` does): while it is False
    (no index loaded yet, e.g. the first build is still running) the bot answers politely
    that the index is being prepared instead of calling ``ask``/``search``/``info``, which
    would raise ``IndexNotFound``. Engines without it count as ready.
    """

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer: ...
    def search(self, question: str, top_k: int | None = None) -> list[Hit]: ...
    def info(self) -> object: ...
    def list_articles(self, offset: int = 0, limit: int = 10) -> list: ...
    def reload_if_changed(self) -> bool: ...


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


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """'/Fuentes@MiBot 2' → ('fuentes', '2'); None if not a command or meant for another bot."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text.partition(" ")
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name:
        return None
    return name.lower(), args.strip()


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
        return bool(getattr(self.engine, "ready", True))

    def is_admin(self, sender: Sender) -> bool:
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
        """Answer a question with the engine, remembering it for follow-ups and buttons."""
        refused = self.admit(sender)
        if refused is not None:
            return refused
        question = clean_question(text, self.settings.max_question_chars)
        if not has_words(question):
            return [Reply(wording.NOT_A_QUESTION)]
        social = smalltalk.reply_for(question)
        if social is not None:  # not a turn: the next follow-up still leans on the last question
            return [Reply(social)]
        if not self.ready:
            return [Reply(wording.NOT_READY)]
        if busy:
            await busy()
        history = self.history.get(sender.chat_id)
        started = time.perf_counter()
        try:
            answer = await asyncio.to_thread(self.engine.ask, question, history, None)
        except IndexNotFound:  # the engine lost or has not yet got its index
            return [Reply(wording.NOT_READY)]
        latency = time.perf_counter() - started
        self.stats.record(latency, answer.answered)

        sources, extra = _split_passages(answer)
        qid = new_qid()
        key = self.answers.put(sender.chat_id, StoredAnswer(answer, sources, extra, qid))
        article_ids = tuple(dict.fromkeys(answer.passages[i].hit.article_id for i in sources))
        self.history.add(
            sender.chat_id, Turn(question, answer.answer if answer.answered else "", article_ids)
        )
        self.feedback.question(qid, question, answer, latency * 1000)
        text_out = render.answer_text(answer, sources, self.fmt)
        return self._messages(text_out, buttons.answer_keyboard(key, len(sources), bool(extra)))

    async def non_text(self, sender: Sender) -> list[Reply]:
        """A sticker, photo, voice note, location...: say what the bot understands."""
        refused = self.admit(sender)
        return refused if refused is not None else [Reply(wording.ONLY_TEXT)]

    async def command(self, sender: Sender, name: str, args: str = "", busy: Busy | None = None) -> list[Reply]:
        """Run /name with its argument text."""
        refused = self.admit(sender)
        if refused is not None:
            return refused
        name = _ALIASES.get(name, name)
        if name in NEEDS_INDEX and not self.ready:
            return self._not_ready(sender, name)
        try:
            return await self._command(sender, name, args, busy)
        except IndexNotFound:  # the index went away between the check and the call
            return self._not_ready(sender, name)

    async def _command(self, sender: Sender, name: str, args: str, busy: Busy | None) -> list[Reply]:
        fmt = self.fmt
        if name == "start":
            info = await asyncio.to_thread(self.engine.info)
            return self._messages(render.start_text(info, fmt))
        if name == "ayuda":
            return self._messages(render.help_text(fmt, self.is_admin(sender)))
        if name == "buscar":
            query = clean_question(args, self.settings.max_question_chars)
            if not has_words(query):
                return [Reply(wording.SEARCH_WHAT)]
            if busy:
                await busy()
            hits = await asyncio.to_thread(self.engine.search, query, None)
            return self._messages(render.hits_text(query, hits, fmt))
        if name == "fuentes":
            text, keyboard = await self._sources_page(_page_number(args))
            return self._messages(text, keyboard)
        if name == "nuevo":
            self.history.clear(sender.chat_id)
            return [Reply(wording.FRESH_START)]
        if name in wording.ADMIN_COMMANDS:
            if not self.is_admin(sender):
                return [Reply(wording.ADMIN_ONLY)]
            if name == "estado":
                info = await asyncio.to_thread(self.engine.info)
                return self._messages(render.status_text(info, self._stats_rows(), fmt))
            return [Reply(await self._reload())]
        return [Reply(wording.UNKNOWN_COMMAND.format(name=fmt.esc(render.trim(name, 40))))]

    async def press(self, sender: Sender, data: str) -> ButtonResult:
        """A button press (callback data from ``bot.buttons``): page /fuentes, or act on an answer."""
        if not self.local and self.allowlist.check(sender.user_id, sender.chat_id) != "allow":
            return ButtonResult()
        press = buttons.decode(data)
        if press is None:
            return ButtonResult()
        if press.kind == buttons.SOURCES:
            return await self._turn_page(press.arg)
        stored = self.answers.get(sender.chat_id, press.answer_id)
        if stored is None:
            return ButtonResult(notice=wording.EXPIRED)
        if press.kind in _POSTING and not self.local and self.limiter.check(sender.rate_key) != "allow":
            return ButtonResult(notice=wording.RATE_LIMITED)  # the same budget as questions
        return self._on_answer_press[press.kind](sender, stored, press)

    async def reload(self) -> bool:
        """Ask the engine to switch to a newer build (the periodic check and /recargar)."""
        return bool(await asyncio.to_thread(self.engine.reload_if_changed))

    # ------------------------------------------------------------------ buttons

    async def _turn_page(self, arg: str) -> ButtonResult:
        """◀ / ▶ under /fuentes: the pressed message now shows that page."""
        if not self.ready:
            return ButtonResult(notice=wording.NOT_READY)
        try:
            text, keyboard = await self._sources_page(_page_number(arg))
        except IndexNotFound:
            return ButtonResult(notice=wording.NOT_READY)
        return ButtonResult(edit=self._messages(text, keyboard)[0])

    def _show_passage(self, sender: Sender, stored: StoredAnswer, press: Press) -> ButtonResult:
        """Ver pasaje: one source passage, its answer highlighted, as a new message."""
        number = press.number
        if number is None:
            return ButtonResult()
        if not 0 <= number < len(stored.sources):
            return ButtonResult(notice=wording.EXPIRED)
        passage = stored.answer.passages[stored.sources[number]]
        return ButtonResult(replies=tuple(self._messages(render.passage_text(passage, self.fmt))))

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
        return ButtonResult(replies=tuple(self._messages(text, keyboard)))

    def _vote(self, sender: Sender, stored: StoredAnswer, press: Press) -> ButtonResult:
        """👍 / 👎: one vote per user and answer, logged with the question for the operator."""
        if press.arg not in buttons.VOTES:
            return ButtonResult()
        if sender.user_id in stored.voters:
            return ButtonResult(notice=wording.VOTE_AGAIN)
        stored.voters.add(sender.user_id)
        self.feedback.vote(stored.qid, press.arg)
        return ButtonResult(notice=wording.VOTE_THANKS)


    # ------------------------------------------------------------------ helpers

    def _not_ready(self, sender: Sender, name: str) -> list[Reply]:
        """What an index-reading command says while there is no index yet."""
        if name == "start":
            return self._messages(render.building_text(self.fmt))
        if name == "estado":
            if not self.is_admin(sender):
                return [Reply(wording.ADMIN_ONLY)]
            return self._messages(render.status_text(None, self._stats_rows(), self.fmt))
        return [Reply(wording.NOT_READY)]

    def _messages(self, text: str, keyboard: Keyboard = ()) -> list[Reply]:
        """Split to Telegram's limit; the buttons go under the last part."""
        parts = render.split_message(text, as_html=self.fmt.html) or ["…"]
        return [Reply(p, keyboard if i == len(parts) - 1 else ()) for i, p in enumerate(parts)]

    async def _sources_page(self, page: int) -> tuple[str, Keyboard]:
        size = self.settings.sources_page_size
        info = await asyncio.to_thread(self.engine.info)
        total = int(getattr(info, "articles", 0) or 0)
        pages = max(1, math.ceil(total / size))
        page = min(max(1, page), pages)
        articles = await asyncio.to_thread(self.engine.list_articles, (page - 1) * size, size)
        return render.sources_text(articles, page, pages, total, self.fmt), buttons.sources_keyboard(page, pages)

    async def _reload(self) -> str:
        try:
            switched = await self.reload()
        except Exception as exc:  # the engine keeps serving the old index
            log.exception("reload failed")
            return wording.RELOAD_FAILED.format(error=type(exc).__name__)
        if not switched:
            return wording.RELOAD_UNCHANGED
        info = await asyncio.to_thread(self.engine.info)
        return wording.RELOADED.format(articles=getattr(info, "articles", "?"))

    def _stats_rows(self) -> dict[str, object]:
        rows: dict[str, object] = {
            wording.STATUS_QUESTIONS: self.stats.questions,
            wording.STATUS_ANSWERED: self.stats.answered,
        }
        if not self.local:  # timings would make console transcripts differ run to run
            uptime = int(self.stats.uptime_s())
            rows[wording.STATUS_UPTIME] = wording.UPTIME.format(
                hours=uptime // 3600, minutes=uptime % 3600 // 60, seconds=uptime % 60
            )
            p50 = self.stats.p50_ms()
            rows[wording.STATUS_LATENCY] = wording.MILLISECONDS.format(ms=p50) if p50 is not None else "—"
        return rows


def _split_passages(answer: Answer) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sources: passages carrying the answer (highlighted), one per article, at most
    MAX_SOURCES, else the first one. Extra: every other passage, for "Más pasajes"."""
    if not answer.passages:
        return (), ()
    if not answer.answered:
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


def _page_number(text: str) -> int:
    """'/fuentes 3' → 3; anything else (junk, negative, huge) → 1 (then clamped to the last page)."""
    text = (text or "").strip().split(" ")[0]
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 1
