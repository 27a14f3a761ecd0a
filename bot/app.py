"""Assemble the Telegram ``Application``: handlers, error handler, command menu, hot reload.

``build_application`` only wires things; the behaviour lives in ``bot.handlers`` and
``bot.conversation``. ``running`` starts and stops the application the way ``run_polling``
does (including ``post_init``/``post_shutdown``) for tests and embedders that own the loop.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import warnings
from typing import Any, AsyncIterator, Callable, Coroutine

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ContextTypes

from . import render
from .conversation import ADMIN_COMMANDS, COMMANDS, SORRY, Conversation, QAEngine
from .handlers import ALLOWED_UPDATES, TelegramHandlers
from .logging_setup import install_redaction
from .settings import BotSettings

log = logging.getLogger(__name__)

RELOAD_TASK = "reload_task"
CONVERSATION = "conversation"


class FloodRetry(BaseRateLimiter[None]):
    """Reacts to Telegram's 429 only: waits ``retry_after`` (if short) and tries again.

    PTB raises ``RetryAfter`` and gives up by default; a small bot rarely hits flood limits,
    so waiting is better than losing the answer.
    """

    def __init__(self, max_retries: int = 3, max_wait: float = 60.0):
        self.max_retries = max_retries
        self.max_wait = max_wait

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        for attempt in range(self.max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _retry_seconds(exc)
                if attempt == self.max_retries or wait > self.max_wait:
                    raise
                log.warning("flood control on %s: retrying in %.1f s", endpoint, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 deprecates the int form in favour of timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the user, briefly, that something failed."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SORRY)
        elif update.effective_chat is not None and update.effective_message is not None:
            await context.bot.send_message(update.effective_chat.id, SORRY)
    except TelegramError as exc:
        log.warning("could not send the apology: %s", exc)


async def register_commands(app: Application, settings: BotSettings) -> None:
    """setMyCommands: the public menu for everyone, plus the admin commands in admins' chats."""
    public = [BotCommand(name, text) for name, text in COMMANDS.items()]
    admin = public + [BotCommand(name, text) for name, text in ADMIN_COMMANDS.items()]
    try:
        await app.bot.set_my_commands(public)
    except TelegramError as exc:
        log.warning("setMyCommands failed: %s", exc)
    for admin_id in sorted(settings.admin_ids):
        try:
            await app.bot.set_my_commands(admin, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:  # e.g. the admin never opened a chat with the bot
            log.warning("setMyCommands for admin chat %s failed: %s", admin_id, exc)


async def reload_periodically(conversation: Conversation, interval: float) -> None:
    """Check for a newer index build every ``interval`` seconds (no PTB JobQueue needed)."""
    while True:
        await asyncio.sleep(interval)
        try:
            if await conversation.reload():
                log.info("switched to a newer index build")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("index reload failed; still serving the current index")


def build_application(
    settings: BotSettings, engine: QAEngine, *, conversation: Conversation | None = None
) -> Application:
    """The Telegram application for ``engine``, talking to ``settings.telegram_api_url``."""
    token = settings.token()
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    install_redaction(settings.secrets())
    conversation = conversation or Conversation(engine, settings, render.HTML)

    async def post_init(app: Application) -> None:
        await register_commands(app, settings)
        if settings.reload_interval_seconds > 0:
            app.bot_data[RELOAD_TASK] = asyncio.create_task(
                reload_periodically(conversation, settings.reload_interval_seconds)
            )

    async def post_shutdown(app: Application) -> None:
        task = app.bot_data.pop(RELOAD_TASK, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    url = settings.telegram_api_url.rstrip("/")
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(settings.max_concurrent_updates)
        .rate_limiter(FloodRetry())
        .job_queue(None)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data[CONVERSATION] = conversation
    TelegramHandlers(conversation).register(app)
    app.add_error_handler(on_error)
    return app


@contextlib.asynccontextmanager
async def running(
    app: Application, *, poll_interval: float = 0.0, timeout: float = 10.0
) -> AsyncIterator[Application]:
    """Initialize, post_init, start and poll like ``run_polling``; stop in reverse order."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=poll_interval, timeout=dtm.timedelta(seconds=timeout), allowed_updates=ALLOWED_UPDATES
        )
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
