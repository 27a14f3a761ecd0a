"""Cut an article into retrieval chunks: sentence windows that stay inside one paragraph.

On the seed article (data/articles/seed/), windows sliding across paragraph boundaries
buried the answer sentence mid-window and no retrieval method ranked it first; windows kept
inside paragraphs rank it first (tests/test_integration.py asks its question). So a window never crosses a newline, a section heading rides
along with the paragraph it introduces, and every offset points into ``article.text`` so
answers can be highlighted without re-searching the text.
"""
from __future__ import annotations

from dataclasses import dataclass

from .records import Article, Chunk, Sentence
from .sentences import is_heading, line_spans, split_sentences


@dataclass(frozen=True)
class _Paragraph:
    """A body paragraph: its units (sentences or pieces) and where its first chunk starts."""

    start: int  # start of the first attached heading, else of the first unit
    units: list[tuple[int, int]]


def chunk_article(article: Article, max_chars: int = 700, overlap: int = 1) -> list[Chunk]:
    """Windows of consecutive sentences of one paragraph, greedily filled up to ``max_chars``.

    Consecutive windows of a paragraph share up to ``overlap`` sentences, dropped as needed
    so that each window adds a sentence the previous one lacked. Only a single sentence
    (or a single piece of a sentence longer than 2×max_chars) may exceed the budget.
    """
    if max_chars < 1 or overlap < 0:
        raise ValueError("max_chars must be >= 1 and overlap >= 0")
    spans: list[tuple[int, int]] = []
    for paragraph in _paragraphs(article.text, max_chars):
        spans.extend(_windows(paragraph, max_chars, overlap))
    return [_chunk(article, pos, start, end) for pos, (start, end) in enumerate(spans)]


def article_sentences(article: Article) -> list[Sentence]:
    """The candidate answer sentences: every sentence except section headings."""
    headings = [(s, e) for s, e in line_spans(article.text) if is_heading(article.text[s:e])]
    return [
        sentence
        for sentence in split_sentences(article.text)
        if not any(s <= sentence.start < e for s, e in headings)
    ]


def _chunk(article: Article, position: int, start: int, end: int) -> Chunk:
    return Chunk(
        article_id=article.id,
        chunk_id=f"{article.id}#{position}",
        position=position,
        start=start,
        end=end,
        text=article.text[start:end],
        title=article.title,
    )


def _paragraphs(text: str, max_chars: int) -> list[_Paragraph]:
    """Body paragraphs with their preceding headings attached; a trailing heading stands alone."""
    paragraphs: list[_Paragraph] = []
    heading_start: int | None = None
    for start, end in line_spans(text):
        if is_heading(text[start:end]):
            heading_start = start if heading_start is None else heading_start
            continue
        units = _units(text, start, end, max_chars)
        first = units[0][0] if heading_start is None else heading_start
        paragraphs.append(_Paragraph(first, units))
        heading_start = None
    if heading_start is not None:
        tail = [(s, e) for s, e in line_spans(text) if s >= heading_start]
        paragraphs.extend(_Paragraph(s, _units(text, s, e, max_chars)) for s, e in tail)
    return paragraphs


def _units(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """The paragraph's sentences, with any sentence over 2×max_chars cut into pieces."""
    units: list[tuple[int, int]] = []
    for sentence in split_sentences(text[start:end]):
        s, e = start + sentence.start, start + sentence.end
        if e - s > 2 * max_chars:
            units.extend(_pieces(text, s, e, max_chars))
        else:
            units.append((s, e))
    return units


def _pieces(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut [start, end) at spaces into stripped pieces of at most ``max_chars`` characters."""
    pieces: list[tuple[int, int]] = []
    while start < end:
        stop = min(start + max_chars, end)
        if stop < end:
            space = text.rfind(" ", start + 1, stop + 1)
            stop = space if space > start else stop  # a word longer than max_chars: hard cut
        piece_end = stop
        while text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = stop
        while start < end and text[start].isspace():
            start += 1
    return pieces


def _windows(paragraph: _Paragraph, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy windows over the paragraph's units; each one covers at least one new unit."""
    units = paragraph.units
    windows: list[tuple[int, int]] = []
    first, done = 0, 0  # first unit of the current window; units covered so far
    while done < len(units):
        begin = paragraph.start if first == 0 else units[first][0]
        last = max(first, done)
        while last + 1 < len(units) and units[last + 1][1] - begin <= max_chars:
            last += 1
        windows.append((begin, units[last][1]))
        done = last + 1
        first = _next_first(units, first, done, overlap, max_chars)
    return windows


def _next_first(
    units: list[tuple[int, int]], previous: int, new: int, overlap: int, max_chars: int
) -> int:
    """First unit of the next window: ``overlap`` units back, fewer if they leave no room.

    Starting after ``previous`` keeps a window from swallowing the one before it.
    """
    first = max(new - overlap, previous + 1)
    while first < new and new < len(units) and units[new][1] - units[first][0] > max_chars:
        first += 1
    return first
