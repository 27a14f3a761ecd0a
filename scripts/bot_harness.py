"""Shared helpers for the bot benchmarks: the real bot, in-process, against the fake Bot API.

``RecordingTelegram`` is the test suite's ``FakeTelegram`` (tests/support/fake_telegram.py) plus
what a benchmark needs and a test does not: a timestamp and a kind (answer, refusal, error
reply) for every successful sendMessage per chat, a way for a simulated user to await "my next
reply" without polling the call list, and bounded call/message logs so a long soak measures the
bot's memory, not the fake's. The bot runs in this process (``running_bot``, long polling), or
as separate ``python -m bot`` processes in webhook mode (``start_bot_processes``) behind a
``WebhookBalancer`` that posts each user's updates to one of them, as a load balancer would.
``users_until``, ``settle`` and ``check_replies`` are the simulated users and the
exactly-one-reply check both set-ups share.

Everything talks to 127.0.0.1 only.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_common import machine as common_machine  # noqa: E402
from bot.app import build_application, running  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from bot.wording import NOT_FOUND, SORRY  # noqa: E402
from index import store  # noqa: E402
from index.settings import Settings  # noqa: E402
from tests.support.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

SAMPLE_ARTICLES = ROOT / "data" / "articles"
SAMPLE_INDEX = ROOT / "var" / "bench" / "sample-index"

log = logging.getLogger("bench_bot")

# Questions whose answers are known (tests/test_integration.py) plus a few off-topic ones,
# so the mix has answers, follow-ups and refusals.
FIXED_QUESTIONS = (
    "¿Qué acusa EE. UU.?",
    "¿Qué recibe Pionyang a cambio?",
    "¿Y qué recibe a cambio?",
    "que acusan los estadounidenses a corea del norte",
    "¿Cuándo fue el último viaje de Putin a Corea del Norte?",
    "¿Qué palabra estudia incluir la RAE en el Diccionario?",
    "¿Por qué Messi no juega el amistoso contra España?",
    "¿Cómo es la picadura de la carabela portuguesa?",
    "¿Qué pide Dimas Gimeno en El Corte Inglés?",
    "¿Es verdad que la vacuna del coronavirus esteriliza a las mujeres?",
    "¿Quién ganó el mundial de 1930?",
    "¿Cuál es la receta de la paella valenciana?",
)
TEMPLATES = (
    "¿Qué se sabe de {t}?",
    "Cuéntame más sobre {t}",
    "¿Qué dice la noticia «{t}»?",
)


# --------------------------------------------------------------------------- machine



def machine() -> dict[str, Any]:
    return common_machine(("python-telegram-bot", "httpx", "torch", "sentence-transformers", "faiss-cpu", "numpy"))


def machine_text(m: dict[str, Any]) -> str:
    v = m["versions"]
    return (
        f"Machine: nproc {m['nproc']}, {m['cpu_model']}, {m['ram_gib']} GiB RAM, "
        f"load average at start {'/'.join(str(x) for x in m['load_average_at_start'])}\n"
        f"Python {v['python']}, python-telegram-bot {v['python-telegram-bot']}, httpx {v['httpx']}, "
        f"torch {v['torch']}, sentence-transformers {v['sentence-transformers']}, faiss-cpu {v['faiss-cpu']}"
    )


def rss_mib() -> float:
    """This process's current resident set size (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS in /proc/self/status")


def summary_ms(samples_s: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p95, max and mean of latencies given in seconds, reported in milliseconds."""
    ms = sorted(x * 1000 for x in samples_s)
    if not ms:
        return {"n": 0, "p50": None, "p95": None, "max": None, "mean": None}

    def pct(p: float) -> float:  # linear interpolation, like numpy's default
        k = (len(ms) - 1) * p
        lo = int(k)
        hi = min(lo + 1, len(ms) - 1)
        return ms[lo] + (ms[hi] - ms[lo]) * (k - lo)

    return {"n": len(ms), "p50": round(pct(0.50), 1), "p95": round(pct(0.95), 1), "max": round(ms[-1], 1),
            "mean": round(sum(ms) / len(ms), 1)}


def latency_line(label: str, s: dict[str, Any]) -> str:
    if not s["n"]:
        return f"{label}: no samples"
    return f"{label}: n={s['n']}  p50 {s['p50']:.0f} ms  p95 {s['p95']:.0f} ms  max {s['max']:.0f} ms"


# --------------------------------------------------------------------------- engine and questions


def sample_settings(index_dir: Path = SAMPLE_INDEX) -> Settings:
    """Library defaults (no .env), over the bundled sample articles."""
    return Settings(_env_file=None, index_dir=index_dir, articles_dir=SAMPLE_ARTICLES)


def open_engine(settings: Settings, rebuild: bool = False) -> tuple[Any, dict[str, Any]]:
    """The real engine over ``settings.index_dir``, building the index first if it is missing."""
    from index.build import build_index
    from index.embedding import Encoder
    from index.engine import Engine
    from index.errors import IndexMismatch

    encoder = Encoder(settings)  # query threads (settings.threads), as the bot runs it
    built: dict[str, Any] = {}
    if rebuild or store.current_build(Path(settings.index_dir)) is None:
        started = time.monotonic()
        report = build_index(settings, encoder=encoder)
        built = {"built_now": True, "build_seconds": round(time.monotonic() - started, 1),
                 "embedded": report.embedded}
    try:
        engine = Engine.open(settings, encoder)
    except IndexMismatch:  # e.g. the configured model changed since var/bench was built
        build_index(settings, encoder=encoder, full=True)
        engine = Engine.open(settings, encoder)
    info = engine.info()
    return engine, {**built, "index": str(info.path), "articles": info.articles, "chunks": info.chunks,
                    "model": info.model}


def question_pool(engine: Any, seed: int = 7) -> list[str]:
    """Questions about the sample: one per title (templated, short title) plus FIXED_QUESTIONS, shuffled."""
    return questions_about([a.title for a in engine.list_articles(0, 1000)], seed)


def questions_about(titles: Sequence[str], seed: int = 7) -> list[str]:
    """``question_pool`` from the titles themselves (when the engine runs in other processes)."""
    rng = random.Random(seed)
    out = list(FIXED_QUESTIONS)
    for i, title in enumerate(titles):
        short = " ".join(re.sub(r"[¿?¡!.:;«»“”\"']", " ", title).split()[:8])
        if short:
            out.append(TEMPLATES[i % len(TEMPLATES)].format(t=short))
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------- the fake server


Deliver = Callable[[dict], Awaitable[None]]  # hands one update to the bot (a webhook post)
KIND_CODES = {"answer": ord("a"), "refusal": ord("r"), "sorry": ord("s"), "other": ord("o")}
KIND_OF = {code: kind for kind, code in KIND_CODES.items()}


class RecordingTelegram(FakeTelegram):
    """FakeTelegram that timestamps each successful sendMessage per chat and wakes the
    simulated user waiting for it; keeps at most ``keep_calls`` calls and bot messages, and of
    each chat the kind of every reply (one byte each) and the text of the last one."""

    def __init__(self, keep_calls: int = 5000) -> None:
        super().__init__()
        self.keep_calls = keep_calls
        self.loop: asyncio.AbstractEventLoop | None = None
        self.reply_times: dict[int, array] = {}  # chat id -> monotonic time of each reply
        self.reply_codes: dict[int, bytearray] = {}  # chat id -> KIND_CODES of each reply, in order
        self.last_text: dict[int, str] = {}  # chat id -> the visible text of its latest reply
        self.failed: dict[str, int] = {}  # method -> non-200 replies
        self.total_calls = 0
        self._waiters: dict[int, list[tuple[int, asyncio.Future]]] = {}

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    # runs in a server thread, under self._cond (FakeTelegram.handle holds it around api_*)
    def api_sendmessage(self, params: dict) -> dict:
        message = super().api_sendmessage(params)
        now = time.monotonic()
        chat_id = message["chat"]["id"]
        times = self.reply_times.setdefault(chat_id, array("d"))
        times.append(now)
        text = message.get("text", "")
        kind = ("sorry" if text.startswith(SORRY) else "refusal" if text.startswith(NOT_FOUND)
                else "answer" if params.get("reply_markup") else "other")
        self.reply_codes.setdefault(chat_id, bytearray()).append(KIND_CODES[kind])
        self.last_text[chat_id] = text
        waiters = self._waiters.get(chat_id)
        if waiters:
            ready = [w for w in waiters if w[0] <= len(times)]
            for w in ready:
                waiters.remove(w)
                assert self.loop is not None
                self.loop.call_soon_threadsafe(_resolve, w[1])
        return message

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict]:
        status, body = super().handle(method, params)
        with self._cond:
            self.total_calls += 1
            if status != 200:
                self.failed[method] = self.failed.get(method, 0) + 1
            if len(self.calls) > self.keep_calls:
                del self.calls[: len(self.calls) - self.keep_calls // 2]
            if len(self.messages) > self.keep_calls:
                for key in list(self.messages)[: len(self.messages) - self.keep_calls // 2]:
                    del self.messages[key]
        return status, body

    def replies(self, chat_id: int) -> int:
        with self._cond:
            return len(self.reply_times.get(chat_id, ()))

    def reply_kind(self, chat_id: int, n: int) -> str:
        """The kind of the ``n``-th reply (1-based) in ``chat_id``."""
        with self._cond:
            return KIND_OF[self.reply_codes[chat_id][n - 1]]

    @property
    def reply_kinds(self) -> dict[str, int]:
        """How many replies of each kind, over every chat."""
        with self._cond:
            codes = b"".join(self.reply_codes.values())
        return {kind: codes.count(code) for kind, code in KIND_CODES.items()}

    async def ask(self, chat_id: int, text: str, timeout: float = 60.0,
                  deliver: Deliver | None = None) -> tuple[float, float, float]:
        """Send ``text`` from the private chat ``chat_id`` and wait for the bot's next message
        there; returns (sent, replied, latency) in monotonic seconds. Raises TimeoutError.
        Without ``deliver`` the update waits for the bot's getUpdates; with it, ``deliver``
        posts it (webhook mode) and a failed post raises its error."""
        assert self.loop is not None, "attach() the event loop first"
        future: asyncio.Future = self.loop.create_future()
        with self._cond:
            target = len(self.reply_times.get(chat_id, ())) + 1
            self._waiters.setdefault(chat_id, []).append((target, future))
        sent = time.monotonic()
        try:
            if deliver is None:
                self.send_text(text, user_id=chat_id)
            else:
                await deliver(self.text_update(text, user_id=chat_id))
            await asyncio.wait_for(future, timeout)
        except (asyncio.TimeoutError, TimeoutError):
            self._forget(chat_id, target, future)
            raise TimeoutError(f"no reply in chat {chat_id} within {timeout} s") from None
        except BaseException:
            self._forget(chat_id, target, future)
            raise
        with self._cond:
            replied = self.reply_times[chat_id][target - 1]
        return sent, replied, replied - sent

    def _forget(self, chat_id: int, target: int, future: asyncio.Future) -> None:
        with self._cond:
            waiters = self._waiters.get(chat_id, [])
            if (target, future) in waiters:
                waiters.remove((target, future))


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


# --------------------------------------------------------------------------- simulated users


def until(deadline: float) -> Callable[[], bool]:
    """``keep_asking`` for ``users_until``: true until the monotonic ``deadline``."""
    return lambda: time.monotonic() < deadline


async def users_until(fake: RecordingTelegram, pool: list[str], users: int, keep_asking: Callable[[], bool],
                      max_questions: int, timeout: float, first_chat: int, latencies: Any, sent: dict[int, array],
                      counters: dict[str, int], deliver: Deliver | None = None) -> None:
    """``users`` simulated users (chats ``first_chat`` + u) asking in a loop, each waiting for
    its reply, while ``keep_asking()`` holds and fewer than ``max_questions`` were asked in all.
    A user whose reply times out (``counters["timeouts"]``) or whose update cannot be
    delivered (``counters["undelivered"]``) stops."""

    async def user(u: int) -> None:
        chat = first_chat + u
        sent.setdefault(chat, array("d"))
        j = 0
        while keep_asking() and counters["asked"] < max_questions:
            question = pool[(u * 7 + j) % len(pool)]
            j += 1
            counters["asked"] += 1
            sent[chat].append(time.monotonic())  # just before the injection (ask re-stamps it)
            try:
                t_sent, _, latency = await fake.ask(chat, question, timeout=timeout, deliver=deliver)
            except TimeoutError:
                counters["timeouts"] = counters.get("timeouts", 0) + 1
                return
            except OSError as exc:  # httpx's errors are not OSErrors: see WebhookBalancer.deliver
                counters["undelivered"] = counters.get("undelivered", 0) + 1
                log.error("chat %s: the update was not delivered: %s", chat, exc)
                return
            sent[chat][-1] = t_sent
            latencies.append(latency)

    await asyncio.gather(*(user(u) for u in range(users)))


async def settle(fake: RecordingTelegram, sent: dict[int, array], grace: float) -> None:
    """Give late or duplicate replies ``grace`` seconds to show up before counting."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if all(fake.replies(c) >= len(s) for c, s in sent.items()):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(min(1.0, grace))  # a duplicate would arrive right after the first reply


def check_replies(fake: RecordingTelegram, sent: dict[int, array]) -> dict[str, int]:
    """Every question exactly one reply, matched by chat and order: reply i comes after
    question i was sent and before question i+1 was (each user waits for its reply)."""
    lost = duplicates = out_of_order = 0
    for chat_id, sent_times in sent.items():
        with fake._cond:
            replies = list(fake.reply_times.get(chat_id, ()))
        lost += max(0, len(sent_times) - len(replies))
        duplicates += max(0, len(replies) - len(sent_times))
        for i in range(min(len(sent_times), len(replies))):
            later = sent_times[i + 1] if i + 1 < len(sent_times) else float("inf")
            if not sent_times[i] <= replies[i] <= later:
                out_of_order += 1
    return {"questions": sum(len(s) for s in sent.values()),
            "replies": sum(fake.replies(c) for c in sent), "lost": lost, "duplicates": duplicates,
            "out_of_order": out_of_order}


# --------------------------------------------------------------------------- the bot


@contextlib.asynccontextmanager
async def running_bot(engine: Any, workdir: Path | None = None, keep_calls: int = 5000,
                      **overrides: Any) -> AsyncIterator[tuple[RecordingTelegram, Any, BotSettings]]:
    """The real bot (build_application + running) long-polling a RecordingTelegram on 127.0.0.1.

    Rate limit off and no periodic reload unless ``overrides`` say otherwise; the feedback log
    goes to ``workdir`` (a temporary folder if None)."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bot-")))
        fake = RecordingTelegram(keep_calls=keep_calls)
        fake.attach(asyncio.get_running_loop())
        fake.start()
        stack.callback(fake.stop)
        values: dict[str, Any] = dict(
            telegram_bot_token=TOKEN, telegram_api_url=fake.url, feedback_log=workdir / "feedback.jsonl",
            rate_limit_per_minute=0, reload_interval_seconds=0, index_dir=engine.settings.index_dir,
            allowed_ids=frozenset(), admin_ids=frozenset(),
        )
        values.update(overrides)
        settings = BotSettings(_env_file=None, **values)
        app = build_application(settings, engine)
        async with running(app, timeout=1):
            yield fake, app, settings


def feedback_questions(path: Path | None) -> int:
    """How many questions the bot logged (one line per question the engine answered)."""
    if path is None or not Path(path).exists():
        return 0
    count = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if '"event": "question"' in line:
                count += 1
    return count


# --------------------------------------------------------------------------- bot processes behind a balancer

WEBHOOK_URL = "https://bot.invalid/hook"  # what every process registers (the balancer's public URL)
WEBHOOK_SECRET = "bench-webhook-secret"


def free_port() -> int:
    """A port free on 127.0.0.1 now (the bot binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BotProcess:
    """One ``python -m bot`` in webhook mode, listening on 127.0.0.1:``port``."""

    number: int
    port: int
    proc: subprocess.Popen
    log_path: Path
    feedback_log: Path

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_bot_processes(count: int, api_url: str, workdir: Path, env: dict[str, str]) -> list[BotProcess]:
    """``count`` real bot processes (``python -m bot``, the configured model) in webhook mode
    against the Bot API at ``api_url``; ``env`` adds the index settings (e.g.
    ``ARTICLE_QA_DATABASE_URL``) to this process's environment. Rate limit off; each process
    logs to ``workdir/bot-N.log`` and keeps its own feedback log. Stop them with
    ``stop_bot_processes``."""
    workdir.mkdir(parents=True, exist_ok=True)
    bots = []
    for number in range(count):
        port = free_port()
        log_path, feedback = workdir / f"bot-{number}.log", workdir / f"feedback-{number}.jsonl"
        feedback.unlink(missing_ok=True)
        child_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **env,
                     "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api_url,
                     "ARTICLE_QA_WEBHOOK_URL": WEBHOOK_URL, "ARTICLE_QA_WEBHOOK_LISTEN": "127.0.0.1",
                     "ARTICLE_QA_WEBHOOK_PORT": str(port), "ARTICLE_QA_WEBHOOK_SECRET": WEBHOOK_SECRET,
                     "ARTICLE_QA_RATE_LIMIT_PER_MINUTE": "0", "ARTICLE_QA_FEEDBACK_LOG": str(feedback),
                     "ARTICLE_QA_ALLOWED_IDS": "", "ARTICLE_QA_ADMIN_IDS": ""}
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=child_env, stdin=subprocess.DEVNULL,
                                    stdout=log_file, stderr=subprocess.STDOUT)
        bots.append(BotProcess(number, port, proc, log_path, feedback))
    return bots


async def wait_listening(bots: Sequence[BotProcess], timeout: float = 180.0) -> None:
    """Until every process accepts connections on its webhook port (it has loaded the model
    and the index); a process that exits first is an error naming its last log lines."""
    deadline = time.monotonic() + timeout
    waiting = list(bots)
    while waiting:
        for bot in list(waiting):
            if bot.proc.poll() is not None:
                raise RuntimeError(f"bot process {bot.number} exited with code {bot.proc.returncode}: {bot.log_tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", bot.port)
            except OSError:
                continue
            writer.close()
            waiting.remove(bot)
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(f"bot processes {[b.number for b in waiting]} not listening after {timeout} s")
        await asyncio.sleep(0.1)


def stop_bot_processes(bots: Sequence[BotProcess], grace: float = 15.0) -> list[int | None]:
    """SIGTERM every process (the bot stops with exit code 0), SIGKILL what is still running
    after ``grace`` seconds; returns their exit codes (-9: had to be killed)."""
    for bot in bots:
        if bot.proc.poll() is None:
            bot.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for bot in bots:
        try:
            bot.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            bot.proc.kill()
            bot.proc.wait()
    return [bot.proc.returncode for bot in bots]


class WebhookBalancer:
    """The load balancer in front of the bot processes: posts each update to one process's
    webhook, chosen by chat id (so a chat's follow-ups and buttons stay with the process that
    holds its conversation, as docs/postgres.md recommends), with Telegram's secret header."""

    def __init__(self, bots: Sequence[BotProcess]) -> None:
        import httpx

        self.bots = list(bots)
        self.delivered = [0] * len(self.bots)
        self._client = httpx.AsyncClient(timeout=30.0, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
        self._errors = (httpx.HTTPError,)

    def route(self, chat_id: int) -> int:
        return chat_id % len(self.bots)

    def chat_for(self, number: int, k: int, base: int) -> int:
        """The ``k``-th chat id at or above ``base`` that is routed to process ``number``."""
        first = base + (number - base) % len(self.bots)
        return first + k * len(self.bots)

    async def deliver(self, update: dict) -> None:
        """Post ``update``; a refused connection or a non-2xx answer raises ConnectionError."""
        number = self.route(update["message"]["chat"]["id"])
        try:
            response = await self._client.post(self.bots[number].webhook, json=update)
        except self._errors as exc:
            raise ConnectionError(f"bot process {number}: {type(exc).__name__}: {exc}") from exc
        if response.status_code // 100 != 2:
            raise ConnectionError(f"bot process {number}: HTTP {response.status_code}")
        self.delivered[number] += 1

    async def aclose(self) -> None:
        await self._client.aclose()


def quiet_logs() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "telegram", "telegram.ext", "sentence_transformers", "bm25s"):
        logging.getLogger(name).setLevel(logging.WARNING)


__all__ = [
    "FIXED_QUESTIONS", "BotProcess", "RecordingTelegram", "SAMPLE_INDEX", "WebhookBalancer", "check_replies",
    "feedback_questions", "free_port", "latency_line", "machine", "machine_text", "open_engine", "question_pool",
    "questions_about", "quiet_logs", "rss_mib", "running_bot", "sample_settings", "settle", "start_bot_processes",
    "stop_bot_processes", "summary_ms", "until", "users_until", "wait_listening",
]
