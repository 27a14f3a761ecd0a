"""Logging for the bot, with the token kept out of every line.

The token is part of every Bot API URL (``…/bot<token>/sendMessage``), so any library that
logs a URL or an exception mentioning one would leak it. A filter on the root handlers
rewrites the message, its arguments and the formatted traceback of each record, replacing
every configured secret with ``[TOKEN]``; httpx, which logs each request URL at INFO, is
turned down to WARNING as well.
"""
from __future__ import annotations

import logging
import urllib.parse
from typing import Iterable

from index.logsafe import configure_logging as configure_safe_logging

PLACEHOLDER = "[TOKEN]"
NOISY_LOGGERS = ("httpx", "httpcore", "bm25s", "sentence_transformers", "trafilatura")


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, args, traceback and stack text. Never drops a record."""

    def __init__(self, secrets: Iterable[str] = (), placeholder: str = PLACEHOLDER):
        super().__init__()
        self.placeholder = placeholder
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register secrets (and their URL-encoded forms), longest first."""
        found = set(self._secrets)
        for secret in secrets:
            if secret and len(secret) >= 4:
                found.add(secret)
                found.add(urllib.parse.quote(secret, safe=""))
        self._secrets = sorted(found, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self.placeholder)
        return text

    def _leaks(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can, safely
            message = f"{record.msg} {record.args}"
        if self._leaks(message):
            record.msg = self.redact(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._leaks(record.exc_text):
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info and self._leaks(record.stack_info):
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_redaction(secrets: Iterable[str]) -> RedactingFilter:
    """Add the secrets to the shared filter and attach it to every current root handler."""
    _FILTER.add(secrets)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    return _FILTER


def configure_logging(secrets: Iterable[str], level: int | str = logging.INFO) -> None:
    """stderr logging for ``python -m bot``, redaction installed before anything logs."""
    configure_safe_logging(level)
    install_redaction(secrets)
