"""The slash commands: /start, /ayuda, /buscar, /fuentes, /ultimas, /nuevo and, for admins,
/estado and /recargar.

Why apart from ``bot.conversation``: the conversation decides whether a message gets in and
what it is (a question, a command, a button); this module carries out a command once it is
one, with one small method per command found by name in a table. The /fuentes and /ultimas
page buttons reuse ``sources_page`` and ``latest_page``.
"""
from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Awaitable, Callable

from index.errors import IndexNotFound

from . import buttons, render, wording
from .cleaning import clean_question, has_words
from .qa_engine import QAEngine, engine_ready
from .render import Format, Reply
from .settings import BotSettings
from .state import History, Stats

__all__ = ["ALIASES", "NEEDS_INDEX", "Busy", "Call", "Commands", "parse_command"]

log = logging.getLogger(__name__)

Busy = Callable[[], Awaitable[None]]

ALIASES = {"help": "ayuda", "new": "nuevo", "sources": "fuentes", "search": "buscar", "latest": "ultimas",
           "últimas": "ultimas"}
NEEDS_INDEX = frozenset({"start", "buscar", "fuentes", "ultimas", "estado"})  # commands that read the index


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


@dataclass(frozen=True)
class Call:
    """One command call: the chat it came from, whether its sender is an admin, its argument
    text, and what shows "typing…" before slow work (None: nothing to show)."""

    chat_id: int
    admin: bool
    args: str = ""
    busy: Busy | None = None


class Commands:
    """Runs the commands of one bot. ``local`` (the console) leaves timings out of /estado so
    that console transcripts are reproducible."""

    def __init__(
        self, engine: QAEngine, settings: BotSettings, fmt: Format, history: History, stats: Stats, local: bool
    ):
        self.engine = engine
        self.settings = settings
        self.fmt = fmt
        self.history = history
        self.stats = stats
        self.local = local
        self._table: dict[str, Callable[[Call], Awaitable[list[Reply]]]] = {
            "start": self._start,
            "ayuda": self._help,
            "buscar": self._search,
            "fuentes": self._sources,
            "ultimas": self._latest,
            "nuevo": self._forget,
            "estado": self._status,
            "recargar": self._reload,
        }

    async def run(self, name: str, call: Call) -> list[Reply]:
        """Run /name; while there is no index, the commands that read it say so instead."""
        name = ALIASES.get(name, name)
        if name in NEEDS_INDEX and not engine_ready(self.engine):
            return self._not_ready(name, call)
        try:
            return await self._run(name, call)
        except IndexNotFound:  # the index went away between the check and the call
            return self._not_ready(name, call)

    async def reload(self) -> bool:
        """Ask the engine to switch to a newer build (the periodic check and /recargar)."""
        return bool(await asyncio.to_thread(self.engine.reload_if_changed))

    async def sources_page(self, arg: str) -> list[Reply]:
        """/fuentes page ``arg`` (clamped to the pages there are) with its ◀ / ▶ buttons."""
        size = self.settings.sources_page_size
        info = await asyncio.to_thread(self.engine.info)
        stories = getattr(info, "stories", None)  # a story in several outlets is listed once
        total = int((stories if stories is not None else getattr(info, "articles", 0)) or 0)
        pages = max(1, math.ceil(total / size))
        page = min(max(1, _page_number(arg)), pages)
        articles = await asyncio.to_thread(self.engine.list_articles, (page - 1) * size, size)
        text = render.sources_text(articles, page, pages, total, self.fmt)
        return render.replies(text, self.fmt, buttons.sources_keyboard(page, pages))

    async def latest_page(self, topic: str, page: int = 1) -> list[Reply]:
        """/ultimas page ``page`` (clamped) of the newest articles, about ``topic`` if any, with ◀ / ▶."""
        topic = buttons.fit_topic(clean_question(topic, self.settings.max_question_chars))
        found = await asyncio.to_thread(self.engine.latest, topic, page, self.settings.sources_page_size)
        text = render.latest_text(found, self.fmt)
        return render.replies(text, self.fmt, buttons.latest_keyboard(found.page, found.pages, topic))

    async def _run(self, name: str, call: Call) -> list[Reply]:
        """The command's method from the table; admin commands only for admins."""
        if name in wording.ADMIN_COMMANDS and not call.admin:
            return [Reply(wording.ADMIN_ONLY)]
        command = self._table.get(name)
        if command is None:
            return [Reply(wording.UNKNOWN_COMMAND.format(name=self.fmt.esc(render.trim(name, 40))))]
        return await command(call)

    def _not_ready(self, name: str, call: Call) -> list[Reply]:
        """What an index-reading command says while there is no index yet."""
        if name == "start":
            return render.replies(render.building_text(self.fmt), self.fmt)
        if name == "estado":
            if not call.admin:
                return [Reply(wording.ADMIN_ONLY)]
            return render.replies(render.status_text(None, self._stats_rows(), self.fmt), self.fmt)
        return [Reply(wording.NOT_READY)]

    # ------------------------------------------------------------------ one method per command

    async def _start(self, call: Call) -> list[Reply]:
        """/start: how many articles, from when to when, and how to ask."""
        info = await asyncio.to_thread(self.engine.info)
        return render.replies(render.start_text(info, self.fmt), self.fmt)

    async def _help(self, call: Call) -> list[Reply]:
        """/ayuda: the commands this sender may use."""
        return render.replies(render.help_text(self.fmt, call.admin), self.fmt)

    async def _search(self, call: Call) -> list[Reply]:
        """/buscar texto: the matching passages, without an extracted answer."""
        query = clean_question(call.args, self.settings.max_question_chars)
        if not has_words(query):
            return [Reply(wording.SEARCH_WHAT)]
        if call.busy:
            await call.busy()
        hits = await asyncio.to_thread(self.engine.search, query, None)
        return render.replies(render.hits_text(query, hits, self.fmt), self.fmt)

    async def _sources(self, call: Call) -> list[Reply]:
        """/fuentes [página]: the indexed articles, newest first."""
        return await self.sources_page(call.args)

    async def _latest(self, call: Call) -> list[Reply]:
        """/ultimas [tema]: the newest articles, about the topic if one is given."""
        if call.busy and call.args.strip():
            await call.busy()
        return await self.latest_page(call.args)

    async def _forget(self, call: Call) -> list[Reply]:
        """/nuevo: the next question follows nothing said before."""
        self.history.clear(call.chat_id)
        return [Reply(wording.FRESH_START)]

    async def _status(self, call: Call) -> list[Reply]:
        """/estado (admins): the index's facts and the bot's counters."""
        info = await asyncio.to_thread(self.engine.info)
        return render.replies(render.status_text(info, self._stats_rows(), self.fmt), self.fmt)

    async def _reload(self, call: Call) -> list[Reply]:
        """/recargar (admins): switch to a newer build if there is one, and say what happened."""
        try:
            switched = await self.reload()
        except Exception as exc:  # the engine keeps serving the old index
            log.exception("reload failed")
            return [Reply(wording.RELOAD_FAILED.format(error=type(exc).__name__))]
        if not switched:
            return [Reply(wording.RELOAD_UNCHANGED)]
        info = await asyncio.to_thread(self.engine.info)
        return [Reply(wording.RELOADED.format(articles=getattr(info, "articles", "?")))]

    def _stats_rows(self) -> dict[str, object]:
        """The bot's own counters for /estado."""
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


def _page_number(text: str) -> int:
    """'/fuentes 3' → 3; anything else (junk, negative, huge) → 1 (then clamped to the last page)."""
    text = (text or "").strip().split(" ")[0]
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 1
