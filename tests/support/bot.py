"""Shared ways to run the real bot against the fake Bot API server (a pytest plugin).

One place builds test settings and starts/stops the Application, so every bot test starts
the bot the same way: ``serving(...)`` as a context manager, or the ``fake`` fixture.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from telegram.ext import Application

from bot.app import build_application, running
from bot.settings import BotSettings
from tests.support.fake_telegram import TOKEN, FakeTelegram


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
