"""Append-only JSONL log of questions and 👍/👎 votes, for measuring answer quality later.

Privacy by construction: a line holds the (cleaned) question, what the engine returned
(answered flag, article/chunk ids, scores), the latency, the vote and a timestamp, linked by
a random question id. No usernames, no user or chat ids, no other message text.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from index.records import Answer

log = logging.getLogger(__name__)


def new_qid() -> str:
    """A random id linking a question line to its later vote line."""
    return uuid.uuid4().hex[:16]


class FeedbackLog:
    """Writes one JSON object per line; ``path=None`` disables it. Write errors are logged,
    never raised: losing a log line must not lose the user's answer."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()

    def question(self, qid: str, question: str, answer: Answer, latency_ms: float) -> None:
        hits = [p.hit for p in answer.passages]
        self._write(
            {
                "event": "question",
                "qid": qid,
                "question": question,
                "answered": bool(answer.answered),
                "confidence": round(float(answer.confidence), 6),
                "article_ids": [h.article_id for h in hits],
                "chunk_ids": [h.chunk_id for h in hits],
                "scores": [round(float(h.score), 6) for h in hits],
                "latency_ms": round(float(latency_ms), 1),
                "vote": None,
            }
        )

    def vote(self, qid: str, vote: str) -> None:
        self._write({"event": "vote", "qid": qid, "vote": vote})

    def _write(self, record: dict) -> None:
        if self.path is None:
            return
        record["ts"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)
        except OSError:
            log.warning("could not write the feedback log %s", self.path, exc_info=True)
