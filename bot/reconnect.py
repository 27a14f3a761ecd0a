"""Keep the Telegram bot running through network and Bot API outages; stop it at once on a signal.

Why not ``Application.run_polling``: by default it gives up on start-up when getMe fails
(three quick tries, then a traceback and exit 1), so a network blip while the machine boots
stops the bot for good; with ``bootstrap_retries=-1`` it retries silently. And its shutdown
waits for PTB's polling loop, which sleeps up to 30 s between failed polls, so SIGTERM during
an outage could take that long. ``run`` owns the same lifecycle, in the same order:

1. connect: ``Application.initialize`` (its getMe is the probe) until the API answers,
   waiting ``Backoff.delay`` between attempts (1 s, doubling, at most 30 s by default), one
   log line per failed attempt; a rejected token stops the bot (exit code 2);
2. ``post_init``, start the updater (long polling or the webhook server; PTB's bootstrap
   calls, deleteWebhook or setWebhook, are retried by PTB), start the application;
3. serve until SIGINT or SIGTERM. A connection lost while polling is PTB's to retry: its
   loop calls getUpdates again (1 s, then 1.5 times longer, at most 30 s) from the last
   confirmed update, so nothing is lost or handled twice; ``polling_failed`` writes one line
   per failure instead of PTB's traceback;
4. stop as ``run_polling`` does, but for at most ``STOP_GRACE_SECONDS``: whatever still waits
   on an unreachable API after that is abandoned, so the process exits 0 within a second.

Every step waits on the same ``stop`` event, set by the signal handlers, so a signal ends
an attempt in flight, a wait between attempts, or the start-up, as promptly as serving.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any
from urllib.parse import urlparse

from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from .app import retry_after_seconds
from .handlers import ALLOWED_UPDATES
from .settings import BotSettings

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE_SECONDS = 0.3  # a clean stop takes milliseconds; only an unreachable API takes longer
EXIT_STOPPED = 0
EXIT_TOKEN_REJECTED = 2  # waiting will not fix it: the operator must

StartUpdates = Callable[[Application], Awaitable[object]]


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: ``first`` after one failure, doubling, never over ``cap``."""

    first: float
    cap: float

    @classmethod
    def from_settings(cls, settings: BotSettings) -> Backoff:
        return cls(settings.api_connect_delay_seconds, settings.api_connect_max_delay_seconds)

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts in a row (1, 2, …)."""
        return min(self.cap, self.first * 2.0 ** min(max(failures - 1, 0), 64))


def describe(exc: BaseException) -> str:
    """What failed, on one line: ``NetworkError: httpx.ConnectError: All connection attempts failed``."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def seconds(value: float) -> str:
    return f"{value:.3g}"


# ------------------------------------------------------------------ waiting on the stop event


async def stopped_within(stop: asyncio.Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds; True as soon as ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def cancel(task: asyncio.Future[Any], within: float = 0.3) -> None:
    """Cancel ``task`` and wait for it, cancelling again while it resists, for at most
    ``within`` seconds. Why again: PTB's ``Updater.stop`` swallows the CancelledError that
    interrupts its wait for the polling loop, then makes one more getUpdates call."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not task.done() and loop.time() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.05)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved: asyncio would otherwise log it at exit


async def unless_stopped(work: Coroutine[Any, Any, object], stop: asyncio.Event) -> bool:
    """Run ``work`` until it ends (True; its exception is raised) or ``stop`` is set first
    (False; ``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task.done():
        task.result()
        return True
    await cancel(task)
    return False


# ------------------------------------------------------------------ the lifecycle


async def connect(app: Application, backoff: Backoff, stop: asyncio.Event) -> bool:
    """``app.initialize()`` until the Bot API answers (True) or ``stop`` is set (False).

    Any Telegram error but a rejected token is worth another try (refused or cut connection,
    timeout, 5xx from a proxy, 429); ``InvalidToken`` is raised, as waiting will not fix it.
    """
    failures = 0
    while not stop.is_set():
        try:
            if not await unless_stopped(app.initialize(), stop):
                return False
        except InvalidToken:
            raise
        except TelegramError as exc:
            failures += 1
            wait = backoff.delay(failures)
            if isinstance(exc, RetryAfter):
                wait = max(wait, retry_after_seconds(exc))
            log.warning(
                "cannot reach the Bot API (%s): attempt %d failed, next try in %s s",
                describe(exc), failures, seconds(wait),
            )
            if await stopped_within(stop, wait):
                return False
        else:
            after = f" after {failures} failed attempt{'s' if failures != 1 else ''}" if failures else ""
            log.info("connected to the Bot API as @%s%s", app.bot.username, after)
            return True
    return False


async def start(app: Application, start_updates: StartUpdates) -> None:
    """What ``run_polling`` does once the application is initialized, in its order."""
    if app.post_init:
        await app.post_init(app)
    await start_updates(app)
    await app.start()


async def shut_down(app: Application) -> None:
    """What ``run_polling`` does on the way out, in its order, for whatever was started."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)


async def shut_down_within(app: Application, grace: float) -> None:
    """``shut_down``, abandoned after ``grace`` seconds (an unreachable Bot API: the last
    getUpdates, which confirms the updates fetched, cannot get through)."""
    task = asyncio.ensure_future(shut_down(app))
    done, _ = await asyncio.wait({task}, timeout=grace)
    if done:
        task.result()
        return
    log.warning(
        "stopping took over %s s (the Bot API is unreachable or a reply is still on its way): "
        "stopped without waiting; updates not confirmed to Telegram come again at the next start",
        seconds(grace),
    )
    await cancel(task)


async def serve(app: Application, start_updates: StartUpdates, backoff: Backoff, stop: asyncio.Event) -> None:
    """Connect, start and serve ``app`` until ``stop`` is set; then stop it (see the module)."""
    try:
        if await connect(app, backoff, stop) and await unless_stopped(start(app, start_updates), stop):
            log.info("serving Telegram; stop with SIGINT or SIGTERM")
            await stop.wait()
    finally:
        await shut_down_within(app, STOP_GRACE_SECONDS)


async def serve_until_signalled(app: Application, start_updates: StartUpdates, backoff: Backoff) -> None:
    """``serve``, with SIGINT and SIGTERM setting its stop event (kept until the very end,
    so a second signal while stopping changes nothing)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if not stop.is_set():
            log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    await serve(app, start_updates, backoff, stop)


def run(app: Application, start_updates: StartUpdates, backoff: Backoff) -> int:
    """Serve until SIGINT or SIGTERM (exit code 0), or until the Bot API rejects the token (2)."""
    try:
        asyncio.run(serve_until_signalled(app, start_updates, backoff))
    except InvalidToken:  # its message holds the token: never log it
        log.error("the Bot API rejected the token: check TELEGRAM_BOT_TOKEN (and TELEGRAM_API_URL)")
        return EXIT_TOKEN_REJECTED
    return EXIT_STOPPED


# ------------------------------------------------------------------ how updates arrive


def polling_failed(exc: TelegramError) -> None:
    """PTB's ``error_callback`` for a failed getUpdates: one line. PTB's default logs a
    traceback for what is an expected event, and ``run_polling``'s hands it to the update
    error handler; PTB itself waits and polls again."""
    log.warning("polling the Bot API failed (%s): retrying, after 1 s growing to 30 s at most", describe(exc))


def updates_starter(settings: BotSettings) -> StartUpdates:
    """Long polling, or the webhook server when ``settings.webhook_url`` is set. PTB retries
    its bootstrap call (deleteWebhook or setWebhook) for as long as it takes: the API has
    just answered getMe, so a failure here is a blip."""

    async def poll(app: Application) -> None:
        assert app.updater is not None
        await app.updater.start_polling(
            timeout=dtm.timedelta(seconds=settings.poll_timeout), allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1, error_callback=polling_failed,
        )

    async def listen(app: Application) -> None:
        assert app.updater is not None and settings.webhook_url
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        await app.updater.start_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"), webhook_url=settings.webhook_url,
            secret_token=secret, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1,
        )

    return listen if settings.webhook_url else poll


# ------------------------------------------------------------------ signals and logs outside the loop


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block, as SIGINT does, so a signal while
    the engine loads, before the event loop's own handlers exist, also stops the bot cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class OneLineNetworkErrors(logging.Filter):
    """Writes a record that carries a Bot API network failure as one line: its message, then
    the exception's type and text, without the traceback.

    Why: a network failure is an expected event, not a bug, and python-telegram-bot logs some
    with a traceback (its last getUpdates while stopping during an outage, say), burying the
    line that matters. Other exceptions keep their traceback. ``redact`` is applied to the
    line, as the exception's text is added after the token-redacting filter has run.
    """

    def __init__(self, redact: Callable[[str], str]):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, NetworkError):
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001  a broken format string: keep what we can
                message = str(record.msg)
            record.msg, record.args = self.redact(f"{message} ({describe(exc)})"), None
            record.exc_info, record.exc_text = None, None
        return True


def network_errors_on_one_line(redact: Callable[[str], str]) -> OneLineNetworkErrors:
    """Attach ``OneLineNetworkErrors`` to every root handler (``python -m bot``'s stderr)."""
    one_line = OneLineNetworkErrors(redact)
    for handler in logging.getLogger().handlers:
        handler.addFilter(one_line)
    return one_line
