"""Assemble the Telegram ``Application``: handlers, error handler, command menu, hot reload.

``build_application`` only wires things; the behaviour lives in ``bot.handlers`` and
``bot.conversation``. ``running`` starts and stops the application the way ``run_polling``
does (including ``post_init``/``post_shutdown``) for tests and embedders that own the loop.

When the Bot API misbehaves: 429 waits ``retry_after`` (``FloodRetry``); 5xx and refused
connections are retried with a short exponential backoff, then given up with one log line
(``RetryingRequest``); a timed-out call is never repeated (it may have arrived) and gets no
apology (``on_error``); getUpdates failures are retried by PTB's own polling loop, which
resumes from the last confirmed update, so nothing is lost or handled twice. Reaching the
Bot API at start-up (getMe), and stopping on a signal, is ``bot.reconnect``'s job.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import warnings
from typing import Any, AsyncIterator, Callable, Coroutine

import httpx
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ContextTypes
from telegram.request import HTTPXRequest

from index.errors import IndexError_

from . import render
from .conversation import Conversation
from .handlers import ALLOWED_UPDATES, TelegramHandlers
from .logging_setup import install_redaction
from .qa_engine import QAEngine
from .settings import BotSettings
from .wording import ADMIN_COMMANDS, COMMANDS, SORRY

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
                wait = retry_after_seconds(exc)
                if attempt == self.max_retries or wait > self.max_wait:
                    raise
                log.warning("flood control on %s: retrying in %.1f s", endpoint, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")


RETRY_STATUSES = frozenset({500, 502, 503, 504})


class RetryingRequest(HTTPXRequest):
    """``HTTPXRequest`` that retries, with exponential backoff, the failures where retrying
    is safe and usually works: Telegram's HTTP 500/502/503/504 and refused connections (the
    request never left). After ``retries`` retries it logs one line and lets PTB raise its
    ``NetworkError`` as usual (the handler fails and ``on_error`` takes over).

    Timeouts are *not* retried: a request that timed out may have reached Telegram, and
    sending an answer twice is worse than missing one. 429 is ``FloodRetry``'s job: PTB
    turns it into ``RetryAfter`` above this layer. Only the method name is ever logged,
    never the URL (it contains the token).

    The ``single_try`` endpoints go out once: getMe is the start-up probe, which
    ``bot.reconnect`` retries with its own, longer backoff and one log line per attempt;
    retrying it here as well would turn each attempt into four calls and five log lines.
    """

    __slots__ = ("delay", "retries", "single_try")

    def __init__(
        self, *, retries: int = 3, delay: float = 0.5, single_try: frozenset[str] = frozenset({"getMe"}),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.retries = retries
        self.delay = delay
        self.single_try = single_try

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        if endpoint in self.single_try:
            return await super().do_request(url, method, *args, **kwargs)
        for attempt in range(self.retries + 1):
            try:
                code, payload = await super().do_request(url, method, *args, **kwargs)
            except TimedOut:
                raise
            except NetworkError as exc:
                if not isinstance(exc.__cause__, httpx.ConnectError):
                    raise
                if attempt == self.retries:
                    log.error("%s: connection refused %d times; giving up", endpoint, attempt + 1)
                    raise
                reason = "connection refused"
            else:
                if code not in RETRY_STATUSES:
                    return code, payload
                if attempt == self.retries:
                    log.error("%s: HTTP %s %d times; giving up", endpoint, code, attempt + 1)
                    return code, payload
                reason = f"HTTP {code}"
            wait = self.delay * 2**attempt
            log.warning("%s failed (%s): retry %d of %d in %.2f s", endpoint, reason, attempt + 1, self.retries, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whichever form PTB gives it in."""
    with warnings.catch_warnings():  # PTB 22 deprecates the int form in favour of timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the user, briefly, that something failed.

    A Bot API call that timed out gets no apology: the message may well have arrived (so
    "algo ha fallado" would be wrong), and with Telegram that slow the apology would most
    likely time out too. An error the index library raises on purpose (the database cannot
    be reached, say) already says what is wrong: one line, not a traceback per question
    for as long as it lasts.
    """
    if isinstance(context.error, TimedOut):
        log.warning("a Bot API call timed out while handling an update; no apology sent", exc_info=context.error)
        return
    if isinstance(context.error, IndexError_):
        log.error("could not answer: %s", context.error)
    else:
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
    timeout = settings.api_timeout_seconds
    timeouts = dict(read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout)
    request = RetryingRequest(
        retries=settings.api_retries, delay=settings.api_retry_delay_seconds, connection_pool_size=256, **timeouts
    )
    # getUpdates: failures are retried by PTB's polling loop (backoff up to 30 s); its read
    # timeout gets the long-poll timeout added by Bot.get_updates
    get_updates_request = HTTPXRequest(connection_pool_size=1, **timeouts)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .request(request)
        .get_updates_request(get_updates_request)
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
