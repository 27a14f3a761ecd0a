"""``python -m bot [--console] [--index DIR]``: run the Telegram bot (or the console).

Thin on purpose: read settings, open (or first build) the index, then hand over to
``bot.app`` or ``bot.console``. Without a token it falls back to the console, so a fresh
checkout can be tried without Telegram. Library errors become one line and exit code 2.

With no index yet, the console builds it first (it waits anyway), while the Telegram bot
starts at once: it builds in a background thread and, meanwhile, tells users that the
index is being prepared; the engine switches to the index as soon as it lands.

The Telegram bot keeps trying to reach the Bot API until it answers, rides out outages
while serving, and stops with exit code 0 on SIGINT or SIGTERM at any point (``bot.reconnect``).
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path
from typing import Sequence

from .logging_setup import configure_logging, install_redaction
from .settings import BotSettings

log = logging.getLogger("bot")


def _log_report(report: object) -> None:
    log.info(
        "index built: %s articles, %s chunks, %s skipped",
        getattr(report, "articles", "?"), getattr(report, "chunks", "?"), len(getattr(report, "skipped", ()) or ()),
    )


def open_engine(settings: BotSettings, *, build_in_background: bool = False):  # -> index.Engine
    """Open the index at settings.index_dir, building it from settings.articles_dir if
    there is none yet: first (blocking), or with ``build_in_background`` in a thread while
    the returned engine, not ``ready`` yet, already serves (see ``build_in_thread``)."""
    from index import Encoder, Engine, build_index  # lazy: loading the model is slow
    from index.errors import IndexNotFound

    encoder = Encoder(settings)  # loaded once, for the build (if any) and for serving
    try:
        return Engine.open(settings, encoder=encoder)
    except IndexNotFound:
        log.info("no index at %s yet: building it from %s", settings.index_dir, settings.articles_dir)
        if build_in_background:
            engine = Engine(settings, encoder)  # no index yet: engine.ready is False
            build_in_thread(settings, encoder, engine, build_index)
            return engine
        _log_report(build_index(settings, encoder=encoder))
        return Engine.open(settings, encoder=encoder)


def build_in_thread(settings: BotSettings, encoder, engine, build=None) -> threading.Thread:
    """Build the index in a daemon thread, then make ``engine`` load it (the bot's periodic
    ``reload_if_changed`` would pick it up too; this just does not wait for it). A failed
    build is logged; the bot keeps saying the index is being prepared, and still switches
    to an index built by other means (``python -m index build``) on its periodic reload."""
    if build is None:
        from index import build_index as build

    def work() -> None:
        try:
            _log_report(build(settings, encoder=encoder))
            if engine.reload_if_changed():
                log.info("the new index is now being served")
        except Exception:
            log.exception("building the index in the background failed; the bot has no index to serve")

    thread = threading.Thread(target=work, name="index-build", daemon=True)
    thread.start()
    return thread


def run_telegram(settings: BotSettings, engine) -> int:
    """Serve Telegram with ``engine`` until a signal (0) or a rejected token (2)."""
    from .app import build_application
    from .reconnect import Backoff, network_errors_on_one_line, run, updates_starter

    app = build_application(settings, engine)
    network_errors_on_one_line(install_redaction(settings.secrets()).redact)
    return run(app, updates_starter(settings), Backoff.from_settings(settings))


def serve_telegram(settings: BotSettings) -> int:
    """Open the engine, then serve Telegram; SIGINT or SIGTERM at any point stops it (exit 0)."""
    from .reconnect import sigterm_interrupts

    try:
        with sigterm_interrupts():
            return run_telegram(settings, open_engine(settings, build_in_background=True))
    except KeyboardInterrupt:  # a signal before the event loop took the signals over
        log.info("stopped before serving")
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Telegram bot answering questions about the indexed articles."
    )
    parser.add_argument("--console", action="store_true", help="chat in the terminal instead of Telegram")
    parser.add_argument("--index", type=Path, metavar="DIR", help="index directory (overrides ARTICLE_QA_INDEX_DIR)")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)

    settings = BotSettings()
    if args.index is not None:
        settings = settings.model_copy(update={"index_dir": args.index})
    configure_logging(settings.secrets(), args.log_level.upper())

    console = args.console
    if not console and settings.token() is None:
        print("TELEGRAM_BOT_TOKEN is not set: running the console instead.", file=sys.stderr)
        console = True

    from index.errors import IndexError_

    try:
        if not console:
            return serve_telegram(settings)
        from .console import run_console

        return run_console(open_engine(settings), settings, sys.stdin, sys.stdout)
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
