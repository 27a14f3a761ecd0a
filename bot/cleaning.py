"""Clean what users and articles send before anything reads, searches or shows it.

Why its own module: cleaning is about input, not presentation. The conversation turns a raw
message into a question with ``clean_question`` and ``has_words``; the renderer and the
console pass every untrusted text through ``clean_text`` before it meets markup or a
terminal, because Telegram rejects lone surrogates and control characters.
"""
from __future__ import annotations

import unicodedata

__all__ = ["clean_question", "clean_text", "has_words"]


def clean_text(text: str) -> str:
    """Drop what Telegram or a terminal chokes on: lone surrogates and control characters."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch in "\t\r\x0b\x0c":
            out.append(" ")
        elif unicodedata.category(ch) != "Cc":
            out.append(ch)
    return "".join(out)


def clean_question(text: str, max_chars: int) -> str:
    """Normalise a user's message into a question: no controls, no invisible format
    characters (zero-width, bidi marks), single spaces, at most ``max_chars`` characters."""
    text = unicodedata.normalize("NFC", clean_text(text or ""))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = cut[:space] if space > max_chars // 2 else cut
    return text.strip()


def has_words(text: str) -> bool:
    """A question needs at least one letter or digit (a lone emoji or '???' is not one)."""
    return any(ch.isalnum() for ch in text)
