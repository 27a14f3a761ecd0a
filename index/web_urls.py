"""Web URLs for the fetcher: which ones it requests, their origin, and the canonical form that names an article.

The canonical form makes one article one file whatever link led to it: courlan normalises the
URL (lower-case scheme and host, default port dropped, tracking parameters such as ``utm_*``,
``fbclid`` or ``gclid`` dropped, the query sorted) and the fragment goes. An article's id is
the first hex digits of the canonical URL's SHA-256: stable across runs and file-name safe.
"""
from __future__ import annotations

import hashlib
from urllib.parse import urldefrag, urlsplit

from courlan import normalize_url

ID_HEX_DIGITS = 16  # 64 bits: no collision expected below billions of articles


def is_web_url(url: str) -> bool:
    """An absolute http or https URL with a host: the only kind the fetcher requests."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def origin(url: str) -> str:
    """scheme://host[:port], the scope of one robots.txt and of the pause between requests."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def canonical_url(url: str) -> str:
    """The URL that names an article, whatever link led to it."""
    try:
        url = normalize_url(url, strict=False, trailing_slash=True)
    except ValueError:
        pass  # courlan could not parse it: keep it as given, minus the fragment
    return urldefrag(url)[0]


def article_id(canonical: str) -> str:
    """A stable, file-name-safe id: the first hex digits of the canonical URL's SHA-256."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]
