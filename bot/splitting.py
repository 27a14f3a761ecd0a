"""Split message text to Telegram's limit without breaking its HTML.

Telegram refuses a message over 4096 UTF-16 code units (we count the raw markup, which is
stricter than Telegram's count of the visible text) and refuses HTML with unbalanced tags or a
cut entity. ``split_message`` cuts at the best boundary it can find (paragraph, line,
sentence, word), closes the tags open at the cut and reopens them in the next part.
"""
from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"^</?\s*([A-Za-z][A-Za-z0-9-]*)")
_SENTENCE_END = ".!?…:;»\")"
_PRIORITIES = ("para", "line", "sentence", "word", "any")


def html_to_plain(text: str) -> str:
    """Drop tags and unescape entities: the fallback when Telegram still rejects the HTML."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text))


def _cut(text: str, limit: int, as_html: bool) -> tuple[str, str]:
    """Split ``text`` into a head of at most ``limit`` UTF-16 units (closing any open tags)
    and a rest (re-opening them), at the best boundary: paragraph, line, sentence, word."""
    used = 0
    stack: list[tuple[str, str]] = []  # (tag name, raw opening tag)
    closing = 0  # UTF-16 cost of closing everything open
    best: dict[str, tuple[int, tuple[tuple[str, str], ...]]] = {}
    min_used = limit // 3
    prev = ""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if as_html and len(tok) > 1 and tok[0] == "<":
            name_m = _TAG_NAME.match(tok)
            name = name_m[1].lower() if name_m else ""
            cost = utf16_len(tok)
            if tok.startswith("</"):
                if stack and stack[-1][0] == name:
                    stack.pop()
                    closing -= len(name) + 3
            elif not tok.endswith("/>"):
                if used + cost + closing + len(name) + 3 > limit:
                    break
                stack.append((name, tok))
                closing += len(name) + 3
            used += cost
            continue
        if as_html and len(tok) > 1 and tok[0] == "&":
            cost = utf16_len(tok)
            if used + cost + closing > limit:
                break
            used += cost
            best["any"] = (m.end(), tuple(stack))
            prev = "x"
            continue
        stop = False
        for i, ch in enumerate(tok):
            cost = 2 if ord(ch) > 0xFFFF else 1
            if used + cost + closing > limit:
                stop = True
                break
            used += cost
            pos = m.start() + i + 1
            if ch == "\n":
                kind = "para" if prev == "\n" else "line"
            elif ch == " ":
                kind = "sentence" if prev and prev in _SENTENCE_END else "word"
            else:
                kind = "any"
            if kind == "any" or used >= min_used:
                best[kind] = (pos, tuple(stack))
            prev = ch
        if stop:
            break
    for kind in _PRIORITIES:
        if kind in best:
            pos, open_tags = best[kind]
            break
    else:
        # Nothing fits (a single tag longer than the limit): fall back to escaped plain text.
        plain = html.escape(html_to_plain(text), quote=False) if as_html else text
        if plain == text:
            return text[: max(1, limit // 2)], text[max(1, limit // 2):]
        return _cut(plain, limit, as_html)
    head = text[:pos].rstrip() + "".join(f"</{name}>" for name, _ in reversed(open_tags))
    rest = text[pos:].lstrip()
    if rest and open_tags:
        rest = "".join(raw for _, raw in open_tags) + rest
    if as_html and not html_to_plain(rest).strip():
        rest = ""
    return head, rest


def split_message(
    text: str, limit: int = TELEGRAM_LIMIT, *, as_html: bool = True, max_parts: int = 4
) -> list[str]:
    """Split into messages of at most ``limit`` UTF-16 units, never inside a tag or entity,
    preferring paragraph, then line, then sentence, then word boundaries. Beyond
    ``max_parts`` the last part is cut short and marked with '…'."""
    text = text.strip()
    parts: list[str] = []
    while text:
        if utf16_len(text) <= limit:
            parts.append(text)
            break
        if len(parts) == max_parts - 1:
            head, _ = _cut(text, limit - 2, as_html)
            parts.append(head + " …")
            break
        head, text = _cut(text, limit, as_html)
        if head.strip():
            parts.append(head)
    return [p for p in parts if (html_to_plain(p) if as_html else p).strip()]
