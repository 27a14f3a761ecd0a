"""``python -m index build|search|ask|latest|eval|fetch``: a thin shell over the library.

Library errors become one clear line on stderr and an exit code; tracebacks only with -v.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

from .build import build_index
from .cli_output import answer_text, hits_text, latest_text
from .engine import Engine
from .errors import IndexError_, NothingToIndex
from .logsafe import configure_logging
from .settings import Settings

log = logging.getLogger("index")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build or incrementally rebuild an index")
    build.add_argument("--articles", type=Path, help="folder or file of articles (default: settings)")
    build.add_argument("--index", type=Path, help="index directory (default: settings)")
    build.add_argument("--full", action="store_true", help="re-embed everything")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    for name, text in (("search", "passages for a question"), ("ask", "the answer to a question")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--index", type=Path)
        cmd.add_argument("--top-k", type=int)
        cmd.add_argument("--json", action="store_true", help="one JSON object per question per line")
        cmd.add_argument("question", nargs="?", help="the question; without it, one per line on stdin")
    fetch = sub.add_parser("fetch", help="fetch new articles from the feeds, sitemaps and pages of a sources file")
    fetch.add_argument("--sources", type=Path, help="sources file, one URL a line (default: settings)")
    fetch.add_argument("--articles", type=Path, help="folder the articles are written to (default: settings)")
    latest = sub.add_parser("latest", help="the newest articles, optionally about a topic")
    latest.add_argument("--index", type=Path)
    latest.add_argument("--about", default="", help="only articles about this topic (found by the normal "
                        "search); a time expression in it (\"ayer\", \"coronavirus esta semana\") keeps the list "
                        "to its dates")
    latest.add_argument("--page", type=int, default=1, help="page number (from 1)")
    latest.add_argument("--page-size", type=int, default=10, help="articles per page")
    latest.add_argument("--json", action="store_true", help="the page as one JSON object")
    ev = sub.add_parser("eval", help="evaluate on a SQuAD-format file (--qa), the news set (--news) "
                        "or the date set (--dates)")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--qa", type=Path, help="SQuAD-format file: its paragraphs are indexed in --work")
    source.add_argument("--news", type=Path, help="news evaluation set (eval/news_dev.jsonl) asked of --index")
    source.add_argument("--dates", type=Path, help="date evaluation set (eval/dates_dev.jsonl) asked of --index")
    ev.add_argument("--index", type=Path, help="with --news or --dates: the index of the set's corpus (default: settings)")
    ev.add_argument("--no-noise", action="store_true", help="with --news: skip the noisy variants")
    ev.add_argument("--top-k", type=int, default=10)
    ev.add_argument("--json", type=Path, dest="json_out", help="write the metrics (and per-question rows) here")
    ev.add_argument("--limit", type=int, help="only the first N questions")
    ev.add_argument("--work", type=Path, help="keep the temporary index here (reused if it matches)")
    ev.add_argument("--split", choices=["all", "tune", "holdout"], default="all",
                    help="questions of half the SQuAD articles (parameters are chosen on 'tune')")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    updates = {}
    if getattr(args, "index", None):
        updates["index_dir"] = args.index
    if getattr(args, "articles", None):
        updates["articles_dir"] = args.articles
    if getattr(args, "sources", None):
        updates["sources_file"] = args.sources
    return settings.model_copy(update=updates)


NOT_UTF8 = "the line is not valid UTF-8"


def _questions(question: str | None) -> Iterator[tuple[str, str | None]]:
    """(question, error) per input line, read as bytes: one undecodable line is reported in
    its place (as escaped text) instead of losing the batch or echoing raw bytes."""
    if question is not None:
        yield question, None
        return
    for raw in sys.stdin.buffer:
        raw = raw.rstrip(b"\r\n")
        try:
            yield raw.decode("utf-8"), None
        except UnicodeDecodeError:
            yield raw.decode("utf-8", "backslashreplace"), NOT_UTF8


def _serve(args: argparse.Namespace, settings: Settings, one: Callable[[Engine, str], tuple[dict, str]]) -> int:
    engine = Engine.open(settings)
    for question, error in _questions(args.question):
        if error:
            as_json, as_text = {"question": question, "error": error}, f"? {question}\n! {error}"
        else:
            as_json, as_text = one(engine, question)
        print(json.dumps(as_json, ensure_ascii=False) if args.json else as_text, flush=True)
    return 0


def _search(engine: Engine, question: str, top_k: int | None) -> tuple[dict, str]:
    hits = engine.search(question, top_k) if question.strip() else []
    return {"question": question, "results": [h.to_json() for h in hits]}, hits_text(question, hits)


def _ask(engine: Engine, question: str, top_k: int | None) -> tuple[dict, str]:
    answer = engine.ask(question, top_k=top_k)
    return answer.to_json(), answer_text(answer)


def _fetch(settings: Settings) -> int:
    """Exit 0 when at least one source was read, 1 when none was, 2 without sources, 3 when locked."""
    from .fetch import run_fetch
    from .fetch_state import FetchLocked
    from .sources import NoSources

    try:
        report = run_fetch(settings)
    except NoSources as exc:
        log.error("%s", exc)
        return 2
    except FetchLocked as exc:
        log.warning("%s", exc)
        return 3
    print(report.summary())
    if report.exit_code():
        log.error("no source could be read; nothing was fetched")
    return report.exit_code()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    for noisy in ("sentence_transformers", "httpx", "httpcore", "trafilatura", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = _settings(args)
    try:
        if args.command == "build":
            report = build_index(settings, full=args.full, progress=not args.no_progress)
            print(report.summary())
            return 0
        if args.command == "fetch":
            return _fetch(settings)
        if args.command == "search":
            return _serve(args, settings, lambda e, q: _search(e, q, args.top_k))
        if args.command == "ask":
            return _serve(args, settings, lambda e, q: _ask(e, q, args.top_k))
        if args.command == "latest":
            page = Engine.open(settings).latest(args.about, args.page, max(1, args.page_size))
            print(json.dumps(page.to_json(), ensure_ascii=False) if args.json else latest_text(page))
            return 0
        if args.dates:
            from .date_eval import run_date_eval

            run_date_eval(Engine.open(settings), args.dates, args.split, args.json_out, args.limit)
            return 0
        if args.news:
            from .news_eval import run_news_eval

            run_news_eval(Engine.open(settings), args.news, args.split, args.json_out, args.limit, not args.no_noise)
            return 0
        from .evaluate import run_eval

        return run_eval(settings, args.qa, args.top_k, args.json_out, args.limit, args.work, args.split)
    except NothingToIndex as exc:
        log.error("%s", exc)
        return 2
    except IndexError_ as exc:
        log.error("%s", exc, exc_info=args.verbose)
        return 1


def _quiet_on_closed_pipe() -> int:
    """``ask --json … | head -2``: the reader left; stop quietly, as Unix tools do."""
    try:
        return main()
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit: point it at devnull.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the closed pipe


if __name__ == "__main__":
    sys.exit(_quiet_on_closed_pipe())
