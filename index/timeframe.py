"""The time expression of a question ("ayer", "en enero", "lo último sobre…") as a date range.

Why its own module: a question's time words are not about its topic. Search uses the range to
favour articles published inside it (``index.search.favour_dates``) and the words are taken out
of the text that retrieval and answer analysis see; the question as asked is kept for display.

How: a small grammar finds where an expression is (so exactly its words are removed, and names
such as the TV programme "Hoy" or "Semana Santa" are left alone); dateparser turns the words into
a date and its period (day, week, month or year) relative to ``today``; a table turns the period
into a range. "Today" is ``Settings.today`` (ARTICLE_QA_TODAY) or the real date: ``today_of``.

Article dates are ISO strings of day ("2019-05-12"), month ("2019-05") or year ("2019")
precision; ``date_span`` reads them as the days they may stand for, so a month-precision date
matches a day range inside that month (loosely).
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from .settings import Settings

__all__ = ["Timeframe", "date_span", "parse_timeframe", "today_of"]


def today_of(settings: Settings) -> date:
    """The date questions are asked on: ``settings.today`` when fixed, else the real date (the one
    place the clock is read)."""
    return settings.today if settings.today is not None else date.today()


@dataclass(frozen=True)
class Timeframe:
    """A question's time expression: the days it selects (``start``..``end``, inclusive; None when
    it names none), whether it asks for the newest news (``latest``; then ``end`` is at most
    today even without a start), and the question without the expression's words (the whole
    question when it has none)."""

    start: date | None
    end: date | None
    latest: bool
    text_without_expression: str
    expression: str = ""
    named_end: date | None = None  # the named period's last day: ``end`` without the days news of it is told after

    @property
    def active(self) -> bool:
        """Whether the question had a time expression search can use."""
        return self.latest or self.start is not None

    @property
    def has_range(self) -> bool:
        return self.start is not None and self.end is not None

    @property
    def names_period(self) -> bool:
        """Whether it names days of its own ("ayer", "esta semana"), not only "the latest"."""
        return self.has_range and not self.latest

    def contains(self, article_date: str | None) -> bool:
        """Whether an article's date may fall inside the range (loosely for month or year dates);
        an undated article never does."""
        span = date_span(article_date)
        if span is None or not self.has_range:
            return False
        return span[0] <= self.end and span[1] >= self.start  # type: ignore[operator]


# --------------------------------------------------------------------------- article dates

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def date_span(value: str | None) -> tuple[date, date] | None:
    """'2019-05-12' → (12 May, 12 May); '2019-05' → (1 May, 31 May); '2019' → the year; else None."""
    m = _ISO.match(value or "")
    if not m:
        return None
    try:
        year = int(m[1])
        if m[3]:
            day = date(year, int(m[2]), int(m[3]))
            return day, day
        if m[2]:
            month = int(m[2])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


# --------------------------------------------------------------------------- the grammar

_PREP = r"(?:sobre|de|del|acerca de|en torno a|respecto a|con|en)"
_MONTH = (r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre"
          r"|diciembre)")
# Short month names as people type them ("el 4 de dic"); only after a day number, where "mar" is March.
_MONTH_ABBR = r"(?:ene|feb|mar|abr|jun|jul|ago|sep|sept|oct|nov|dic)\.?"
_WEEKDAY = r"(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo)"
_YEAR = r"(?:19[89]\d|20[0-4]\d)"
# A month or a year named in a question is often when the event happened; the news of it may be
# published a few days later ("¿Cuántos migrantes llegaron a Italia en 2020?", told on 4 January).
REPORT_GRACE_DAYS = 7
_DAY = r"(?:[12]\d|3[01]|0?[1-9]|primero|1o|1º)"
_NUMBER_WORDS = {"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
                 "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15,
                 "veinte": 20, "treinta": 30}
_NUMBER = r"(?:\d{1,3}|un par de|" + "|".join(_NUMBER_WORDS) + ")"
_UNIT = r"(?:dias?|semanas?|mes(?:es)?|anos?)"

# Asking for the newest news: the flag, and these words (with the preposition that tied them
# to the topic) leave the text.
_LATEST = [
    rf"\b(?:(?:que|cual) (?:es|son|hay de|se sabe de|sabes de) )?lo (?:mas )?(?:ultimo|reciente|nuevo)"
    rf"(?: (?:que (?:hay|se sabe|sabemos) )?{_PREP})?\b",
    rf"\b(?:(?:las|los) )?(?:ultimas|ultimos) (?:noticias|novedades|informaciones|articulos)(?: {_PREP})?\b",
    rf"\b(?:(?:las|los) )?(?:noticias|novedades|informaciones|articulos) mas recientes(?: {_PREP})?\b",
    rf"\b(?:(?:la|el) )?(?:noticia|articulo|novedad|informacion) mas reciente(?: {_PREP})?\b",
    rf"\b(?:(?:la|el) )?(?:ultima|ultimo) (?:noticia|articulo|novedad|informacion)(?: {_PREP})?\b",
    rf"\bque hay de nuevo(?: {_PREP})?\b",
    r"\b(?:recientemente|ultimamente)\b",
]
# (pattern, kind); the first that matches (left to right among kinds, in this order) is used.
_DATES = [
    ("relative", r"\b(?:(?:en|durante) )?(?:esta semana(?! santa)|la semana (?:pasada|anterior)|la pasada semana"
                 r"|este mes|el mes (?:pasado|anterior)|el pasado mes|este ano|el ano (?:pasado|anterior)"
                 r"|el pasado ano)\b"),
    ("weekend", r"\b(?:(?:en|durante) )?(?:este|el) (?:pasado )?(?:fin de semana|finde)(?: pasado)?\b"),
    ("recent", rf"\b(?:(?:en|durante) )?(?:la ultima semana|los ultimos {_NUMBER} dias|los ultimos dias"
               rf"|estos (?:ultimos )?dias)\b"),
    ("recent", r"\bhace (?:unos|pocos|algunos) dias\b"),
    ("numeric", r"\b(?:(?:el|del) (?:dia )?|dia )(?:[12]\d|3[01]|0?[1-9])/(?:1[0-2]|0?[1-9])(?:/(?:\d{4}|\d{2}))?\b"),
    ("month_of_year", rf"\b(?:(?:en|durante|desde|de) )?(?:(?:el )?mes de )?{_MONTH} (?:de|del) (?:ano pasado|pasado ano"
                  rf"|este ano|ano anterior)\b"),
    ("ago", rf"\bhace (?:(?:unos|unas) )?{_NUMBER} {_UNIT}\b"),
    ("day_month", rf"\b(?:(?:desde )?(?:el|del) )?(?:(?:pasado|dia) )?(?:{_WEEKDAY} )?{_DAY} de (?:{_MONTH}|{_MONTH_ABBR})"
                  rf"(?: (?:de|del) (?:ano )?{_YEAR})?\b"),
    ("month", rf"\b(?:(?:en|durante|desde|de) )?(?:(?:el )?mes de )?{_MONTH} (?:de|del) (?:ano )?{_YEAR}\b"),
    ("month", rf"\b(?:(?:en|durante|desde) (?:el mes de )?|(?:el|este) (?:pasado )?mes de |el pasado ){_MONTH}\b"),
    ("year", rf"\b(?:en|durante|desde) (?:el )?(?:ano )?{_YEAR}\b"),
    ("year", rf"\bel ano {_YEAR}\b"),
    ("weekday", rf"\b(?:el|este) (?:pasado )?{_WEEKDAY}(?: pasado)?\b"),
    ("day", r"\b(?:hoy|ayer|anteayer|antier|antes de ayer|anoche|esta (?:manana|tarde|noche))\b"),
]
_LATEST_RE = [re.compile(p) for p in _LATEST]
_DATES_RE = [(kind, re.compile(p)) for kind, p in _DATES]
_CANONICAL_DAY = {"antier": "anteayer", "antes de ayer": "anteayer", "anoche": "ayer", "esta manana": "hoy",
                  "esta tarde": "hoy", "esta noche": "hoy"}


def _fold(text: str) -> str:
    """Lower case without accents, one character per character of ``text`` (spans map back)."""
    return "".join(unicodedata.normalize("NFD", ch.lower())[0] for ch in text)


def _is_name(text: str, start: int) -> bool:
    """A capitalised word inside a sentence is a name ("el programa Hoy", "Plaza de Mayo")."""
    word = text[start:].lstrip()
    if not word or not word[0].isupper():
        return False
    before = text[:start].rstrip()
    return bool(before) and before[-1] not in "¿¡.!?:;\"'«(\n"


def _find(patterns: list[tuple[str, re.Pattern]], original: str, folded: str) -> tuple[str, re.Match] | None:
    """The leftmost match of any pattern that is not a name (ties: the longest)."""
    found: list[tuple[int, int, str, re.Match]] = []
    for kind, pattern in patterns:
        for m in pattern.finditer(folded):
            words = m.group(0).split(" ")
            # The time word itself must not be a capitalised name ("Hoy", "Mayo", "Domingo").
            last = m.start() + len(m.group(0)) - len(words[-1])
            if _is_name(original, last) or (kind == "day" and folded[: m.start()].endswith("en ")):
                continue
            found.append((m.start(), -(m.end() - m.start()), kind, m))
            break
    if not found:
        return None
    _, _, kind, m = min(found, key=lambda f: (f[0], f[1]))
    return kind, m


# --------------------------------------------------------------------------- resolution


@lru_cache(maxsize=8)
def _parser(today: date):
    """A dateparser parser for Spanish, relative to ``today`` (the import is paid on first use)."""
    from dateparser.date import DateDataParser

    base = datetime(today.year, today.month, today.day, 12)
    return DateDataParser(languages=["es"], settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"})


def _for_dateparser(kind: str, words: str) -> str:
    """The matched words as dateparser reads them: no articles or prepositions around, numbers in digits."""
    if words in _CANONICAL_DAY:
        return _CANONICAL_DAY[words]
    words = re.sub(r"^(?:desde |en |durante |de |del |el |este |esta |la |dia |pasado |mes de |ano )+", "", words)
    words = re.sub(r"(?: pasado)$", "", words) if kind == "weekday" else words
    words = re.sub(r"\b(?:unos|unas) ", "", words)
    words = re.sub(r"\b(primero|1o|1º)\b", "1", words)
    words = re.sub(r"\b(?:del|de) ano\b", "de", words).replace(" del ", " de ")
    if kind == "day_month":
        words = re.sub(rf"^(?:el |pasado |dia )*{_WEEKDAY} ", "", words)
    if kind == "day_month":
        words = re.sub(rf"\b({_MONTH_ABBR[3:-4]})\b\.?", lambda m: _MONTH_NAMES[m[1]], words)
    if kind == "ago":
        words = words.replace("un par de", "2")
        words = re.sub(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", lambda m: str(_NUMBER_WORDS[m[1]]), words)
    return words


def _span(day: date, period: str) -> tuple[date, date]:
    """The days a resolved date stands for, by its period."""
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


_MONTH_NAMES = {"ene": "enero", "feb": "febrero", "mar": "marzo", "abr": "abril", "jun": "junio", "jul": "julio",
                "ago": "agosto", "sep": "septiembre", "sept": "septiembre", "oct": "octubre", "nov": "noviembre",
                "dic": "diciembre"}
_MONTH_NUMBER = {name: i for i, name in enumerate(
    ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre",
     "diciembre"], 1)} | {"setiembre": 9}


def _weekend(today: date) -> tuple[date, date]:
    """The last Saturday and Sunday up to today (this one when asked on a weekend)."""
    sunday = today + timedelta(days=6 - today.weekday()) if today.weekday() >= 5 else \
        today - timedelta(days=today.weekday() + 1)
    return sunday - timedelta(days=1), min(sunday, today)


def _recent(words: str, today: date) -> tuple[date, date]:
    """"Los últimos 3 días" (the number given), "la última semana", "hace unos días" (a week): the
    days up to today."""
    count = re.search(r"ultimos (\d{1,3}|\w+) dias", words)
    number = count[1] if count else ""
    days = int(number) if number.isdigit() else _NUMBER_WORDS.get(number, 7)
    return today - timedelta(days=days), today


def _numeric(words: str, today: date) -> tuple[date, date] | None:
    """"El 4/12" (day first, as in Spanish), the last such day up to today, or "4/12/2020"."""
    m = re.search(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", words)
    if not m:
        return None
    day, month = int(m[1]), int(m[2])
    try:
        if m[3]:
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            found = date(year, month, day)
        else:
            found = date(today.year, month, day)
            if found > today:
                found = date(today.year - 1, month, day)
    except ValueError:
        return None
    return found, found


def _month_of_year(words: str, today: date) -> tuple[date, date]:
    """"Marzo del año pasado", "marzo de este año": that month (``_resolve`` lets it reach a few
    days past its end, as any month named)."""
    name = next(n for n in _MONTH_NUMBER if re.search(rf"\b{n}\b", words))
    year = today.year if "este ano" in words else today.year - 1
    month = _MONTH_NUMBER[name]
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


_COMPUTED = {"weekend": lambda words, today: _weekend(today), "recent": _recent, "numeric": _numeric,
             "month_of_year": _month_of_year}


def _resolve(kind: str, words: str, today: date) -> tuple[date, date, date] | None:
    """The range of one matched expression and the last day of the period it names (the range
    of a month or a year reaches a few days past it), or None when dateparser cannot read it."""
    if kind in _COMPUTED:  # spans dateparser has no period for (a weekend, the last days) or misreads
        computed = _COMPUTED[kind](words, today)
        if computed is None:
            return None
        start, named_end = computed
        grace = REPORT_GRACE_DAYS if kind == "month_of_year" else 0  # a month named reaches past its end
        return _capped(start, named_end + timedelta(days=grace), named_end, today)
    if kind == "relative":  # "la semana pasada", "este mes": keep the article dateparser expects
        phrase = re.sub(r"^(?:en|durante) ", "", words)
        phrase = {"la pasada semana": "la semana pasada", "el pasado mes": "el mes pasado",
                  "el pasado ano": "el ano pasado", "la semana anterior": "la semana pasada",
                  "el mes anterior": "el mes pasado", "el ano anterior": "el ano pasado"}.get(phrase, phrase)
    else:
        phrase = _for_dateparser(kind, words)
    data = _parser(today).get_date_data(re.sub(r"\bano\b", "año", phrase))
    if data is None or data.date_obj is None:
        return None
    found = data.date_obj.date()
    if kind == "weekday" and words.startswith("este ") and (today - found).days == 7:
        found = today  # "el lunes" said on a Monday is last week's; "este lunes", today
    period = data.period or "day"
    start, named_end = _span(found, period)
    end = named_end
    if period in ("month", "year"):
        end += timedelta(days=REPORT_GRACE_DAYS)  # "en 2020": told in the first days of 2021 too
    if words == "anoche":
        end = today  # last night's news may be dated today
    if words.startswith("desde "):
        end = named_end = today
    return _capped(start, end, named_end, today)


def _capped(start: date, end: date, named_end: date, today: date) -> tuple[date, date, date]:
    """The range and its period's last day, neither past today (when the range begins by today)."""
    if start > today:
        return start, end, named_end
    return start, min(end, today), min(named_end, today)


def _remove(text: str, spans: list[tuple[int, int]]) -> str:
    """The question without the given spans, tidied (spaces, a comma or preposition left dangling)."""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([?!.,;:])", r"\1", text)
    text = re.sub(r"([¿¡])\s+", r"\1", text)
    text = re.sub(r"^[,;:]\s*|(?<=[¿¡])[,;:]\s*", "", text.strip())
    return re.sub(r",([?!.])", r"\1", text).strip()


@lru_cache(maxsize=256)
def parse_timeframe(question: str, today: date) -> Timeframe:
    """The question's time expression relative to ``today`` (see the module docstring).

    A question without one comes back unchanged, with no range and ``latest`` False. Read once
    per question and day: the bot reads a message's expression to tell "noticias de ayer" from a
    question, and ``ask`` reads it again (a ``Timeframe`` is frozen, so it is shared).
    """
    folded = _fold(question)
    spans: list[tuple[int, int]] = []
    words: list[str] = []
    latest = _find([("latest", p) for p in _LATEST_RE], question, folded)
    if latest is not None:
        spans.append(latest[1].span())
        words.append(question[slice(*latest[1].span())])
    start = end = named_end = None
    dated = _find(_DATES_RE, question, folded)
    if dated is not None and not any(a < dated[1].end() and dated[1].start() < b for a, b in spans):
        kind, m = dated
        resolved = _resolve(kind, m.group(0), today)
        if resolved is not None:
            start, end, named_end = resolved
            spans.append(m.span())
            words.append(question[slice(*m.span())])
    if not spans:
        return Timeframe(None, None, False, question)
    if latest is not None and end is None:
        end = today  # the newest up to today: a replayed archive has no later articles yet
    return Timeframe(start, end, latest is not None, _remove(question, spans), " … ".join(words), named_end)
