"""Shared ways to run the real bot against the fake Bot API server (a pytest plugin).

One place builds test settings and starts/stops the Application, so every bot test starts
the bot the same way: ``serving(...)`` as a context manager, or the ``start_bot`` fixture
(stopped at teardown), each against the ``fake`` fixture's server. The helpers below
(``ask``, ``settle``, ``sent_to``, ``texts``, ``buttons``) are what the bot tests assert with.

A test module tunes them without copying them: it overrides the ``engine`` fixture (the
engine ``start_bot()`` serves when given none) or the ``bot_defaults`` fixture (settings every
``start_bot()`` call gets unless it overrides them), and passes ``timeout=`` to ``ask`` and
``settle`` (e.g. ``functools.partial(ask, timeout=30.0)`` for a slow real model).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from telegram.ext import Application

from bot.app import build_application, running
from bot.settings import BotSettings
from tests.support.fake_engine import FakeEngine
from tests.support.fake_telegram import TOKEN, Call, FakeTelegram

ANA = 1001  # the user who asks, in a private chat (the fake server's default user)
ADMIN = 4242
SENTINEL_USER = 7777  # asks /ayuda so ``settle`` knows every earlier update was handled
DEFAULT_WAIT = 5.0  # seconds; the fake server's own default wait

StartBot = Callable[..., Awaitable[Application]]


def bot_settings(fake: FakeTelegram, tmp_path: Path, **overrides: object) -> BotSettings:
    """Settings pointing at ``fake``, with files in ``tmp_path`` and no periodic reload."""
    values: dict[str, object] = dict(
        telegram_bot_token=TOKEN, telegram_api_url=fake.url, feedback_log=tmp_path / "feedback.jsonl",
        reload_interval_seconds=0, admin_ids=frozenset(), allowed_ids=frozenset(),
        rate_limit_per_minute=20, index_dir=tmp_path / "index", api_retry_delay_seconds=0.05,
    )
    values.update(overrides)
    return BotSettings(_env_file=None, **values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def serving(fake: FakeTelegram, engine: object, tmp_path: Path, **overrides: object) -> AsyncIterator[Application]:
    """The real Application long-polling ``fake`` until the block ends."""
    app = build_application(bot_settings(fake, tmp_path, **overrides), engine)  # type: ignore[arg-type]
    async with running(app, timeout=1):
        yield app


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def engine() -> FakeEngine:
    """The engine ``start_bot()`` serves when given none: a deterministic fake."""
    return FakeEngine()


@pytest.fixture
def bot_defaults() -> dict[str, object]:
    """Settings (beyond ``bot_settings``'s) for every ``start_bot()`` call of a module; override to change."""
    return {}


@pytest.fixture
async def start_bot(
    fake: FakeTelegram, tmp_path: Path, bot_defaults: dict[str, object], request: pytest.FixtureRequest
) -> AsyncIterator[StartBot]:
    """start_bot(engine=None, **settings) → a running Application polling ``fake``; stopped at teardown.

    Without ``engine`` it serves the ``engine`` fixture's. A real ``index.Engine`` (one with
    ``settings``) makes the bot's ``index_dir`` the engine's own, so /estado and reloads see it.
    """
    async with contextlib.AsyncExitStack() as stack:

        async def start(engine: object = None, **overrides: object) -> Application:
            if engine is None:
                engine = request.getfixturevalue("engine")
            values: dict[str, object] = {}
            if getattr(engine, "settings", None) is not None:
                values["index_dir"] = engine.settings.index_dir  # type: ignore[attr-defined]
            values.update(bot_defaults)
            values.update(overrides)
            return await stack.enter_async_context(serving(fake, engine, tmp_path, **values))

        yield start


def texts(calls: list[Call]) -> list[str]:
    """The text of each call (empty when it had none)."""
    return [str(c.params.get("text", "")) for c in calls]


def buttons(call: Call) -> dict[str, str]:
    """A message's inline keyboard as {label: callback data}."""
    markup = call.params.get("reply_markup") or {"inline_keyboard": []}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


def sent_to(fake: FakeTelegram, chat_id: int, ok_only: bool = True) -> list[Call]:
    """The sendMessage calls to ``chat_id`` (only those the server accepted, unless ``ok_only=False``)."""
    return [c for c in fake.calls_of("sendMessage", ok_only) if c.params.get("chat_id") == chat_id]


async def settle(fake: FakeTelegram, timeout: float = DEFAULT_WAIT) -> None:
    """Wait until every update injected so far has been handled: updates are fetched in
    order, so once a later sentinel is answered the earlier (instant) ones are done."""
    before = len(sent_to(fake, SENTINEL_USER))
    fake.send_text("/ayuda", user_id=SENTINEL_USER)
    await fake.wait_for("sendMessage", before + 1, timeout, where=lambda c: c.params.get("chat_id") == SENTINEL_USER)


async def ask(
    fake: FakeTelegram, text: str, user_id: int = ANA, contains: str = "", chat: dict | None = None,
    timeout: float = DEFAULT_WAIT,
) -> Call:
    """Send ``text`` as ``user_id`` (in ``chat``, else privately) and wait for the next reply in
    that chat containing ``contains``."""
    chat_id = chat["id"] if chat else user_id

    def match(c: Call) -> bool:
        return c.params.get("chat_id") == chat_id and contains in c.params["text"]

    before = len([c for c in fake.calls_of("sendMessage") if match(c)])
    fake.send_text(text, user_id=user_id, chat=chat)
    calls = await fake.wait_for("sendMessage", before + 1, timeout, where=match)
    return calls[-1]
