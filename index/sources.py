"""The sources file: which feeds, sitemaps and article pages ``python -m index fetch`` reads.

One URL a line; ``#`` starts a comment (a whole line, or the rest of a line after a blank);
blank lines are ignored. What each URL is (an RSS/Atom feed, a sitemap, one article page) is
decided from what the server sends, not from the URL, so the file needs no kinds. A line that
is not an http(s) URL costs one log line and is skipped: one typo must not stop the others.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexError_
from .web_urls import is_web_url

log = logging.getLogger(__name__)


class NoSources(IndexError_):
    """The sources file is missing, unreadable, or names no usable URL."""


@dataclass(frozen=True)
class Source:
    """One URL of the sources file and the line it came from (for the operator's log)."""

    url: str
    line: int


def _strip_comment(line: str) -> str:
    """The line without its comment: ``#`` at the start, or after a blank (URLs may hold ``#``)."""
    if line.lstrip().startswith("#"):
        return ""
    for marker in (" #", "\t#"):
        line = line.split(marker, 1)[0]
    return line.strip()


def read_sources(path: Path) -> list[Source]:
    """The usable URLs of the sources file, in order and without repeats.

    Raises NoSources when the file cannot be read or holds no usable URL, so the caller can
    exit with the "nothing to do" code instead of reporting an empty success.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise NoSources(f"sources file {path} does not exist (one feed, sitemap or page URL a line)") from None
    except OSError as err:
        raise NoSources(f"cannot read the sources file {path}: {err.strerror or err}") from None
    text = raw.decode("utf-8-sig", errors="replace")
    sources: list[Source] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        url = _strip_comment(line)
        if not url:
            continue
        if not is_web_url(url):
            log.warning("%s:%d: not an http(s) URL, skipped: %r", path, number, url[:200])
            continue
        if url in seen:
            log.info("%s:%d: repeats an earlier line, skipped", path, number)
            continue
        seen.add(url)
        sources.append(Source(url, number))
    if not sources:
        raise NoSources(f"sources file {path} names no http(s) URL")
    return sources
