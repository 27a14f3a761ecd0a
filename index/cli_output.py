"""Plain-text renderings of hits and answers for the command line (JSON lives on the records).

An answer's outcome is worded as in the bot (``index.wording``); the layout is the CLI's own.
"""
from __future__ import annotations

from .latest import LatestPage
from .records import AlsoIn, Answer, Hit
from .relative_dates import dated
from .wording import (
    ALSO_IN, CLOSEST_IN_ARTICLE, CLOSEST_TITLES, NEEDS_SUBJECT, NOT_FOUND, not_in_article, outside_dates,
)


def also_in_text(also_in: tuple[AlsoIn, ...]) -> str:
    """'También en: Outlet B, Outlet C' (names only: the line already has its own link), or ''."""
    return f"{ALSO_IN} " + ", ".join(a.source for a in also_in) if also_in else ""


def source_line(hit: Hit) -> str:
    parts = [hit.title]
    parts += [p for p in (hit.source, hit.date, hit.url, also_in_text(hit.also_in)) if p]
    return " · ".join(parts)


def hits_text(question: str, hits: list[Hit]) -> str:
    lines = [f"? {question}"]
    for i, hit in enumerate(hits, 1):
        lines.append(f"{i}. [{hit.score:.3f}] {source_line(hit)}")
        lines.append("   " + " ".join(hit.text.split()))
    return "\n".join(lines)


def answer_text(answer: Answer) -> str:
    lines = [f"? {answer.question}"]
    if answer.outside_dates:
        lines.append(outside_dates(answer.outside_dates))
    if answer.answered:
        lines.append(dated(answer.answer, answer))
        if answer.passages:
            lines.append("Fuente: " + source_line(answer.passages[0].hit))
    elif answer.needs_subject:
        lines.append(NEEDS_SUBJECT)
    elif answer.outcome == "not_in_article" and answer.passages:
        lines.append(not_in_article(answer.passages[0].hit.title, answer.question))
        if answer.closest:
            lines.append(f"{CLOSEST_IN_ARTICLE} {dated(answer.closest, answer)}")
        lines.append("Fuente: " + source_line(answer.passages[0].hit))
    else:
        lines.append(NOT_FOUND)
        if answer.closest_titles:
            lines.append(f"{CLOSEST_TITLES} " + "; ".join(answer.closest_titles))
    return "\n".join(lines)


def latest_text(page: LatestPage) -> str:
    """``python -m index latest``: one line per article, newest first, then where the page is."""
    lines = [" · ".join(p for p in (a.date or "(sin fecha)", a.title, a.source, a.url, also_in_text(a.also_in)) if p)
             for a in page.articles]
    about = (f" sobre «{page.about}»" if page.about else "") + (f", «{page.dates}»" if page.dates else "")
    lines.append(f"({page.total} artículos{about}; página {page.page} de {page.pages})")
    return "\n".join(lines)
