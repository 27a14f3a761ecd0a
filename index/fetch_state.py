"""What the fetcher remembers between runs, in ``.fetch-state.json`` inside the article folder.

Per fetched listing or page URL: its validators (ETag, Last-Modified) for a conditional GET and
when it last answered. Per article URL named by a feed or sitemap: each listing's signature of
it (its dates, title and summary as listed there) and the outcome, so a second run requests
nothing that has not changed. The name starts with a dot because ingest ignores hidden files: the build never
takes it for an article. It is written atomically (temporary file, fsync, rename), so a run
killed mid-write leaves the previous state; a lost or unreadable state only costs requests,
never articles: pages are fetched again and identical articles are left untouched on disk.
A lock file keeps two runs (an overlapping cron job) from interleaving their writes.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from .errors import IndexError_

log = logging.getLogger(__name__)

STATE_NAME = ".fetch-state.json"
LOCK_NAME = ".fetch.lock"
FORMAT = 1
FORGET_AFTER_DAYS = 180  # an article URL no listing has named for this long is forgotten


class FetchLocked(IndexError_):
    """Another fetch run holds the lock on this article folder."""


def now_iso() -> str:
    """The current UTC time, to the second, as ISO 8601 with a Z."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old file or the new one, never half.

    The temporary file is hidden (a leading dot), so a build walking the folder meanwhile
    ignores it.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


@contextmanager
def fetch_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's fetch lock, or raise FetchLocked at once (never wait behind a hung run)."""
    with open(folder / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchLocked(f"another fetch is running on {folder}; try again later") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class FetchState:
    """The remembered validators and article URLs; ``save`` after each source keeps progress."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.sources: dict[str, dict[str, Any]] = data.get("sources", {})
        self.entries: dict[str, dict[str, Any]] = data.get("entries", {})

    @classmethod
    def load(cls, folder: Path) -> "FetchState":
        path = folder / STATE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format') if isinstance(data, dict) else '?'}")
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as err:
            log.warning("fetch state %s unreadable (%s): starting afresh; pages are requested again, "
                        "unchanged articles are not rewritten", path, err)
            data = {}
        return cls(path, data)

    def save(self) -> None:
        cutoff = (datetime.now(timezone.utc) - timedelta(days=FORGET_AFTER_DAYS)).date().isoformat()
        self.entries = {url: e for url, e in self.entries.items() if e.get("listed", "") >= cutoff}
        payload = {"format": FORMAT, "sources": self.sources, "entries": self.entries}
        write_atomically(self.path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True).encode())

    # Listings and pages requested directly: validators for the next conditional GET.
    def validators(self, url: str) -> dict[str, str | None]:
        known = self.sources.get(url, {})
        return {"etag": known.get("etag"), "last_modified": known.get("last_modified")}

    def answered(self, url: str, kind: str, etag: str | None, last_modified: str | None,
                 complete: bool, name: str | None = None) -> None:
        """Record a 200 or 304. Validators are kept only when everything the URL listed was dealt
        with: a listing with articles left for the next run must be read in full next time,
        not answered with 304."""
        known = self.sources.setdefault(url, {})
        known.update(kind=kind, last_seen=now_iso())
        if name:
            known["name"] = name
        if complete:
            known.update(etag=etag or known.get("etag"), last_modified=last_modified or known.get("last_modified"))
        else:
            known.update(etag=None, last_modified=None)

    def kind(self, url: str) -> str | None:
        return self.sources.get(url, {}).get("kind")

    def name(self, url: str) -> str | None:
        return self.sources.get(url, {}).get("name")

    # Article URLs named by a feed or sitemap.
    def entry(self, url: str) -> dict[str, Any] | None:
        return self.entries.get(url)

    def listed(self, url: str) -> None:
        if url in self.entries:
            self.entries[url]["listed"] = now_iso()[:10]

    def signed(self, url: str, listing: str, signature: str) -> bool:
        """Whether this listing named the article this way when it was last dealt with."""
        return self.entries.get(url, {}).get("signatures", {}).get(listing) == signature

    def sign(self, url: str, listing: str, signature: str) -> None:
        """Another listing names an article already dealt with: remember how, fetch nothing."""
        if url in self.entries:
            self.entries[url].setdefault("signatures", {})[listing] = signature
            self.listed(url)

    def settle(self, url: str, listing: str, signature: str, outcome: str, article_id: str | None = None) -> None:
        """The entry was dealt with for good (written, unchanged, or a lasting failure).

        Signatures are kept per listing: two feeds describe one article differently, and one
        feed's view must not make the other fetch it again on every run."""
        signatures = self.entries.get(url, {}).get("signatures", {})
        self.entries[url] = {"signatures": {**signatures, listing: signature}, "outcome": outcome,
                             "id": article_id, "fetched_at": now_iso(), "listed": now_iso()[:10]}
