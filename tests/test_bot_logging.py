"""The token never reaches a log line: message, args, traceback and stack are all redacted."""
from __future__ import annotations

import io
import logging

from bot.logging_setup import RedactingFilter, install_redaction

SECRET = "987654:SECRET-token_value"


def emit(msg: str, *args: object, exc_info: object = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([SECRET]))
    logger = logging.getLogger(f"test.redact.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.error(msg, *args, exc_info=exc_info)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_redacts_message_and_args() -> None:
    out = emit("GET https://api.telegram.org/bot%s/getMe %d", SECRET, 200)
    assert SECRET not in out and "bot[TOKEN]/getMe 200" in out


def test_redacts_url_encoded_token() -> None:
    out = emit("url %s", "bot987654%3ASECRET-token_value")
    assert "987654%3A" not in out and "[TOKEN]" in out


def test_redacts_tracebacks() -> None:
    try:
        raise RuntimeError(f"connect failed for /bot{SECRET}/sendMessage")
    except RuntimeError:
        import sys

        out = emit("boom", exc_info=sys.exc_info())
    assert SECRET not in out and "RuntimeError: connect failed for /bot[TOKEN]/sendMessage" in out


def test_other_records_untouched() -> None:
    out = emit("%s de %s", "uno", "dos")
    assert out.strip() == "uno de dos"


def test_install_attaches_to_root_handlers_and_quiets_httpx() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        filt = install_redaction([SECRET])
        assert filt in handler.filters
        install_redaction([SECRET])
        assert handler.filters.count(filt) == 1
        assert logging.getLogger("httpx").level >= logging.WARNING
    finally:
        root.removeHandler(handler)
