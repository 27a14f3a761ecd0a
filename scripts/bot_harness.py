"""Shared helpers for the bot benchmarks: the real bot, in-process, against the fake Bot API.

``RecordingTelegram`` is the test suite's ``FakeTelegram`` (tests/support/fake_telegram.py) plus
what a benchmark needs and a test does not: a timestamp for every successful sendMessage per
chat, a way for a simulated user to await "my next reply" without polling the call list,
and bounded call/message logs so a long soak measures the bot's memory, not the fake's.

Everything talks to 127.0.0.1 only.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any, AsyncIterator, Sequence

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
    titles = [a.title for a in engine.list_articles(0, 1000)]
    rng = random.Random(seed)
    out = list(FIXED_QUESTIONS)
    for i, title in enumerate(titles):
        short = " ".join(re.sub(r"[¿?¡!.:;«»“”\"']", " ", title).split()[:8])
        if short:
            out.append(TEMPLATES[i % len(TEMPLATES)].format(t=short))
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------- the fake server


class RecordingTelegram(FakeTelegram):
    """FakeTelegram that timestamps each successful sendMessage per chat and wakes the
    simulated user waiting for it; keeps at most ``keep_calls`` calls and bot messages."""

    def __init__(self, keep_calls: int = 5000) -> None:
        super().__init__()
        self.keep_calls = keep_calls
        self.loop: asyncio.AbstractEventLoop | None = None
        self.reply_times: dict[int, array] = {}  # chat id -> monotonic time of each reply
        self.reply_kinds: dict[str, int] = {"answer": 0, "refusal": 0, "sorry": 0, "other": 0}
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
        self.reply_kinds[kind] += 1
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

    async def ask(self, chat_id: int, text: str, timeout: float = 60.0) -> tuple[float, float, float]:
        """Send ``text`` from the private chat ``chat_id`` and wait for the bot's next message
        there; returns (sent, replied, latency) in monotonic seconds. Raises TimeoutError."""
        assert self.loop is not None, "attach() the event loop first"
        future: asyncio.Future = self.loop.create_future()
        with self._cond:
            target = len(self.reply_times.get(chat_id, ())) + 1
            self._waiters.setdefault(chat_id, []).append((target, future))
        sent = time.monotonic()
        self.send_text(text, user_id=chat_id)
        try:
            await asyncio.wait_for(future, timeout)
        except (asyncio.TimeoutError, TimeoutError):
            with self._cond:
                waiters = self._waiters.get(chat_id, [])
                if (target, future) in waiters:
                    waiters.remove((target, future))
            raise TimeoutError(f"no reply in chat {chat_id} within {timeout} s") from None
        with self._cond:
            replied = self.reply_times[chat_id][target - 1]
        return sent, replied, replied - sent


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


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


def quiet_logs() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "telegram", "telegram.ext", "sentence_transformers", "bm25s"):
        logging.getLogger(name).setLevel(logging.WARNING)


__all__ = [
    "FIXED_QUESTIONS", "RecordingTelegram", "SAMPLE_INDEX", "feedback_questions", "latency_line", "machine",
    "machine_text", "open_engine", "question_pool", "quiet_logs", "rss_mib", "running_bot", "sample_settings",
    "summary_ms",
]
