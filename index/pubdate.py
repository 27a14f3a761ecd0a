"""An article's publication date as ISO text: from its record, else from its URL.

Why ISO text of the precision known ('2019-05-12', '2019-05' or '2019'): the store sorts and
compares dates as text (newest first in /fuentes and /ultimas), and search reads them as the
days they may stand for (``index.timeframe.date_span``), so a month must not pretend to be a day.
Records carry dates in many shapes ("2019-05-12T10:00:00Z", "12/05/2019", "12 de mayo de 2019",
RFC 2822 from feeds): ISO is read directly, anything else by dateparser (day first, as Spanish
writes it). URLs: news sites put the date in the path (``/2019/05/12/``, ``/20190512/``,
``-2019-05-12``, ``/2019/05/``); htmldate only reads the first of these, hence a small reader.
"""
from __future__ import annotations

import logging
import re
from datetime import date
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

__all__ = ["iso_day", "normalise_date", "url_date", "publication_date"]

_YEAR = r"(?:199\d|20[0-3]\d)"  # the years a news URL plausibly holds (as htmldate's reader)
_ISO = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:$|[T\s]\d|\s*$)")
_URL_DAY = [
    re.compile(rf"(?<!\d)({_YEAR})[/_.-](0?[1-9]|1[0-2])[/_.-](0?[1-9]|[12]\d|3[01])(?!\d)"),
    # 20190512, also with the hour glued on (abc.es: 201807061219)
    re.compile(rf"(?<!\d)({_YEAR})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:\d{{4}}|\d{{6}})?(?!\d)"),
]
_URL_MONTH = re.compile(rf"/({_YEAR})/(0?[1-9]|1[0-2])(?:/|$)")


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """The ISO text of a valid date of that precision, else None."""
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    if day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}" if month else f"{year:04d}"


def iso_day(value: str | None) -> str | None:
    """The day of an ISO 8601 / W3C date or datetime ('2024-03-05T10:00:00+01:00' → '2024-03-05'),
    else None. For the fetcher, which writes days: a sitemap's publication date, a page's
    metadata date (trafilatura gives ISO days). Records of any shape go to ``normalise_date``."""
    try:
        return date.fromisoformat(value[:10]).isoformat() if value else None
    except ValueError:
        return None


def normalise_date(value: str | None) -> str | None:
    """'2019-05-12T10:00Z' → '2019-05-12'; '2019-05' stays; '12/05/2019' → '2019-05-12';
    'mayo de 2019' → '2019-05'; unreadable → None (the caller logs it)."""
    if not value or not value.strip():
        return None
    m = _ISO.match(value)
    if m:
        return _iso(int(m[1]), int(m[2]) if m[2] else None, int(m[3]) if m[3] else None)
    return _parsed(value.strip())


def _parsed(value: str) -> str | None:
    """Any other written date, by dateparser (Spanish or English, day before month)."""
    from dateparser.date import DateDataParser  # slow import, paid only for odd dates

    parser = DateDataParser(languages=["es", "en"], settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"})
    data = parser.get_date_data(value)
    if data is None or data.date_obj is None:
        return None
    found = data.date_obj
    if data.period == "year":
        return _iso(found.year)
    if data.period == "month":
        return _iso(found.year, found.month)
    return _iso(found.year, found.month, found.day)


def url_date(url: str | None) -> str | None:
    """The date in a URL's path ('/2019/05/12/', '/20190512/', '-2019-05-12', '/2019/05/'), else None."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern in _URL_DAY:
        for m in pattern.finditer(path):
            found = _iso(int(m[1]), int(m[2]), int(m[3]))
            if found:
                return found
    m = _URL_MONTH.search(path)
    return _iso(int(m[1]), int(m[2])) if m else None


def publication_date(given: str | None, url: str | None, where: str = "") -> str | None:
    """The record's date normalised, else the URL's; an unreadable given date is logged once
    and the URL's (or none) used instead: a bad date never costs the article."""
    found = normalise_date(given)
    if given and given.strip() and found is None:
        log.warning("%sdate %r not understood; using the URL's date if it has one", f"{where}: " if where else "",
                    given[:40])
    return found or url_date(url)
