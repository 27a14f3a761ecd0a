"""The bot's in-memory state, every piece bounded so a busy or abusive chat cannot grow it.

Each method is synchronous and finishes without awaiting, so under asyncio (PTB runs all
handlers on one event loop, even with ``concurrent_updates``) a check-and-record is atomic;
a ``threading.Lock`` makes the same true if a caller ever uses threads. Clocks are
injectable so tests can move time instead of sleeping.
"""
from __future__ import annotations

import statistics
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable, Hashable, Literal

from index.records import Answer, Turn

Clock = Callable[[], float]
Verdict = Literal["allow", "notify", "silent"]


class _Lru(OrderedDict):
    """An OrderedDict that forgets its least recently used key beyond ``cap`` keys."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def touch(self, key: Hashable) -> None:
        self.move_to_end(key)
        while len(self) > self.cap:
            self.popitem(last=False)


class History:
    """Per-chat last turns (at most ``turns``), each forgotten ``ttl`` seconds after it happened."""

    def __init__(self, turns: int, ttl: float, clock: Clock = time.monotonic, max_chats: int = 10_000):
        self.turns = turns
        self.ttl = ttl
        self.clock = clock
        self._chats: _Lru = _Lru(max_chats)
        self._lock = threading.Lock()

    def _fresh(self, chat_id: int) -> deque | None:
        turns = self._chats.get(chat_id)
        if turns is None:
            return None
        horizon = self.clock() - self.ttl
        while turns and turns[0][0] < horizon:
            turns.popleft()
        if not turns:
            del self._chats[chat_id]
            return None
        return turns

    def get(self, chat_id: int) -> tuple[Turn, ...]:
        """The chat's unexpired turns, oldest first."""
        with self._lock:
            turns = self._fresh(chat_id)
            return tuple(turn for _, turn in turns) if turns else ()

    def add(self, chat_id: int, turn: Turn) -> None:
        if self.turns <= 0:
            return
        with self._lock:
            turns = self._fresh(chat_id)
            if turns is None:
                turns = self._chats[chat_id] = deque(maxlen=self.turns)
            turns.append((self.clock(), turn))
            self._chats.touch(chat_id)

    def clear(self, chat_id: int) -> None:
        with self._lock:
            self._chats.pop(chat_id, None)


class RateLimiter:
    """Sliding window per key: ``per_window`` events in any ``window`` seconds.

    Over the limit, the first refusal says "notify" (one short notice) and the rest say
    "silent" until the window frees; refused events are not counted, so it does free.
    """

    def __init__(
        self, per_window: int, window: float = 60.0, clock: Clock = time.monotonic, max_keys: int = 100_000
    ):
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self._events: _Lru = _Lru(max_keys)
        self._notified: set[Hashable] = set()
        self._lock = threading.Lock()

    def check(self, key: Hashable) -> Verdict:
        if self.per_window <= 0:
            return "allow"
        with self._lock:
            now = self.clock()
            events = self._events.get(key)
            if events is None:
                events = self._events[key] = deque()
            self._events.touch(key)
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) < self.per_window:
                events.append(now)
                self._notified.discard(key)
                return "allow"
            if key in self._notified:
                return "silent"
            if len(self._notified) > 100_000:
                self._notified.clear()
            self._notified.add(key)
            return "notify"


class Allowlist:
    """Who may use the bot: a user id or a chat id in ``ids`` (empty: everyone).

    Others get "notify" once (one polite refusal) and "silent" afterwards.
    """

    def __init__(self, ids: frozenset[int] | set[int], max_refused: int = 100_000):
        self.ids = frozenset(ids)
        self._refused: _Lru = _Lru(max_refused)
        self._lock = threading.Lock()

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        return not self.ids or user_id in self.ids or chat_id in self.ids

    def check(self, user_id: int | None, chat_id: int | None) -> Verdict:
        if self.allows(user_id, chat_id):
            return "allow"
        key = user_id if user_id is not None else chat_id
        with self._lock:
            if key in self._refused:
                return "silent"
            self._refused[key] = True
            self._refused.touch(key)
            return "notify"


@dataclass
class StoredAnswer:
    """An answer kept for its buttons: which passages are its sources, which are 'more'."""

    answer: Answer
    sources: tuple[int, ...]
    extra: tuple[int, ...]
    qid: str
    voters: set[int | None] = field(default_factory=set)


class AnswerStore:
    """Answers per chat, keyed by a short id that fits in callback data; the oldest expire."""

    def __init__(self, per_chat: int, max_chats: int = 10_000):
        self.per_chat = per_chat
        self._chats: _Lru = _Lru(max_chats)
        self._counter = 0
        self._lock = threading.Lock()

    def put(self, chat_id: int, item: StoredAnswer) -> str:
        with self._lock:
            self._counter += 1
            key = _base36(self._counter)
            answers = self._chats.get(chat_id)
            if answers is None:
                answers = self._chats[chat_id] = OrderedDict()
            self._chats.touch(chat_id)
            answers[key] = item
            while len(answers) > self.per_chat:
                answers.popitem(last=False)
            return key

    def get(self, chat_id: int, key: str) -> StoredAnswer | None:
        with self._lock:
            answers = self._chats.get(chat_id)
            return answers.get(key) if answers else None


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


class Stats:
    """Counters for /estado: questions, answered ones, uptime and median latency."""

    def __init__(self, clock: Clock = time.monotonic, window: int = 1000):
        self.clock = clock
        self.started = clock()
        self.questions = 0
        self.answered = 0
        self._latencies: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def record(self, latency_s: float, answered: bool) -> None:
        with self._lock:
            self.questions += 1
            self.answered += int(answered)
            self._latencies.append(latency_s)

    def p50_ms(self) -> float | None:
        with self._lock:
            return statistics.median(self._latencies) * 1000 if self._latencies else None

    def uptime_s(self) -> float:
        return self.clock() - self.started
