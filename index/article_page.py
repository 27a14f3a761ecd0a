"""One fetched web page turned into the fields of an article file, or a reason it holds none.

The article's id is a short hash of its canonical URL (``index.web_urls``), so the same article
reached from two feeds, a sitemap, with tracking parameters or through a redirect is one file.
The canonical URL is the page's own ``<link rel=canonical>`` (relative or not), else the URL
trafilatura reads from its metadata (``og:url``…), else the final URL after redirects.

A page whose main text is shorter than ``MIN_TEXT_CHARS`` is not an article for this project
(a paywall's teaser, a cookie wall, a gallery): it is reported, not written.
"""
from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from .ingest import quiet_trafilatura
from .listings import Entry
from .normalise import normalise_text, normalise_title
from .pubdate import iso_day
from .web_urls import article_id, canonical_url, is_web_url

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 300


class NoArticle(Exception):
    """The page was fetched but holds no article this project can use."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_CANONICAL = "//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"


def _page_url(candidates: list[str | None], final_url: str) -> str:
    """The first usable candidate (relative ones resolved against the page), else where the
    request ended; normalised."""
    for candidate in candidates:
        if candidate:
            absolute = urljoin(final_url, str(candidate).strip())
            if is_web_url(absolute):
                return canonical_url(absolute)
    return canonical_url(final_url)


def _site_name(name: str | None, urls: list[str | None]) -> str | None:
    """The site's name from the page, or None when trafilatura only had the host to offer."""
    name = normalise_title(name or "")
    hosts = set()
    for url in filter(None, urls):
        parts = urlsplit(url)
        hosts |= {parts.netloc.lower(), (parts.hostname or "").lower()}
    hosts |= {host.removeprefix("www.") for host in hosts}
    return None if not name or name.lower() in hosts else name


def _decoded(html: bytes, charset: str | None) -> bytes | str:
    """Text by the HTTP charset when the server gave one; else the bytes, for trafilatura to decode
    by the page's ``<meta charset>`` or a guess."""
    if charset:
        try:
            return html.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown charset: let trafilatura read the page's own declaration
    return html


def extract_article(html: bytes, final_url: str, entry: Entry | None = None,
                    listing_title: str | None = None, charset: str | None = None) -> dict[str, str | None]:
    """The article's fields (id, title, text, date, url, source), or NoArticle with the reason.

    Title: the page's (trafilatura), else the listing's. Date: the listing's published or
    updated date, else trafilatura's (page metadata such as ``article:published_time``, then a
    date in the URL). Source: the site's name (``og:site_name``, else what trafilatura reads
    from the page), else the feed's title, else the host. The site's name comes first because
    a feed's title names a section ("Portada", "Deportes"): an article in two feeds would
    otherwise change source, and be rewritten, with the feed it was last read from.
    """
    import trafilatura  # slow import, paid only when a page is fetched

    tree = trafilatura.load_html(_decoded(html, charset))
    if tree is None:
        raise NoArticle("not an HTML document")
    link = [str(href) for href in tree.xpath(_CANONICAL)[:1]]  # read first: the extraction prunes the tree
    with quiet_trafilatura():
        doc = trafilatura.bare_extraction(tree, url=final_url, with_metadata=True, include_comments=False,
                                          date_extraction_params={"extensive_search": False,
                                                                  "original_date": True,
                                                                  "deferred_url_extractor": True})
    if doc is None:
        raise NoArticle("no article text found (no body, or only boilerplate)")
    title = normalise_title(doc.title or "") or (normalise_title(entry.title) if entry and entry.title else "")
    lines = normalise_text(doc.text or "").split("\n")
    if len(lines) > 1 and lines[0] == title:
        lines = lines[1:]  # the page's <h1> repeats the title
    text = "\n".join(lines)
    if len(text) < MIN_TEXT_CHARS:
        raise NoArticle(f"no article text: {len(text)} characters, under {MIN_TEXT_CHARS} "
                        "(a paywall, a teaser or not an article)")
    url = _page_url([*link, doc.url], final_url)  # <link rel=canonical>, else trafilatura's (og:url…)
    source = _site_name(doc.sitename, [doc.url, url]) or listing_title or urlsplit(url).hostname
    return {"id": article_id(url), "title": title or None, "text": text,
            "date": (entry.date if entry else None) or iso_day(doc.date),
            "url": url, "source": source}
