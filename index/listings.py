"""What a fetched URL is (feed, sitemap, sitemap index, article page) and the articles it lists.

The kind comes from the body's root element first (``<rss>``, ``<feed>``, ``<rdf:RDF>``,
``<urlset>``, ``<sitemapindex>``, ``<html>``), then from the content type, so a feed served as
text/html or a sitemap without .xml in its URL is still read right. Feeds are parsed by
feedparser from the bytes already fetched (it never fetches); sitemaps by lxml with entities
and network access off. A gzipped body (``sitemap.xml.gz``) is unpacked first, within the size
limit.
"""
from __future__ import annotations

import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import urljoin

from lxml import etree

from .polite_http import Fetched, FetchFailed
from .pubdate import iso_day
from .web_urls import canonical_url, is_web_url

Kind = Literal["feed", "sitemap", "sitemapindex", "page"]
FEED_ROOTS = {"rss", "feed", "RDF", "channel"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
XML_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
             "text/xml", "application/x-rss+xml"}
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 65536


@dataclass(frozen=True)
class Entry:
    """An article a listing names: its URL, what the listing says about it, and a signature
    that changes when the listing's view of it changes (so it is fetched again)."""

    url: str
    signature: str
    date: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Listing:
    """A feed's or sitemap's articles, newest first when the listing says; a sitemap index's sitemaps."""

    kind: Kind
    title: str | None
    entries: list[Entry]
    sitemaps: list[str]


def _signature(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def unpack(fetched: Fetched, max_bytes: int) -> bytes:
    """The body, gunzipped when it is a gzip file (not a Content-Encoding, which httpx undoes)."""
    if not fetched.body.startswith(GZIP_MAGIC):
        return fetched.body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(fetched.body, max_bytes + 1)
    except zlib.error as err:
        raise FetchFailed(f"broken gzip file: {err}") from None
    if len(data) > max_bytes:
        raise FetchFailed(f"unpacks to more than the {max_bytes:,}-byte limit; not read")
    return data


def _root_name(body: bytes) -> str | None:
    """The local name of the document's first element, if the start of the body parses as XML."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True)
    try:
        parser.feed(body[:SNIFF_BYTES])
    except etree.XMLSyntaxError:
        pass  # the elements opened before the error are still reported below
    try:
        for _, element in parser.read_events():
            return etree.QName(element).localname
    except etree.XMLSyntaxError:
        return None
    return None


def kind_of(body: bytes, content_type: str) -> Kind | None:
    """Feed, sitemap, sitemap index or page; None when it is none of them."""
    root = _root_name(body)
    if root in FEED_ROOTS:
        return "feed"
    if root in ("urlset", "sitemapindex"):
        return "sitemap" if root == "urlset" else "sitemapindex"
    if root == "html" or content_type in HTML_TYPES:
        return "page"
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "page"
    if content_type in XML_TYPES or "rss" in content_type or "atom" in content_type:
        return "feed"  # let feedparser try, and say why it could not
    return None


def _entry_date(entry: dict) -> str | None:
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    try:
        return date(*parsed[:3]).isoformat() if parsed else None
    except (TypeError, ValueError):
        return None


def parse_feed(fetched: Fetched, body: bytes) -> Listing:
    """An RSS or Atom feed's entries with a usable link; a feed that yields none and is not
    well-formed is a failure (``broken feed``), a well-formed empty feed is just empty."""
    import feedparser  # imported here: only a fetch run pays for it

    content_type = fetched.content_type or "application/xml"
    if fetched.charset:
        content_type += f"; charset={fetched.charset}"
    headers = {"content-location": fetched.url, "content-type": content_type}
    feed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    entries = []
    for item in feed.entries:
        link = item.get("link")
        url = urljoin(fetched.url, link.strip()) if link else ""
        if not is_web_url(url):
            continue
        url = canonical_url(url)  # no tracking parameters requested, one state entry per article
        title = (item.get("title") or "").strip() or None
        # dict.get: the raw fields, without feedparser's deprecated updated -> published fallback
        signature = _signature(url, dict.get(item, "updated"), dict.get(item, "published"), title,
                               item.get("summary"))
        entries.append(Entry(url, signature, _entry_date(item), title))
    if feed.bozo and not entries:
        raise FetchFailed(f"broken feed: {type(feed.bozo_exception).__name__}: {feed.bozo_exception}")
    title = (feed.feed.get("title") or "").strip() or None
    return Listing("feed", title, entries, [])


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def parse_sitemap(fetched: Fetched, body: bytes) -> Listing:
    """A sitemap's article URLs (newest ``lastmod`` first) or a sitemap index's sitemaps."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as err:
        raise FetchFailed(f"broken sitemap: {err}") from None
    if etree.QName(root).localname == "sitemapindex":
        children = [(_text(s, "{*}lastmod") or "", urljoin(fetched.url, _text(s, "{*}loc") or ""))
                    for s in root.iterfind("{*}sitemap")]
        children.sort(key=lambda child: child[0], reverse=True)
        return Listing("sitemapindex", None, [], [url for _, url in children if is_web_url(url)])
    dated = []
    for element in root.iterfind("{*}url"):
        url = urljoin(fetched.url, _text(element, "{*}loc") or "")
        if not is_web_url(url):
            continue
        url = canonical_url(url)
        lastmod = _text(element, "{*}lastmod")
        published = _text(element, "{*}news/{*}publication_date")
        title = _text(element, "{*}news/{*}title")
        entry = Entry(url, _signature(url, lastmod, published, title), iso_day(published), title)
        dated.append((lastmod or "", entry))
    dated.sort(key=lambda item: item[0], reverse=True)  # stable: undated keep their order, last
    return Listing("sitemap", None, [entry for _, entry in dated], [])
