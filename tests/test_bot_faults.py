"""Faults around the bot, end to end: the real PTB Application long polling the fake Bot API
server on 127.0.0.1 while the server misbehaves, a missing index at start-up, and bursts.

* Bot API faults: 429 with retry_after, 500/502 (retried with backoff, then given up),
  replies slower than the bot's timeout on sendMessage and on getUpdates, and the server
  refusing connections for ~3 s while updates queue up. The bot must keep running, answer
  each question exactly once, and never write the token to any log.
* No index yet (first start): the bot serves at once, says the index is being prepared,
  and answers once the index lands (fake engine, then ``python -m bot``'s own wiring with a
  real build over the fake encoder).
* Concurrency: a burst of updates handled concurrently still respects the rate limit and
  the allowlist.

Every test here checks that the token (plain, URL-encoded, or its secret half) never reaches
pytest's log capture, stdout/stderr, or a stderr handler like the bot's own; httpx request
logging is switched on so that URLs carrying the token really are logged (and redacted).
"""
from __future__ import annotations

import asyncio
import functools
import io
import logging
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from bot import __main__ as bot_main
from bot.app import CONVERSATION, build_application, running
from bot.conversation import Conversation, Sender
from bot.settings import BotSettings
from bot.wording import NOT_ALLOWED, NOT_READY, RATE_LIMITED, SORRY
from index.errors import IndexNotFound
from index.pg_schema import DatabaseUnavailable
from tests.support.bot import ADMIN, ANA, SENTINEL_USER, ask, bot_settings, sent_to, settle, texts
from tests.support.bot import serving as shared_serving
from tests.support.encoder import SAMPLE, FakeEncoder
from tests.support.fake_engine import FakeEngine
from tests.support.fake_telegram import TOKEN, FakeTelegram

STRANGER = 555
QUESTION = "¿Qué limita la ley de vivienda?"
ANSWER = "La norma limita la subida del alquiler"
LEAKS = (TOKEN, urllib.parse.quote(TOKEN, safe=""), TOKEN.split(":", 1)[1])


# ---------------------------------------------------------------- fixtures and helpers


@dataclass
class LogCapture:
    """Everything the test run logged or printed, and the check that the token is in none of it."""

    caplog: pytest.LogCaptureFixture
    capfd: pytest.CaptureFixture[str]
    stream: io.StringIO  # a handler like the bot's own (configure_logging → stderr)
    seen: list[str] = field(default_factory=list)

    def text(self) -> str:
        """All log text so far: caplog's, the bot-style handler's, and stdout/stderr (fd level)."""
        out, err = self.capfd.readouterr()
        self.seen += [out, err]
        records = []
        for record in self.caplog.records:
            records += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
        return "\n".join([self.caplog.text, self.stream.getvalue(), *self.seen, *records])

    def assert_no_token(self) -> str:
        text = self.text()
        for leak in LEAKS:
            assert leak not in text, f"token leaked: {leak!r}"
        assert "[TOKEN]" in text  # httpx logged the request URLs, and they were redacted
        return text


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[LogCapture]:
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    handlers = [logging.StreamHandler(stream), logging.StreamHandler(sys.__stderr__)]  # memory + fd 2
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.INFO)  # log every request URL (the token is in it)
    capture = LogCapture(caplog, capfd, stream)
    try:
        yield capture
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        httpx_logger.setLevel(level)
    capture.assert_no_token()  # whatever was logged after the test's own check, too


# The shared bot (running until the block ends, inside the test, so its shutdown logs are
# checked too), with an admin.
serving = functools.partial(shared_serving, admin_ids=frozenset({ADMIN}))


# ---------------------------------------------------------------- Bot API faults


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter
async def test_flood_control_waits_retry_after_and_answers_once(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture
) -> None:
    async with serving(fake, engine, tmp_path):
        fake.fail_next("sendMessage", status=429, retry_after=1)
        await ask(fake, QUESTION, contains=ANSWER)
        await settle(fake)
    attempts = sent_to(fake, ANA, ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.95  # retry_after=1 was honoured
    assert texts(attempts)[0] == texts(attempts)[1]  # the same answer, delivered once
    assert len(engine.asks) == 1
    assert "flood control on sendMessage: retrying in 1.0 s" in logs.assert_no_token()


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_retried_with_backoff(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture, status: int
) -> None:
    async with serving(fake, engine, tmp_path, api_retries=3, api_retry_delay_seconds=0.2):
        fake.fail_next("sendMessage", times=2, status=status)
        await ask(fake, QUESTION, contains=ANSWER)
        await settle(fake)
    attempts = sent_to(fake, ANA, ok_only=False)
    assert [c.status for c in attempts] == [status, status, 200]
    first, second = attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at
    assert 0.19 <= first < 1.0 and 0.39 <= second < 1.5  # 0.2 s, then doubled
    assert len({c.params["text"] for c in attempts}) == 1 and SORRY not in texts(attempts)
    text = logs.assert_no_token()
    assert f"sendMessage failed (HTTP {status}): retry 1 of 3 in 0.20 s" in text
    assert f"sendMessage failed (HTTP {status}): retry 2 of 3 in 0.40 s" in text
    assert "error while handling an update" not in text


async def test_persistent_server_errors_give_up_and_the_bot_carries_on(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture
) -> None:
    async with serving(fake, engine, tmp_path, api_retries=2) as app:
        fake.fail_next("sendMessage", times=3, status=502)
        fake.send_text(QUESTION)
        await fake.wait_for_message(ANA, SORRY)  # 1 + 2 retries failed: the apology (4th call) arrived
        answer = await ask(fake, "¿Quién ganó la Liga?", contains="Real Madrid")  # and the bot keeps working
        assert app.running and app.updater is not None and app.updater.running
    attempts = sent_to(fake, ANA, ok_only=False)
    assert [c.status for c in attempts] == [502, 502, 502, 200, 200]
    assert texts(attempts)[3] == SORRY and attempts[4] is answer
    text = logs.assert_no_token()
    assert text.count("sendMessage: HTTP 502 3 times; giving up") >= 1
    assert "error while handling an update" in text and "NetworkError: Bad Gateway" in text  # traceback logged


async def test_an_index_error_is_one_log_line_and_the_apology(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture
) -> None:
    """The library's own error (here the database being down) says what is wrong: the user
    gets the apology, the operator one line, not a traceback per question."""
    engine.fail_with = DatabaseUnavailable("no database connection: couldn't get a connection after 2.00 sec")
    async with serving(fake, engine, tmp_path):
        await ask(fake, QUESTION, contains=SORRY)
        await settle(fake)
    text = logs.assert_no_token()
    assert "could not answer: no database connection: couldn't get a connection after 2.00 sec" in text
    assert "Traceback" not in text and "error while handling an update" not in text


async def test_slow_send_message_times_out_without_duplicates(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture
) -> None:
    async with serving(fake, engine, tmp_path, api_timeout_seconds=0.5):
        fake.delay_next("sendMessage", 1.5)
        started = time.monotonic()
        slow = await ask(fake, QUESTION, contains=ANSWER)  # Telegram takes it late; the bot gave up at 0.5 s
        assert slow.delayed == 1.5 and time.monotonic() - started >= 1.5
        later = await ask(fake, "¿Quién ganó la Liga?", contains="Real Madrid")
        await settle(fake)
    assert sent_to(fake, ANA, ok_only=False) == [slow, later]  # not resent, no apology
    assert len(engine.asks) == 2
    text = logs.assert_no_token()
    assert "a Bot API call timed out while handling an update; no apology sent" in text


async def test_slow_get_updates_times_out_and_polling_resumes(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture
) -> None:
    # getUpdates may take api_timeout (0.5 s) + the long-poll timeout (1 s) before the bot gives up
    async with serving(fake, engine, tmp_path, api_timeout_seconds=0.5) as app:
        await ask(fake, "¿Quién ganó la Liga?", contains="Real Madrid")
        fake.delay_next("getUpdates", 3.0)
        await fake.wait_until(lambda: fake.delays_started.get("getupdates", 0) == 1, what="a stuck long poll")
        sent = time.monotonic()
        answer = await ask(fake, QUESTION, contains=ANSWER)
        assert time.monotonic() - sent < 2.8  # a new poll got it; the stuck one was abandoned
        await fake.wait_until(
            lambda: any(c.delayed for c in fake.calls_of("getUpdates", ok_only=False)), what="the stale reply"
        )
        await settle(fake)
        assert app.updater is not None and app.updater.running
    assert sent_to(fake, ANA) == sent_to(fake, ANA, ok_only=False)
    assert [c for c in sent_to(fake, ANA) if ANSWER in c.params["text"]] == [answer]
    assert [a.question for a in engine.asks] == ["¿Quién ganó la Liga?", QUESTION]
    logs.assert_no_token()


async def test_connection_refused_while_polling_loses_and_repeats_nothing(
    fake: FakeTelegram, engine: FakeEngine, tmp_path: Path, logs: LogCapture
) -> None:
    users = {2001: QUESTION, 2002: "¿Quién ganó la Liga?", 2003: "¿Dónde hubo lluvias torrenciales?"}
    async with serving(fake, engine, tmp_path) as app:
        await ask(fake, "¿Qué pasó con la inflación?")
        await settle(fake)
        url = fake.url
        fake.go_offline()
        for user, question in users.items():  # written while the bot cannot reach Telegram
            fake.send_text(question, user_id=user)
        await asyncio.sleep(3.0)
        fake.come_back()
        assert fake.url == url
        for user in users:
            await fake.wait_for("sendMessage", 1, timeout=8.0, where=lambda c, u=user: c.params["chat_id"] == u)
        await settle(fake)
        assert app.updater is not None and app.updater.running
    for user in users:
        assert len(sent_to(fake, user, ok_only=False)) == 1, f"user {user} did not get exactly one reply"
    assert sorted(a.question for a in engine.asks) == sorted(["¿Qué pasó con la inflación?", *users.values()])
    text = logs.assert_no_token()
    assert "Exception happened while polling for updates" in text  # PTB's retry loop saw the outage
    assert "ConnectError" in text  # ... including refused connections, not only the cut long poll


# ---------------------------------------------------------------- no index yet


class NotReadyEngine(FakeEngine):
    """An engine opened before its index exists, like ``index.Engine(settings, encoder)``:
    ``ready`` is False and every index query raises IndexNotFound until the periodic
    ``reload_if_changed`` finds the build (``land()`` makes it appear)."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = False
        self.landed = threading.Event()

    def land(self) -> None:
        self.landed.set()

    def reload_if_changed(self) -> bool:
        super().reload_if_changed()
        if self.ready or not self.landed.is_set():
            return False
        self.ready = True
        return True

    def _check(self) -> None:
        if not self.ready:
            raise IndexNotFound("no index loaded from /tmp/index yet")

    def ask(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        self._check()
        return super().ask(*args, **kwargs)

    def search(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        self._check()
        return super().search(*args, **kwargs)

    def info(self):  # noqa: ANN201
        self._check()
        return super().info()

    def list_articles(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        self._check()
        return super().list_articles(*args, **kwargs)


async def test_index_being_built_gets_polite_replies_then_answers(
    fake: FakeTelegram, tmp_path: Path, logs: LogCapture
) -> None:
    engine = NotReadyEngine()
    async with serving(fake, engine, tmp_path, reload_interval_seconds=0.05) as app:
        start = await ask(fake, "/start")
        assert "todavía estoy preparando el índice" in start.params["text"]
        assert "Cuando esté listo, escríbeme una pregunta" in start.params["text"]
        assert (await ask(fake, QUESTION)).params["text"] == NOT_READY
        assert (await ask(fake, "/buscar inflación")).params["text"] == NOT_READY
        assert (await ask(fake, "/fuentes")).params["text"] == NOT_READY
        assert "Índice: todavía en preparación" in (await ask(fake, "/estado", user_id=ADMIN)).params["text"]
        assert (await ask(fake, "/ayuda")).params["text"].startswith("Pregúntame")  # no index needed
        assert engine.asks == [] and not app.bot_data[CONVERSATION].ready

        engine.land()  # the background build finished; the periodic reload picks it up
        await fake.wait_until(lambda: app.bot_data[CONVERSATION].ready, what="the reload")
        await ask(fake, QUESTION, contains=ANSWER)
        assert "14 artículos" in (await ask(fake, "/start")).params["text"]
    calls = fake.calls_of("sendMessage", ok_only=False)
    assert all(c.ok for c in calls) and SORRY not in texts(calls)
    text = logs.assert_no_token()
    assert "Traceback" not in text and not [r for r in logs.caplog.records if r.levelno >= logging.ERROR]


async def test_index_lost_between_check_and_query_is_not_an_error(tmp_path: Path) -> None:
    """The engine says ready but the query finds no index (a race): same polite answer."""

    class Racy(NotReadyEngine):
        def _check(self) -> None:
            raise IndexNotFound("no index loaded yet")

    engine = Racy()
    engine.ready = True
    settings = BotSettings(_env_file=None, feedback_log=None, admin_ids=frozenset({1}))  # type: ignore[call-arg]
    conversation = Conversation(engine, settings)
    who = Sender(1, 1)
    assert [r.text for r in await conversation.question(who, QUESTION)] == [NOT_READY]
    assert [r.text for r in await conversation.command(who, "buscar", "inflación")] == [NOT_READY]
    assert [r.text for r in await conversation.command(who, "fuentes")] == [NOT_READY]
    assert "preparando el índice" in (await conversation.command(who, "start"))[0].text
    assert "todavía en preparación" in (await conversation.command(who, "estado"))[0].text
    assert (await conversation.press(who, "f:2")).notice == NOT_READY
    assert len(engine.asks) == 0 and conversation.stats.questions == 0


async def test_python_m_bot_starts_without_an_index_and_builds_it(
    fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
) -> None:
    """``open_engine(..., build_in_background=True)`` (what ``python -m bot`` uses for Telegram)
    returns at once with an engine that is not ready, builds in a thread, then serves."""
    import index
    import index.engine

    monkeypatch.setattr(index, "Encoder", lambda settings: FakeEncoder())  # no model download
    monkeypatch.setattr(index.engine, "Encoder", lambda settings: FakeEncoder())
    gate = threading.Event()
    real_build = index.build_index

    def gated_build(settings, **kwargs):  # noqa: ANN001, ANN003, ANN202
        assert gate.wait(10), "test never released the build"
        return real_build(settings, **kwargs)

    monkeypatch.setattr(index, "build_index", gated_build)
    settings = bot_settings(
        fake, tmp_path, model=FakeEncoder.name, index_dir=tmp_path / "index", articles_dir=SAMPLE, threads=1
    )
    started = time.monotonic()
    engine = bot_main.open_engine(settings, build_in_background=True)
    assert time.monotonic() - started < 2 and not engine.ready
    assert [t for t in threading.enumerate() if t.name == "index-build"]

    app = build_application(settings, engine)
    logging.getLogger("httpx").setLevel(logging.INFO)
    async with running(app, timeout=1):
        assert "preparando el índice" in (await ask(fake, "/start")).params["text"]
        assert (await ask(fake, "¿Adónde viaja Putin?")).params["text"] == NOT_READY
        gate.set()
        await fake.wait_until(lambda: engine.ready, timeout=10, what="the background build")
        reply = await ask(fake, "¿Adónde viaja Putin?")
        assert reply.params["text"] not in (NOT_READY, SORRY)
        start = (await ask(fake, "/start")).params["text"]
        assert start.startswith("Hola. Respondo preguntas sobre") and "preparando" not in start
    assert all(c.ok for c in fake.calls_of("sendMessage", ok_only=False))
    assert "index built:" in logs.assert_no_token()


# ---------------------------------------------------------------- concurrency


class SlowEngine(FakeEngine):
    """Takes a moment per question and records how many questions ran at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.max_in_flight = 0

    def ask(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(0.2)
            return super().ask(*args, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1


async def test_burst_keeps_rate_limit_and_allowlist(fake: FakeTelegram, tmp_path: Path, logs: LogCapture) -> None:
    engine = SlowEngine()
    async with serving(fake, engine, tmp_path, rate_limit_per_minute=5,
                       allowed_ids=frozenset({ANA, SENTINEL_USER})):
        with fake.burst():  # one getUpdates batch: handled concurrently (max_concurrent_updates)
            for i in range(20):
                fake.send_text(f"{QUESTION} {i}")
                fake.send_text(f"{QUESTION} {i}", user_id=STRANGER)
        await fake.wait_for("sendMessage", 6, where=lambda c: c.params["chat_id"] == ANA)
        await settle(fake)
    replies = texts(sent_to(fake, ANA, ok_only=False))
    assert len(replies) == 6 and replies.count(RATE_LIMITED) == 1
    assert sum(ANSWER in r for r in replies) == 5
    assert texts(sent_to(fake, STRANGER, ok_only=False)) == [NOT_ALLOWED]
    assert len(engine.asks) == 5 and engine.max_in_flight >= 2  # they really overlapped
    logs.assert_no_token()
