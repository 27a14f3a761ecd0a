"""``python -m index fetch``: bring new articles from the sources file into the article folder.

Each source is read in turn (``index.polite_http`` does the requests): a feed or sitemap lists
articles, a page is one. An article URL already dealt with and listed the same way as before is
not requested again; a listing answered 304 Not Modified costs one request. Each article page
becomes ``<id>.json`` (``index.article_page``, ``index.article_files``): written when new,
rewritten when changed, untouched when the same, never deleted. At most
``fetch_max_new_articles`` new articles are written per run; the rest are neither fetched nor
remembered, so the next run takes them. One source failing never stops the others; each
source's outcome is one log line.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .article_files import article_path, write_article
from .article_page import NoArticle, extract_article
from .errors import IndexError_
from .fetch_state import FetchState, fetch_lock
from .listings import Entry, Listing, kind_of, parse_feed, parse_sitemap, unpack
from .polite_http import Fetched, FetchFailed, PoliteClient
from .settings import Settings
from .sources import read_sources

log = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 2  # a sitemap index may list sitemap indexes once; deeper is a loop or a trap


class FetchError(IndexError_):
    """The fetch could not run at all (the article folder is unusable)."""


@dataclass
class SourceResult:
    """What one line of the sources file gave."""

    url: str
    kind: str | None = None
    name: str | None = None
    not_modified: bool = False
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    left: int = 0
    failures: Counter = field(default_factory=Counter)
    error: str | None = None  # the source itself could not be read

    @property
    def worked(self) -> bool:
        return self.error is None

    def fail(self, url: str, reason: str) -> None:
        log.debug("%s: %s", url, reason)
        self.failures[reason.split(":", 1)[0]] += 1

    def line(self) -> str:
        what = ", ".join(part for part in (self.kind, self.name and f"«{self.name}»") if part)
        head = f"{self.url}" + (f" ({what})" if what else "")
        if self.error:
            return f"{head}: failed: {self.error}"
        if self.not_modified and self.kind != "page":
            return f"{head}: not modified since the last run"
        failed = sum(self.failures.values())
        line = f"{head}: new {self.new}, changed {self.changed}, unchanged {self.unchanged}, failed {failed}"
        if failed:
            line += " (" + "; ".join(f"{reason}: {n}" for reason, n in self.failures.most_common()) + ")"
        if self.left:
            line += f", left for the next run {self.left}"
        return line


@dataclass
class FetchReport:
    results: list[SourceResult]
    seconds: float

    def exit_code(self) -> int:
        """0 when at least one source could be read, 1 when none could."""
        return 0 if any(r.worked for r in self.results) else 1

    def summary(self) -> str:
        total = {key: sum(getattr(r, key) for r in self.results) for key in ("new", "changed", "unchanged", "left")}
        failed = sum(sum(r.failures.values()) for r in self.results)
        broken = sum(not r.worked for r in self.results)
        return (f"fetched {len(self.results)} sources ({len(self.results) - broken} read, {broken} failed): "
                f"new {total['new']}, changed {total['changed']}, unchanged {total['unchanged']}, "
                f"failed {failed}, left for the next run {total['left']} in {self.seconds:.1f} s")


class _Run:
    """One fetch run: the client, the state, the folder and the count against the cap."""

    def __init__(self, settings: Settings, client: PoliteClient, state: FetchState, folder: Path) -> None:
        self.client, self.state, self.folder = client, state, folder
        self.cap, self.max_bytes, self.new_total = settings.fetch_max_new_articles, settings.fetch_max_page_bytes, 0
        self.attempted: dict[str, bool] = {}  # article URL -> settled, for listings that overlap in one run

    def source(self, url: str) -> SourceResult:
        result = SourceResult(url)
        try:
            self._source(url, result)
        except (FetchFailed, NoArticle) as err:
            result.error = err.reason
        except Exception as err:  # noqa: BLE001 - one odd source must not stop the others
            log.debug("unexpected error on %s", url, exc_info=True)
            result.error = f"unexpected error: {type(err).__name__}: {err}"
        return result

    def _source(self, url: str, result: SourceResult) -> None:
        fetched = self.client.get(url, **self.state.validators(url))
        if fetched.status == 304:
            result.not_modified, result.kind, result.name = True, self.state.kind(url), self.state.name(url)
            result.unchanged += result.kind == "page"
            self.state.answered(url, result.kind or "unknown", fetched.etag, fetched.last_modified, complete=True)
            return
        body = unpack(fetched, self.max_bytes)
        result.kind = kind_of(body, fetched.content_type)
        if result.kind is None:
            raise FetchFailed(f"not a feed, sitemap or HTML page (content type {fetched.content_type or 'none'})")
        if result.kind == "page":
            complete = self._page_source(fetched, body, result)
        else:
            complete = self._listing(url, fetched, body, result, depth=0)
        self.state.answered(url, result.kind, fetched.etag, fetched.last_modified, complete, result.name)

    def _cap_reached(self) -> bool:
        return self.new_total >= self.cap

    def _store(self, fields: dict, result: SourceResult) -> str:
        outcome = write_article(self.folder, fields)
        setattr(result, outcome, getattr(result, outcome) + 1)
        self.new_total += outcome == "new"
        return outcome

    def _page_source(self, fetched: Fetched, body: bytes, result: SourceResult) -> bool:
        """A sources-file line that is one article page; True when it was dealt with."""
        fields = extract_article(body, fetched.url, charset=fetched.charset)
        result.name = fields["source"]
        if self._cap_reached() and not article_path(self.folder, fields["id"]).exists():
            result.left += 1
            return False
        self._store(fields, result)
        return True

    def _listing(self, url: str, fetched: Fetched, body: bytes, result: SourceResult, depth: int) -> bool:
        """A feed, sitemap or sitemap index; True when every article it lists was dealt with."""
        listing = parse_feed(fetched, body) if result.kind == "feed" else parse_sitemap(fetched, body)
        result.name = result.name or listing.title
        if listing.kind == "sitemapindex":
            self._sitemaps(listing.sitemaps, result, depth + 1)
            return False  # always read again: its sitemaps are asked conditionally one by one
        return self._entries(url, listing, result)

    def _sitemaps(self, urls: list[str], result: SourceResult, depth: int) -> None:
        for url in urls:
            if self._cap_reached():
                return
            try:
                if depth > MAX_SITEMAP_DEPTH:
                    raise FetchFailed(f"sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH}")
                fetched = self.client.get(url, **self.state.validators(url))
                if fetched.status == 304:
                    self.state.answered(url, "sitemap", fetched.etag, fetched.last_modified, complete=True)
                    continue
                body = unpack(fetched, self.max_bytes)
                kind = kind_of(body, fetched.content_type)
                if kind not in ("sitemap", "sitemapindex"):
                    raise FetchFailed("a sitemap index names something that is not a sitemap")
                child = SourceResult(url, kind)
                complete = self._listing(url, fetched, body, child, depth)
                self.state.answered(url, kind, fetched.etag, fetched.last_modified, complete)
                self._merge(result, child)
            except FetchFailed as err:
                result.fail(url, f"sitemap {err.reason}")

    @staticmethod
    def _merge(into: SourceResult, child: SourceResult) -> None:
        for key in ("new", "changed", "unchanged", "left"):
            setattr(into, key, getattr(into, key) + getattr(child, key))
        into.failures.update(child.failures)

    def _entries(self, listing_url: str, listing: Listing, result: SourceResult) -> bool:
        """Fetch what the listing names that is new or listed differently; True when all was dealt with."""
        complete = True
        for entry in listing.entries:
            if self.state.signed(entry.url, listing_url, entry.signature):
                result.unchanged += 1
                self.state.listed(entry.url)
            elif entry.url in self.attempted:  # another listing named it earlier in this run
                result.unchanged += 1
                if self.attempted[entry.url]:
                    self.state.sign(entry.url, listing_url, entry.signature)
                complete = complete and self.attempted[entry.url]
            elif self.state.entry(entry.url) is None and self._cap_reached():
                result.left += 1
                complete = False
            else:
                settled = self._article(listing_url, entry, listing.title, result)
                self.attempted[entry.url] = settled
                complete = complete and settled
        return complete

    def _article(self, listing_url: str, entry: Entry, listing_title: str | None, result: SourceResult) -> bool:
        """Fetch and store one listed article; False when it failed in a way worth retrying."""
        try:
            fetched = self.client.get(entry.url)
            if kind_of(fetched.body, fetched.content_type) != "page":
                raise FetchFailed(f"not an HTML page ({fetched.content_type or 'no content type'})")
            fields = extract_article(fetched.body, fetched.url, entry, listing_title, fetched.charset)
        except (FetchFailed, NoArticle) as err:
            result.fail(entry.url, err.reason)
            transient = getattr(err, "transient", False)
            if not transient:
                self.state.settle(entry.url, listing_url, entry.signature, f"failed: {err.reason}")
            return not transient
        outcome = self._store(fields, result)
        self.state.settle(entry.url, listing_url, entry.signature, outcome, fields["id"])
        return True


def _folder(articles: Path) -> Path:
    if articles.exists() and not articles.is_dir():
        raise FetchError(f"{articles} is a file; fetched articles need a folder (set --articles)")
    try:
        articles.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FetchError(f"cannot create the article folder {articles}: {err.strerror or err}") from None
    return articles


def run_fetch(settings: Settings) -> FetchReport:
    """Fetch every source of ``settings.sources_file`` into ``settings.articles_dir``.

    Raises NoSources (no usable sources file), FetchLocked (another run is on the folder) or
    FetchError (the folder or the state cannot be written); anything a single source does
    is in its SourceResult instead.
    """
    started = time.monotonic()
    sources = read_sources(settings.sources_file)
    folder = _folder(Path(settings.articles_dir))
    results = []
    try:
        with fetch_lock(folder), PoliteClient(settings) as client:
            state = FetchState.load(folder)
            run = _Run(settings, client, state, folder)
            for source in sources:
                result = run.source(source.url)
                log.log(logging.WARNING if result.failures or result.error else logging.INFO, "%s", result.line())
                results.append(result)
                state.save()  # after each source, so a killed run keeps what it did
    except OSError as err:
        raise FetchError(f"cannot write in the article folder {folder}: {err.strerror or err}") from None
    return FetchReport(results, time.monotonic() - started)
