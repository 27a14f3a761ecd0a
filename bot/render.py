"""Turn answers, hits and index facts into message text: Telegram HTML or console plain text.

Every message is written once against a small ``Format`` (escape, bold, link, ...) so the
console and Telegram show the same words. Article text is untrusted: it is always escaped
with ``html.escape`` (and cleaned of control characters) before it meets any markup, and
``split_message`` (``bot.splitting``) keeps each message within Telegram's 4096 UTF-16
units without ever cutting inside a tag or an entity. The words come from ``bot.wording``;
this module only lays them out. Buttons and their keyboards are in ``bot.buttons``.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Sequence

from index.records import Answer, Hit, Passage
from index.relative_dates import dated
from index.timeframe import date_span


from . import wording
from .buttons import Keyboard
from .cleaning import clean_text
from .splitting import TELEGRAM_LIMIT, html_to_plain, split_message, utf16_len

__all__ = [
    "Reply", "Format", "HTML", "TEXT", "TELEGRAM_LIMIT", "split_message", "html_to_plain", "utf16_len",
]


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class Reply:
    """One message to send; ``text`` is already in the transport's format (HTML or plain)."""

    text: str
    buttons: Keyboard = ()


# --------------------------------------------------------------------------- text helpers


def trim(text: str, max_chars: int) -> str:
    """Shorten plain text at a sentence (else word) boundary, marking the cut with '…'."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    for marks in ((". ", "! ", "? ", "… "), (" ",)):
        pos = max(cut.rfind(m) for m in marks)
        if pos > max_chars // 2:
            return cut[: pos + 1].rstrip() + " …"
    return cut.rstrip() + "…"


def format_date(value: str | None) -> str:
    """'2024-03-05…' → '5 de marzo de 2024'; '2024-03' (only the month known) → 'marzo de 2024';
    anything else is shown as given (the ISO date read as ``timeframe.date_span`` reads it)."""
    if not value:
        return ""
    span = date_span(value.strip())
    if span and span[0] == span[1]:
        return wording.spanish_date(span[0])
    if span and span[0].month == span[1].month:
        return wording.spanish_month(span[0])
    return value.strip()


# --------------------------------------------------------------------------- formats


class Format:
    """Markup primitives; subclasses decide how (or whether) to mark text up."""

    html = False

    def esc(self, text: str) -> str:
        return clean_text(text)

    def bold(self, text: str) -> str:
        return text

    def italic(self, text: str) -> str:
        return text

    def link(self, label: str, url: str) -> str:
        return f"{label}: {clean_text(url)}"

    def mark(self, text: str) -> str:
        """Highlight an (already escaped) answer span inside a passage."""
        return text


class HtmlFormat(Format):
    """Telegram's HTML parse mode: only <b>, <i>, <a href> and the four named entities."""

    html = True

    def esc(self, text: str) -> str:
        # quote=False: Telegram knows &quot; but not &#x27;, and quotes are harmless in text.
        return html.escape(clean_text(text), quote=False)

    def bold(self, text: str) -> str:
        return f"<b>{text}</b>"

    def italic(self, text: str) -> str:
        return f"<i>{text}</i>"

    def link(self, label: str, url: str) -> str:
        href = html.escape(clean_text(url), quote=False).replace('"', "&quot;")
        return f'<a href="{href}">{label}</a>'

    def mark(self, text: str) -> str:
        return f"<b>{text}</b>"


class TextFormat(Format):
    """The console: plain text, answers marked with ** like Markdown."""

    def mark(self, text: str) -> str:
        return f"**{text}**"


HTML = HtmlFormat()
TEXT = TextFormat()


# --------------------------------------------------------------------------- pieces


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if not re.match(r"^https?://[^\s<>\"]+$", url) or len(url) > 1000:
        return None
    return url


def also_in(item: object, fmt: Format) -> str:
    """'También en: Outlet B, Outlet C': the other outlets of a hit's or a listed article's story,
    linked in HTML when they have a link (the console shows the names only: its source line
    already has one link)."""
    names = []
    for other in getattr(item, "also_in", ()):
        name = fmt.esc(trim(other.source, 60))
        url = _safe_url(other.url)
        names.append(fmt.link(name, url) if url and fmt.html else name)
    return f"{wording.ALSO_IN} " + ", ".join(names) if names else ""


def source_line(hit: Hit, fmt: Format, number: int | None = None) -> str:
    """'1. <b>Title</b>' then 'Outlet · 5 de marzo de 2024 · link · También en: …' (unknown parts left out)."""
    title = fmt.bold(fmt.esc(trim(hit.title or wording.UNTITLED, 300)))
    head = f"{number}. {title}" if number is not None else f"📰 {title}"
    details = [fmt.esc(trim(hit.source, 100)) if hit.source else "", fmt.esc(format_date(hit.date))]
    url = _safe_url(hit.url)
    if url:
        details.append(fmt.link(wording.OPEN_ARTICLE, url))
    details.append(also_in(hit, fmt))
    details = [d for d in details if d]
    return head + ("\n" + " · ".join(details) if details else "")


def highlighted(passage: Passage, fmt: Format, max_chars: int = 1500) -> str:
    """The passage text, escaped piece by piece, with the answer spans marked."""
    text = passage.hit.text or ""
    spans = sorted(
        (max(0, s), min(len(text), e)) for s, e in passage.highlight if min(len(text), e) > max(0, s)
    )
    pieces: list[str] = []
    pos = 0
    for start, end in spans:
        start = max(start, pos)
        if end <= start:
            continue
        pieces.append(fmt.esc(text[pos:start]))
        pieces.append(fmt.mark(fmt.esc(text[start:end])))
        pos = end
    pieces.append(fmt.esc(text[pos:]))
    body = "".join(pieces).strip()
    if len(text) > max_chars and not spans:
        body = fmt.esc(trim(text, max_chars))
    return body


def passage_block(passage: Passage, fmt: Format, number: int, mark: bool = False) -> str:
    """One passage: its source line and its text (answer marked when ``mark``)."""
    if mark:
        body = highlighted(passage, fmt)
    else:
        body = fmt.esc(trim(passage.hit.text or "", 900))
    return f"{source_line(passage.hit, fmt, number)}\n{fmt.italic(body) if not mark else body}"


# --------------------------------------------------------------------------- messages


def answer_text(answer: Answer, sources: Sequence[int], fmt: Format) -> str:
    """The answer sentence(s) first, then one source line per supporting passage."""
    note = f"{fmt.italic(fmt.esc(wording.outside_dates(answer.outside_dates)))}\n" if answer.outside_dates else ""
    if answer.outcome == "not_in_article":
        return note + not_in_article_text(answer, sources, fmt)
    if not answer.answered:
        return refusal_text(answer, fmt)
    lines = [note + fmt.esc(dated(answer.answer.strip(), answer) or "…")]
    if sources:
        lines.append("")
        numbered = len(sources) > 1
        for i, idx in enumerate(sources, 1):
            lines.append(source_line(answer.passages[idx].hit, fmt, i if numbered else None))
    return "\n".join(lines)


def not_in_article_text(answer: Answer, sources: Sequence[int], fmt: Format) -> str:
    """The story was found but does not say what was asked: say so, naming the article, and show
    its closest sentence apart, as context and never as the answer, with the article's source."""
    title = answer.passages[sources[0]].hit.title if sources else (answer.closest_titles or ("",))[0]
    lines = [fmt.esc(wording.not_in_article(trim(title, 200), answer.question))]
    if answer.closest.strip():
        closest = dated(trim(answer.closest.strip(), 500), answer)
        lines += ["", wording.CLOSEST_IN_ARTICLE, fmt.italic(fmt.esc(f"«{closest}»"))]
    if sources:
        lines += ["", source_line(answer.passages[sources[0]].hit, fmt)]
    return "\n".join(lines)


def refusal_text(answer: Answer, fmt: Format) -> str:
    """The polite 'not found', with the closest titles so the user can rephrase."""
    if answer.needs_subject:
        return fmt.esc(wording.NEEDS_SUBJECT)
    lines = [wording.NOT_FOUND]
    titles = [t for t in answer.closest_titles if t and t.strip()][:5]
    if titles:
        lines.append("")
        lines.append(wording.CLOSEST_TITLES)
        lines.extend(f"• {fmt.esc(trim(t, 200))}" for t in titles)
    lines.append("")
    lines.append(wording.REPHRASE)
    return "\n".join(lines)


def passages_text(passages: Sequence[Passage], first_number: int, fmt: Format, title: str) -> str:
    """A page of further passages, numbered from ``first_number``."""
    blocks = [fmt.bold(fmt.esc(title))]
    for i, passage in enumerate(passages, first_number):
        blocks.append(passage_block(passage, fmt, i))
    return "\n\n".join(blocks)


def passage_text(passage: Passage, fmt: Format) -> str:
    """One source passage with the answer highlighted."""
    return f"{source_line(passage.hit, fmt)}\n\n{highlighted(passage, fmt)}"


def hits_text(query: str, hits: Sequence[Hit], fmt: Format) -> str:
    """/buscar: the passages that match, best first, without an extracted answer."""
    if not hits:
        return wording.NO_PASSAGES.format(query=fmt.esc(trim(query, 100)))
    blocks = [wording.PASSAGES_FOR.format(query=fmt.esc(trim(query, 100)))]
    for i, hit in enumerate(hits, 1):
        blocks.append(f"{source_line(hit, fmt, i)}\n{fmt.italic(fmt.esc(trim(hit.text or '', 600)))}")
    return "\n\n".join(blocks)


def sources_text(articles: Sequence[object], page: int, pages: int, total: int, fmt: Format) -> str:
    """/fuentes: one page of the indexed articles, newest first."""
    if not articles:
        return wording.NO_ARTICLES
    head = wording.ARTICLES_PAGE.format(total=total, page=page, pages=pages)
    return "\n".join([head, ""] + [article_line(art, fmt) for art in articles])


def article_line(art: object, fmt: Format) -> str:
    """One listed story: its title (linked), outlet and date, and its other outlets."""
    title = fmt.esc(trim(getattr(art, "title", "") or wording.UNTITLED, 200))
    url = _safe_url(getattr(art, "url", None))
    label = fmt.link(title, url) if url and fmt.html else title
    meta = [fmt.esc(trim(getattr(art, "source", "") or "", 80)), fmt.esc(format_date(getattr(art, "date", None)))]
    meta = [m for m in meta if m]
    line = f"• {label}" + (f" ({', '.join(meta)})" if meta else "")
    others = also_in(art, fmt)
    if others:
        line += f" · {others}"
    if url and not fmt.html:
        line += f"\n  {clean_text(url)}"
    return line


def latest_text(page: object, fmt: Format) -> str:
    """/ultimas [tema]: one page of the newest articles (about the topic, if one was given; of
    the dates its time expression names, if it had one: "noticias de ayer")."""
    about = fmt.esc(trim(getattr(page, "about", ""), 80))
    dates = fmt.esc(trim(getattr(page, "dates", ""), 80))
    articles = getattr(page, "articles", ())
    if not articles:
        if about:
            return wording.NO_LATEST_ABOUT.format(about=f"{about}», «{dates}" if dates else about)
        return wording.NO_LATEST_DATED.format(dates=dates) if dates else wording.NO_ARTICLES
    numbers = {"total": getattr(page, "total", 0), "page": getattr(page, "page", 1), "pages": getattr(page, "pages", 1)}
    if dates:
        head = (wording.LATEST_ABOUT_DATED_PAGE.format(about=about, dates=dates, **numbers) if about
                else wording.LATEST_DATED_PAGE.format(dates=dates, **numbers))
    else:
        head = (wording.LATEST_ABOUT_PAGE.format(about=about, **numbers) if about
                else wording.LATEST_PAGE.format(**numbers))
    return "\n".join([head, ""] + [article_line(art, fmt) for art in articles])


def start_text(info: object, fmt: Format) -> str:
    """/start: what the bot knows (from engine.info()) and how to ask."""
    lo, hi = format_date(getattr(info, "date_min", None)), format_date(getattr(info, "date_max", None))
    if lo and hi and lo != hi:
        span = wording.SPAN_FROM_TO.format(first=fmt.esc(lo), last=fmt.esc(hi))
    else:
        span = wording.SPAN_FROM.format(first=fmt.esc(lo)) if lo else ""
    example = fmt.italic(wording.EXAMPLE_QUESTION)
    return wording.START.format(articles=getattr(info, "articles", 0), span=span, example=example)


def building_text(fmt: Format) -> str:
    """/start while the index is still being built (first run): what is happening and how
    to ask once it is ready."""
    return wording.START_BUILDING.format(example=fmt.italic(wording.EXAMPLE_QUESTION))


def help_text(fmt: Format, admin: bool = False) -> str:
    """/ayuda: the commands; the admin ones only for admins (the others cannot run them)."""
    blocks = [wording.HELP, wording.HELP_ADMIN] if admin else [wording.HELP]
    return "\n\n".join([*blocks, wording.HELP_GROUPS])


def status_text(info: object, stats: dict[str, object], fmt: Format) -> str:
    """/estado (admins): index facts (``info`` None: no index loaded yet) and the bot's counters."""
    rows: list[tuple[str, object]] = [(wording.STATUS_INDEX, wording.STATUS_INDEX_BUILDING)] if info is None else [
        (wording.STATUS_ARTICLES, getattr(info, "articles", "?")),
        (wording.STATUS_CHUNKS, getattr(info, "chunks", "?")),
        (wording.STATUS_BUILT_AT, getattr(info, "built_at", "?")),
        (wording.STATUS_MODEL, getattr(info, "model", "?")),
        (wording.STATUS_PATH, getattr(info, "path", "?")),
    ]
    rows += list(stats.items())
    return fmt.bold(wording.STATUS) + "\n" + "\n".join(f"{k}: {fmt.esc(str(v))}" for k, v in rows)


# --------------------------------------------------------------------------- replies


def replies(text: str, fmt: Format, keyboard: Keyboard = ()) -> list[Reply]:
    """``text`` as messages within Telegram's limit; the buttons go under the last part."""
    parts = split_message(text, as_html=fmt.html) or ["…"]
    return [Reply(p, keyboard if i == len(parts) - 1 else ()) for i, p in enumerate(parts)]
