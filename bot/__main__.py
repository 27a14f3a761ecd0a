"""``python -m bot [--console] [--index DIR]``: run the Telegram bot (or the console).

Thin on purpose: read settings, open (or first build) the index, then hand over to
``bot.app`` or ``bot.console``. Without a token it falls back to the console, so a fresh
checkout can be tried without Telegram. Library errors become one line and exit code 2.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

from .logging_setup import configure_logging
from .settings import BotSettings

log = logging.getLogger("bot")


def open_engine(settings: BotSettings):  # -> index.Engine
    """Open the index at settings.index_dir, building it from settings.articles_dir first
    if there is none yet."""
    from index import Encoder, Engine, build_index  # lazy: loading the model is slow
    from index.errors import IndexNotFound

    try:
        return Engine.open(settings)
    except IndexNotFound:
        log.info("no index at %s yet: building it from %s", settings.index_dir, settings.articles_dir)
        encoder = Encoder(settings)  # loaded once, for the build and for serving
        report = build_index(settings, encoder=encoder)
        log.info(
            "index built: %s articles, %s chunks, %s skipped",
            getattr(report, "articles", "?"), getattr(report, "chunks", "?"), len(getattr(report, "skipped", ()) or ()),
        )
        return Engine.open(settings, encoder=encoder)


def run_telegram(settings: BotSettings, engine) -> None:
    from .app import build_application
    from .handlers import ALLOWED_UPDATES

    app = build_application(settings, engine)
    if settings.webhook_url:
        try:
            import tornado  # noqa: F401  (PTB's webhook server)
        except ImportError:
            raise SystemExit("webhook mode needs `pip install \"python-telegram-bot[webhooks]\"`")
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        app.run_polling(timeout=settings.poll_timeout, allowed_updates=ALLOWED_UPDATES)


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
        engine = open_engine(settings)
        if console:
            from .console import run_console

            return run_console(engine, settings, sys.stdin, sys.stdout)
        run_telegram(settings, engine)
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
