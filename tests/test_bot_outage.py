"""The bot process through Bot API outages: ``python -m bot``'s ``main()`` in a subprocess,
its engine a ``FakeEngine`` (no model, no index), talking HTTP to the fake Bot API server.

* The API is not up when the bot starts: it keeps trying (capped exponential backoff, one
  log line per failed attempt, never a traceback or the token), serves as soon as the API
  answers, and answers a question exactly once. The same in webhook mode.
* SIGTERM or SIGINT while it waits between attempts, while an attempt hangs, or while the
  engine still loads: exit code 0 within a second. A rejected token: exit code 2, one line.
* The API goes away while the bot polls and comes back: the bot survives, answers what was
  written meanwhile and afterwards exactly once; SIGTERM during such an outage still stops it
  within a second.

A subprocess because what is tested is the process: its signal handling, its exit code, and
every line it writes.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.bot import ANA, ask, sent_to, settle
from tests.support.encoder import REPO
from tests.support.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram

QUESTION = "¿Qué limita la ley de vivienda?"
ANSWER = "La norma limita la subida del alquiler"
FIRST_DELAY, MAX_DELAY = 0.2, 0.8  # the bot's backoff here (defaults: 1 s and 30 s)
STOP_WITHIN = 1.0  # seconds from the signal to the exit
POLL_RETRY_WAIT = 1.5  # python-telegram-bot's wait before polling again after a failed poll
WEBHOOK_SECRET = "s3cret-token_for-webhook"
LEAKS = (TOKEN, TOKEN.split(":", 1)[1], WEBHOOK_SECRET)

FAILED = re.compile(r"cannot reach the Bot API \((.+)\): attempt (\d+) failed, next try in ([\d.]+) s$")
CONNECTED = re.compile(rf"connected to the Bot API as @{BOT_USERNAME}(?: after (\d+) failed attempts?)?$")
SERVING = re.compile(r"serving Telegram; stop with SIGINT or SIGTERM$")
POLL_FAILED = re.compile(r"polling the Bot API failed \((.+)\): retrying")

LOADING = re.compile(r"loading the fake engine$")

# python -m bot's main(), with a FakeEngine instead of opening (or building) an index; it
# takes FAKE_ENGINE_LOAD_SECONDS to load, like a model would
LAUNCHER = """
import logging, os, sys, time
import bot.__main__ as bot_main
from tests.support.fake_engine import FakeEngine

def open_engine(settings, **kwargs):
    logging.getLogger("launcher").info("loading the fake engine")
    time.sleep(float(os.environ.get("FAKE_ENGINE_LOAD_SECONDS", "0")))
    return FakeEngine()

bot_main.open_engine = open_engine
sys.exit(bot_main.main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """The bot in a subprocess; everything it writes (stderr and stdout) is read as it comes."""

    def __init__(self, api_url: str, workdir: Path, **env: str):
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("ARTICLE_QA_", "TELEGRAM_"))}
        environment.update(
            PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url,
            ARTICLE_QA_INDEX_DIR=str(workdir / "index"), ARTICLE_QA_FEEDBACK_LOG=str(workdir / "feedback.jsonl"),
            ARTICLE_QA_RELOAD_INTERVAL_SECONDS="0", ARTICLE_QA_POLL_TIMEOUT="2",
            ARTICLE_QA_API_CONNECT_DELAY_SECONDS=str(FIRST_DELAY),
            ARTICLE_QA_API_CONNECT_MAX_DELAY_SECONDS=str(MAX_DELAY),
        )
        environment.update(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER], cwd=workdir, env=environment, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line.rstrip("\n"))

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def output(self) -> str:
        self._reader.join(timeout=5)  # all of it, once the process has ended
        return "\n".join(self.lines())

    def matches(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return [m for m in map(pattern.search, self.lines()) if m]

    async def wait_for(self, pattern: re.Pattern[str], n: int = 1, timeout: float = 10.0) -> list[re.Match[str]]:
        """Wait (without blocking the event loop) until ``n`` lines match ``pattern``."""
        deadline = time.monotonic() + timeout
        while len(found := self.matches(pattern)) < n:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"expected {n} line(s) matching {pattern.pattern!r}; output:\n" + self.output())
            await asyncio.sleep(0.02)
        return found

    def stop(self, signum: int) -> tuple[int, float]:
        """Send ``signum``; the exit code and the seconds it took to exit."""
        sent = time.monotonic()
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the bot did not exit 10 s after {signal.Signals(signum).name}")
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """start_process(api_url, **env) → the bot running in a subprocess; killed at teardown if still running."""
    started: list[BotProcess] = []

    def start(api_url: str, **env: str) -> BotProcess:
        started.append(BotProcess(api_url, tmp_path, **env))
        return started[-1]

    yield start
    for process in started:
        process.kill()


def assert_clean(output: str) -> None:
    """No traceback and no secret anywhere in what the bot wrote."""
    assert "Traceback" not in output, output
    for leak in LEAKS:
        assert leak not in output, f"secret leaked: {leak!r}"


def assert_stops_cleanly(bot: BotProcess, signum: int = signal.SIGTERM, within: float = STOP_WITHIN) -> str:
    code, took = bot.stop(signum)
    output = bot.output()
    assert code == 0, output
    assert took < within, f"took {took:.2f} s to exit after {signal.Signals(signum).name}"
    assert_clean(output)
    return output


def warnings_and_errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if " WARNING " in line or " ERROR " in line]


# ---------------------------------------------------------------- the API is not up yet


async def test_bot_keeps_trying_until_the_api_comes_up_then_answers_once(
    start_process: Callable[..., BotProcess],
) -> None:
    port = free_port()
    bot = start_process(f"http://127.0.0.1:{port}")
    await bot.wait_for(FAILED, 4)  # 0.2 + 0.4 + 0.8 s of waiting, and counting
    fake = FakeTelegram().start(port)
    try:
        await bot.wait_for(SERVING, timeout=5)
        answer = await ask(fake, QUESTION, contains=ANSWER, timeout=10)
        await settle(fake, timeout=10)
        assert sent_to(fake, ANA, ok_only=False) == [answer]
        output = assert_stops_cleanly(bot)
    finally:
        fake.stop()

    failures = [FAILED.search(line) for line in warnings_and_errors(output)]
    assert all(failures), "a warning or error other than a failed attempt:\n" + output
    attempts = len(failures)
    assert [int(m[2]) for m in failures] == list(range(1, attempts + 1))  # one line per attempt
    assert [float(m[3]) for m in failures] == pytest.approx(
        [min(MAX_DELAY, FIRST_DELAY * 2**k) for k in range(attempts)]
    )
    assert {m[1] for m in failures} == {"NetworkError: httpx.ConnectError: All connection attempts failed"}
    assert [m[1] for m in bot.matches(CONNECTED)] == [str(attempts)]
    assert len(fake.calls_of("getMe", ok_only=False)) == 1  # once up, one getMe was enough


async def test_webhook_mode_also_waits_for_the_api_and_answers_once(
    start_process: Callable[..., BotProcess],
) -> None:
    port, hook_port = free_port(), free_port()
    bot = start_process(
        f"http://127.0.0.1:{port}", ARTICLE_QA_WEBHOOK_URL="https://bot.example/hook",
        ARTICLE_QA_WEBHOOK_LISTEN="127.0.0.1", ARTICLE_QA_WEBHOOK_PORT=str(hook_port),
        ARTICLE_QA_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    await bot.wait_for(FAILED, 2)
    fake = FakeTelegram().start(port)
    try:
        await bot.wait_for(SERVING, timeout=5)
        assert fake.calls_of("setWebhook")[-1].params["url"] == "https://bot.example/hook"
        message = fake.send_text(QUESTION)  # queued for polling, which nobody does: post it instead
        status = await asyncio.to_thread(post_update, f"http://127.0.0.1:{hook_port}/hook", message)
        assert status == 200
        await fake.wait_for_message(ANA, ANSWER, timeout=10)
        await asyncio.sleep(0.3)
        assert len(sent_to(fake, ANA, ok_only=False)) == 1
        assert_stops_cleanly(bot)
    finally:
        fake.stop()
    assert not fake.calls_of("getUpdates", ok_only=False)


def post_update(url: str, message: dict) -> int:
    """Telegram posting an update to the bot's webhook."""
    body = json.dumps({"update_id": 990001, "message": message}).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"), timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


# ---------------------------------------------------------------- signals while retrying


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_while_waiting_to_retry_stops_at_once(
    start_process: Callable[..., BotProcess], signum: int
) -> None:
    bot = start_process(
        f"http://127.0.0.1:{free_port()}",
        ARTICLE_QA_API_CONNECT_DELAY_SECONDS="20", ARTICLE_QA_API_CONNECT_MAX_DELAY_SECONDS="20",
    )
    [failed] = await bot.wait_for(FAILED)
    assert failed[3] == "20"  # the bot is in a 20 s wait
    output = assert_stops_cleanly(bot, signum)
    assert len(warnings_and_errors(output)) == 1 and not bot.matches(CONNECTED)


class SilentServer:
    """Accepts connections and reads the requests, and never answers: a Bot API that hangs."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requested = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            if conn.recv(65536):
                self.requested.set()

    def close(self) -> None:
        for conn in [self.sock, *self.connections]:
            conn.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_while_an_attempt_hangs_stops_at_once(
    start_process: Callable[..., BotProcess], signum: int
) -> None:
    server = SilentServer()
    try:
        bot = start_process(f"http://127.0.0.1:{server.port}")  # getMe would time out after 10 s
        assert await asyncio.to_thread(server.requested.wait, 10), "the bot never called getMe"
        output = assert_stops_cleanly(bot, signum)
    finally:
        server.close()
    assert not warnings_and_errors(output) and not bot.matches(CONNECTED)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_while_the_engine_loads_stops_at_once(
    start_process: Callable[..., BotProcess], signum: int
) -> None:
    bot = start_process(f"http://127.0.0.1:{free_port()}", FAKE_ENGINE_LOAD_SECONDS="30")
    await bot.wait_for(LOADING)
    await asyncio.sleep(0.1)
    output = assert_stops_cleanly(bot, signum)
    assert "stopped before serving" in output and not bot.matches(FAILED)


async def test_a_rejected_token_stops_the_bot_with_one_line(
    start_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    with FakeTelegram(token="42:AnotherBotsTokenNotThisOne") as fake:
        bot = start_process(fake.url)
        code = await asyncio.to_thread(bot.proc.wait, 10)
    output = bot.output()
    assert code == 2, output
    assert_clean(output)
    assert warnings_and_errors(output) == [output.splitlines()[-1]]
    assert output.endswith("the Bot API rejected the token: check TELEGRAM_BOT_TOKEN (and TELEGRAM_API_URL)")


# ---------------------------------------------------------------- the API goes away while polling


async def test_connection_dropped_while_polling_is_survived_and_nothing_answered_twice(
    fake: FakeTelegram, start_process: Callable[..., BotProcess]
) -> None:
    bot = start_process(fake.url)
    await bot.wait_for(SERVING)
    await ask(fake, QUESTION, user_id=2001, contains=ANSWER, timeout=10)
    fake.go_offline()
    await bot.wait_for(POLL_FAILED, 2)  # the cut long poll, then a refused connection
    fake.send_text("¿Quién ganó la Liga?", user_id=2002)  # written during the outage
    fake.come_back()
    await fake.wait_for_message(2002, "Real Madrid", timeout=10)
    await ask(fake, "¿Dónde hubo lluvias torrenciales?", user_id=2003, contains="Valencia", timeout=10)
    await settle(fake, timeout=10)
    output = assert_stops_cleanly(bot)

    for user in (2001, 2002, 2003):
        assert len(sent_to(fake, user, ok_only=False)) == 1, f"user {user} did not get exactly one reply"
    problems = warnings_and_errors(output)
    assert problems and all(POLL_FAILED.search(line) for line in problems), output
    assert any("ConnectError" in line for line in problems)  # a refused connection, not only the cut poll
    assert len(bot.matches(CONNECTED)) == 1  # the process never restarted its start-up


async def test_a_signal_during_an_outage_while_polling_stops_at_once(
    fake: FakeTelegram, start_process: Callable[..., BotProcess]
) -> None:
    bot = start_process(fake.url)
    await bot.wait_for(SERVING)
    await ask(fake, QUESTION, contains=ANSWER, timeout=10)
    fake.go_offline()
    await bot.wait_for(POLL_FAILED, 2)  # python-telegram-bot now waits 1.5 s before polling again
    # Stopping at once means not sitting out that wait (it would take 1.5 s and the exit on top),
    # with more room than the usual bound for a loaded machine (1.14 s seen in CI).
    assert_stops_cleanly(bot, within=POLL_RETRY_WAIT - 0.2)
