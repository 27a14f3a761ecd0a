"""Log lines an operator can trust: what a message carries cannot forge or reorder a line.

A file named "evil\\n2026-12-07 02:29:00,000 ERROR index: FORGED LINE.txt" made a log line that
looked genuine, and a right-to-left override (U+202E) reorders what a terminal shows. Every
message is written with its control, line-separator and bidi characters escaped ("\\n",
"\\u202e"); a traceback, which is ours, keeps its lines. Article ids are derived without them
(``safe_id``), so they never reach a log or the feedback file in the first place.
"""
from __future__ import annotations

import logging
import re
import sys

UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def escape(text: str) -> str:
    """The text with every unsafe character written as its escape sequence."""
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def safe_id(text: str) -> str:
    """An id without unsafe characters: each becomes "_" (the same file keeps the same id)."""
    return UNSAFE.sub("_", text)


class SafeFormatter(logging.Formatter):
    """A formatter that escapes the message (not the traceback)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)


def configure_logging(level: int | str = logging.INFO, fmt: str = FORMAT) -> None:
    """stderr logging whose every handler escapes what messages carry."""
    logging.basicConfig(level=level, stream=sys.stderr, format=fmt)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(SafeFormatter(fmt))
