"""What the bot needs from the question-answering engine, and how it tells the engine is ready.

Why its own module: the conversation (questions, buttons) and the commands both call the
engine; they share this one description of it instead of importing each other.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from index.records import Answer, Hit, Turn

__all__ = ["QAEngine", "engine_ready"]


class QAEngine(Protocol):
    """What the bot needs from ``index.Engine`` (blocking, thread-safe methods).

    An engine may also have a ``ready`` property (``index.Engine`` does): while it is False
    (no index loaded yet, e.g. the first build is still running) the bot answers politely
    that the index is being prepared instead of calling ``ask``/``search``/``info``, which
    would raise ``IndexNotFound``. Engines without it count as ready.
    """

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer: ...
    def search(self, question: str, top_k: int | None = None) -> list[Hit]: ...
    def info(self) -> object: ...
    def list_articles(self, offset: int = 0, limit: int = 10) -> list: ...
    def latest(self, about: str = "", page: int = 1, size: int = 10) -> object: ...
    def news_topic(self, question: str) -> str | None: ...
    def reload_if_changed(self) -> bool: ...


def engine_ready(engine: QAEngine) -> bool:
    """False while the engine has no index to serve (see ``QAEngine``)."""
    return bool(getattr(engine, "ready", True))
