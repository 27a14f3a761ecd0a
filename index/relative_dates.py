"""The relative dates of an article's sentence ("este lunes", "ayer", "el año pasado") as the dates
they stand for, read from the article's date.

Why: news dates its events from the day it is published. An answer read weeks later that says
"El gobierno anunció este lunes…" leaves the reader guessing which Monday; the article's date
says. The reply shows the date beside the words ("este lunes [1 de febrero de 2021]"), and the
answer itself stays the article's words (a follow-up still finds it said).

What is read, and only when the article's date is precise enough (a day; a month for a month
or a year):
- "hoy", "esta mañana / tarde / noche": the article's day; "ayer", "anoche": the day before;
  "anteayer": two days before; "mañana" as "tomorrow" (not "la mañana", "esta mañana"): the
  day after, "pasado mañana" the one after that. "hoy en día", "hoy día" and "hoy por hoy" mean
  "nowadays", and "Hoy" inside a sentence is a name (a TV show);
- "el pasado lunes", "el lunes pasado": the last Monday before the article's day; "el próximo
  lunes", "el lunes que viene": the first after it; "el próximo día 17", "el pasado día 3": the
  nearest such day after or before it; "este lunes": the Monday of the article's week, but
  only when that lies within three days of it: written on a Sunday, "este lunes" may mean the
  next day as well as six days before, so it is left as written;
- "el año pasado", "este año", "el próximo año"; "el mes pasado", "este mes", "el próximo mes".
A bare "el lunes" may be past or future (the verb says which) and is left alone, as is a
weekday followed by its date ("este jueves 25 de febrero": the text already says it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .lexical import fold
from .records import Answer
from .timeframe import date_span
from .wording import spanish_date, spanish_month

__all__ = ["RelativeDate", "dated", "relative_dates", "with_dates"]

_WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_WEEKDAY = r"(lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo)"
_NEXT = r"(?:pr[oó]xim[oa]|que viene)"
_DAY_AFTER = re.compile(r"\s*,?\s*\d{1,2}\b")  # "este jueves 25 de febrero": the date is written
# The determiners before "mañana" the morning ("la mañana", "esta mañana", "por la mañana").
_MORNING_BEFORE = re.compile(r"(?:\b(?:la|esta|una|cada|toda|media|misma|de|del|por|esa|aquella|su)\s+)$",
                             re.IGNORECASE)
_EXPRESSIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("past_weekday", re.compile(rf"\bel pasado {_WEEKDAY}\b|\bel {_WEEKDAY} pasado\b", re.IGNORECASE)),
    ("next_weekday", re.compile(rf"\bel pr[oó]ximo {_WEEKDAY}\b|\bel {_WEEKDAY} {_NEXT}\b", re.IGNORECASE)),
    ("this_weekday", re.compile(rf"\beste {_WEEKDAY}\b", re.IGNORECASE)),
    ("past_day", re.compile(r"\bel pasado d[ií]a (\d{1,2})\b(?! de)", re.IGNORECASE)),
    ("next_day", re.compile(r"\bel pr[oó]ximo d[ií]a (\d{1,2})\b(?! de)", re.IGNORECASE)),
    ("today", re.compile(r"\b(?:el d[ií]a de )?(?<!hoy por )hoy\b(?! en d[ií]a| d[ií]a\b| por hoy)|"
                         r"\besta (?:ma[ñn]ana|tarde|noche)\b", re.IGNORECASE)),
    ("day_before", re.compile(r"\b(?:anteayer|antier)\b", re.IGNORECASE)),
    ("yesterday", re.compile(r"\b(?:ayer|anoche)\b", re.IGNORECASE)),
    ("day_after", re.compile(r"\bpasado ma[ñn]ana\b", re.IGNORECASE)),
    ("tomorrow", re.compile(r"\bma[ñn]ana\b", re.IGNORECASE)),
    ("last_year", re.compile(r"\bel a[ñn]o pasado\b|\bel pasado a[ñn]o\b", re.IGNORECASE)),
    ("this_year", re.compile(r"\beste a[ñn]o\b", re.IGNORECASE)),
    ("next_year", re.compile(rf"\bel pr[oó]ximo a[ñn]o\b|\bel a[ñn]o {_NEXT}\b", re.IGNORECASE)),
    ("last_month", re.compile(r"\bel mes pasado\b|\bel pasado mes\b(?! de)", re.IGNORECASE)),
    ("this_month", re.compile(r"\beste mes\b(?! de)", re.IGNORECASE)),
    ("next_month", re.compile(rf"\bel pr[oó]ximo mes\b(?! de)|\bel mes {_NEXT}\b", re.IGNORECASE)),
)
_DAY_KINDS = frozenset({"past_weekday", "next_weekday", "this_weekday", "past_day", "next_day", "today",
                        "day_before", "yesterday", "tomorrow", "day_after"})
_MONTH_KINDS = frozenset({"last_month", "this_month", "next_month"})


@dataclass(frozen=True)
class RelativeDate:
    """Where a relative date is written in the text (``start``..``end``) and what it stands for,
    worded ("1 de febrero de 2021", "enero de 2021", "2020")."""

    start: int
    end: int
    stands_for: str


def relative_dates(text: str, published: str | None) -> list[RelativeDate]:
    """The relative dates of ``text`` an article dated ``published`` (ISO: "2021-02-01", or
    "2021-02" known to the month; nothing is read of a year alone) lets read, in order."""
    day, month = _article_date(published or "")
    if month is None:
        return []
    found: list[RelativeDate] = []
    for kind, pattern in _EXPRESSIONS:
        for m in pattern.finditer(text):
            if any(m.start() < r.end and r.start < m.end() for r in found) or not _stands(kind, m, text):
                continue
            worded = _worded(kind, m, day, month)
            if worded:
                found.append(RelativeDate(m.start(), m.end(), worded))
    return sorted(found, key=lambda r: r.start)


def with_dates(text: str, published: str | None) -> str:
    """``text`` with the date each of its relative dates stands for after it, in brackets."""
    out, pos = [], 0
    for r in relative_dates(text, published):
        out += [text[pos:r.end], f" [{r.stands_for}]"]
        pos = r.end
    return "".join(out) + text[pos:]


def dated(text: str, answer: Answer) -> str:
    """An answer's words (its text, or its closest sentence) as a front end shows them: dated by
    its article, the first passage's (the one holding them)."""
    return with_dates(text, answer.passages[0].hit.date) if answer.passages else text


def _article_date(published: str) -> tuple[date | None, date | None]:
    """The article's day (None unless known to the day) and the first of its month (None unless
    known to the month), from its ISO date as ``timeframe.date_span`` reads it."""
    span = date_span(published)
    if span is None:
        return None, None
    start, end = span
    return (start if start == end else None), (start.replace(day=1) if start.month == end.month else None)


def _stands(kind: str, m: re.Match[str], text: str) -> bool:
    """Whether the words found are the relative date and not something else: "Hoy" inside a
    sentence is a name (the TV show), "la mañana" the morning, and a weekday followed by its date
    needs nothing added."""
    before = text[: m.start()]
    if kind == "today" and m.group(0)[0] == "H" and before.strip() and not re.search(r"[.!?¡¿]\s*$", before):
        return False
    if kind == "tomorrow" and _MORNING_BEFORE.search(before):
        return False
    return not (kind.endswith("weekday") and _DAY_AFTER.match(text, m.end()))


def _worded(kind: str, m: re.Match[str], day: date | None, month: date) -> str:
    """The date the expression stands for, worded; "" when the article's date does not say it."""
    if kind in _DAY_KINDS:
        target = _day(kind, m, day) if day else None
        return spanish_date(target) if target else ""
    if kind in _MONTH_KINDS:
        shift = {"last_month": -1, "this_month": 0, "next_month": 1}[kind]
        index = month.year * 12 + month.month - 1 + shift
        return spanish_month(date(index // 12, index % 12 + 1, 1))
    return str(month.year + {"last_year": -1, "this_year": 0, "next_year": 1}[kind])


def _day(kind: str, m: re.Match[str], day: date) -> date | None:
    """The day a day expression stands for, from the article's day; None when it does not settle it."""
    shift = {"today": 0, "yesterday": -1, "day_before": -2, "tomorrow": 1, "day_after": 2}.get(kind)
    if shift is not None:
        return day + timedelta(days=shift)
    if kind in ("past_day", "next_day"):
        return _day_of_month(day, int(m.group(1)), -1 if kind == "past_day" else 1)
    named = next(g for g in m.groups() if g)
    weekday = _WEEKDAYS.index(fold(named))
    if kind == "past_weekday":
        return day - timedelta(days=(day.weekday() - weekday - 1) % 7 + 1)
    if kind == "next_weekday":
        return day + timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)
    same_week = day + timedelta(days=weekday - day.weekday())
    return same_week if abs((same_week - day).days) <= 3 else None


def _day_of_month(day: date, number: int, step: int) -> date | None:
    """The nearest day numbered ``number`` before (``step`` -1) or after (+1) ``day``: "el próximo
    día 17" of 10 December is 17 December, of 20 December 17 January."""
    current = day + timedelta(days=step)
    for _ in range(62):
        if current.day == number:
            return current
        current += timedelta(days=step)
    return None
