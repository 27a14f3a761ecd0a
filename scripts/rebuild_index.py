#!/usr/bin/env python
"""The operator's rebuild: index the configured article folder again, for cron.

Same code path as ``python -m index build``: incremental by content hash, atomic switch, so
a running bot picks the new index up on its own and never loses the old one. Exit codes:
0 rebuilt, 1 failed (old index still served), 2 nothing could be indexed, 3 another build
is running. Example crontab line (every 15 minutes, quiet unless something goes wrong):

    */15 * * * * cd /srv/article-qa && .venv/bin/python scripts/rebuild_index.py --quiet

With ``--sources FILE`` it first fetches new articles from the feeds, sitemaps and pages listed
there into the article folder (``python -m index fetch``, docs/fetching.md), then builds. The
build runs whatever the fetch did: when no source could be read (or the sources file is
missing, or another fetch runs) it says so and indexes the articles already there; the exit
code is the build's.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.build import build_index  # noqa: E402
from index.errors import BuildLocked, IndexError_, NothingToIndex  # noqa: E402
from index.fetch import run_fetch  # noqa: E402
from index.logsafe import configure_logging  # noqa: E402
from index.settings import Settings  # noqa: E402

log = logging.getLogger("rebuild_index")


def fetch(settings: Settings, quiet: bool) -> None:
    """Fetch into the article folder; never stops the build that follows (it logs why instead)."""
    try:
        report = run_fetch(settings)
    except IndexError_ as exc:  # no sources file, another fetch running, an unusable folder
        log.error("fetch skipped: %s; building from the articles already there", exc)
        return
    if not quiet:
        print(report.summary())
    if report.exit_code():
        log.error("fetch: no source could be read; building from the articles already there")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, help="article folder (default: ARTICLE_QA_ARTICLES_DIR)")
    parser.add_argument("--index", type=Path, help="index directory (default: ARTICLE_QA_INDEX_DIR)")
    parser.add_argument("--full", action="store_true", help="re-embed every article")
    parser.add_argument("--sources", type=Path,
                        help="fetch new articles from this sources file into the article folder first")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and errors")
    args = parser.parse_args(argv)
    configure_logging(logging.WARNING if args.quiet else logging.INFO)
    for noisy in ("sentence_transformers", "bm25s", "trafilatura", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    updates = {k: v for k, v in (("articles_dir", args.articles), ("index_dir", args.index)) if v}
    settings = settings.model_copy(update=updates)
    if args.sources:
        fetch(settings.model_copy(update={"sources_file": args.sources}), args.quiet)
    try:
        report = build_index(settings, full=args.full, progress=not args.quiet and sys.stderr.isatty())
    except BuildLocked as exc:
        log.warning("%s", exc)
        return 3
    except NothingToIndex as exc:
        log.error("%s; the previous index is still served", exc)
        return 2
    except (IndexError_, OSError) as exc:
        log.error("rebuild failed, the previous index is still served: %s", exc)
        return 1
    if not args.quiet:
        print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
