"""Canonical article text and titles, and the hash a rebuild compares.

Equal content must give equal chunks and hashes whatever file it came from: Unicode is
composed (NFC), invisible and control characters go, blanks collapse, paragraphs are one
line each, and lines that only link to another article are the site's navigation, not text.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata

from .sentences import split_sentences

TITLE_MAX_CHARS = 120
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")
_INVISIBLE = re.compile(r"[\ufeff\u00ad\u200b\u2060]")  # BOM, soft hyphen, zero widths
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Cc but \t\n (\v\f\r are breaks)
_SPACES = re.compile(r"[^\S\n]+")  # any blank but newline: tabs, NBSP, thin spaces
# A line that only points to another article ("Vea también …", "Lee también: …", "Te puede
# interesar: …") is the site's navigation, not the article: kept, it was shown as a passage and
# answered "¿Dónde?" with another story's headline. A long line starting so holds article text
# that lost its line breaks, and stays.
_LINK_LINE = re.compile(
    r"^(vea|lea|lee|mira) tambi[eé]n\b|^(tambi[eé]n )?te puede interesar\b|^noticias? relacionadas?\b", re.IGNORECASE)
LINK_LINE_MAX_CHARS = 160


def normalise_text(text: str, drop_links: bool = True) -> str:
    """Canonical article text, so equal content gives equal chunks and hashes.

    NFC composes accents (so tokens match), control characters and runs of blanks go, and
    paragraphs end up separated by exactly one newline; lines that only link to another
    article go (see ``_LINK_LINE``).
    """
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = CONTROL.sub("", _LINE_BREAKS.sub("\n", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line and not (drop_links and is_link_line(line)))


def is_link_line(line: str) -> bool:
    return len(line) <= LINK_LINE_MAX_CHARS and bool(_LINK_LINE.match(line))


def normalise_title(title: str) -> str:
    """Titles are shown on one line, so every line break becomes a space."""
    return normalise_text(title, drop_links=False).replace("\n", " ")


def content_hash(title: str, text: str, date: str | None, url: str | None,
                 source: str | None) -> str:
    """Hash of what an article says, so a rebuild can tell changed articles from unchanged."""
    payload = {"title": title, "text": text, "date": date, "url": url, "source": source}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def title_from_text(text: str) -> str:
    """A headline for an article that has none: its first sentence, cut to fit one line."""
    paragraph = text.split("\n", 1)[0]
    sentences = split_sentences(paragraph)
    sentence = sentences[0].text if sentences else paragraph
    if sentence.endswith(".") and not sentence.endswith(".."):
        sentence = sentence[:-1]  # headlines carry no final period
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence
    cut = sentence[: TITLE_MAX_CHARS - 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cut.rstrip(" ,;:-–—") + "…"
