"""Spanish sentence splitting with character offsets (pure Python, no model).

Answers are extracted sentence by sentence and highlighted by offset, so a wrong split
either cuts an answer in two ("EE. | UU. dijeron ...") or glues two answers together.
The rules are deliberately conservative: a break needs terminal punctuation, whitespace
and something that can start a sentence (uppercase, digit, opening mark), and is then
vetoed by abbreviations, initials and quotations. A newline is always a break, which
also resets any unbalanced quote.
"""
from __future__ import annotations

import re

from .records import Sentence

# Abbreviations (lowercase, with their dot) after which a sentence never ends, even before
# an uppercase word: titles before names, "p. ej.", references before numbers, ...
ABBREVIATIONS: frozenset[str] = frozenset(
    """
    sr. sra. srta. sres. sras. srs. dr. dra. dres. dras. lic. lcdo. lcda. ing. prof. profa.
    arq. gral. cnel. cap. tte. sgto. mons. excmo. excma. ilmo. ilma. pdte. pdta. dña. sto. sta.
    p. ej. pág. págs. pag. núm. nº. art. arts. aprox. av. avda. cía. vs. ud. uds. vd. vds.
    ee. fig. vol. ed. dpto. depto. tel. cf. op. cit. ibíd. ibid. admón. adm. col. inc.
    """.split()
)

# Abbreviations that only continue a sentence when a number follows ("No. 5", "km. 42",
# "12 ene. 2024"); before a capital they are far more often a sentence end ("el mar. El").
BEFORE_DIGIT_ABBREVIATIONS: frozenset[str] = frozenset(
    """
    no. km. kg. cm. mm. m. h. min. seg.
    ene. feb. mar. abr. may. jun. jul. ago. sep. sept. set. oct. nov. dic.
    """.split()
)

# Abbreviations that are commonly the last word of a sentence ("... con EE. UU. El
# presidente ..."): they never break before lowercase, but do before a capital or digit.
SENTENCE_FINAL_ABBREVIATIONS: frozenset[str] = frozenset(
    "etc. uu. ee.uu. s.a. s.l. a.c. d.c. ltda.".split()
)

_OPEN_CLOSE = {"«": "»", "“": "”", "‘": "’", "(": ")", "[": "]"}
_CLOSERS = "»”’\")]'"
_STARTERS = "¿¡«“‘\"'([—–-"
_DASHES = "—–-"
_CANDIDATE = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s+\S)")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")
_HEADING_END = re.compile(r"[.!?…:;][" + re.escape(_CLOSERS) + r"]*$")


def line_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of the non-blank lines (paragraphs), stripped: the unit nothing crosses."""
    return [_strip(text, m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into stripped sentence spans; every non-space character is covered."""
    sentences: list[Sentence] = []
    for start, end in line_spans(text):
        cuts = _line_breaks(text[start:end])
        for a, b in zip([0, *cuts], [*cuts, end - start]):
            s, e = _strip(text, start + a, start + b)
            if s < e:
                sentences.append(Sentence(s, e, text[s:e]))
    return sentences


def is_heading(line: str) -> bool:
    """A short line without final punctuation: a section title, not a sentence to answer with."""
    line = line.strip()
    if not line or len(line) > 100 or len(line.split()) > 14:
        return False
    return _HEADING_END.search(line) is None


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _line_breaks(line: str) -> list[int]:
    """Offsets inside one line where a new sentence starts its preceding whitespace."""
    quoted = _quoted_spans(line)
    cuts = []
    for m in _CANDIDATE.finditer(line):
        cut = m.end()
        if any(o < cut <= c for o, c in quoted):
            continue
        if _is_break(line, m.start(), m.group(), _next_visible(line, cut)):
            cuts.append(cut)
    return cuts


def _next_visible(line: str, pos: int) -> int:
    """Index of the first non-space character at or after ``pos``."""
    while line[pos].isspace():
        pos += 1
    return pos


def _quoted_spans(line: str) -> list[tuple[int, int]]:
    """(open, close) index pairs of balanced quotes/brackets; unmatched marks are ignored."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    straight: list[int] = []
    for i, ch in enumerate(line):
        if ch in _OPEN_CLOSE:
            stack.append((ch, i))
        elif ch == '"':
            straight.append(i)
        elif ch in _OPEN_CLOSE.values():
            for depth in range(len(stack) - 1, -1, -1):
                if _OPEN_CLOSE[stack[depth][0]] == ch:
                    spans.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    spans.extend(zip(straight[0::2], straight[1::2]))
    return spans


def _is_break(line: str, at: int, mark: str, nxt: int) -> bool:
    """Decide whether the punctuation ``mark`` at ``at``, followed by line[nxt], ends a sentence."""
    first = line[nxt]
    if not (first.isupper() or first.isdigit() or first in _STARTERS):
        return False
    if first in _DASHES and _next_word_is_lower(line, nxt):
        return False  # «¿Vienes? —preguntó él.» is one sentence
    if mark.startswith(("...", "…")) and at > 0 and line[at - 1] in "([":
        return False  # "(...)" marks an elision, not an end
    if mark != ".":
        return True
    return not _is_abbreviation(_token_before(line, at), first)


def _next_word_is_lower(line: str, pos: int) -> bool:
    """True when the first letter after ``pos`` is lowercase (dialogue tags after a dash)."""
    for ch in line[pos:]:
        if ch.isalpha():
            return ch.islower()
    return False


def _token_before(line: str, dot: int) -> str:
    """The word ending at the dot, dot included, without opening marks: 'EE.', 'a.C.'."""
    start = dot
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return line[start : dot + 1].lstrip(_STARTERS)


def _is_abbreviation(token: str, following: str) -> bool:
    """True when the dot ending ``token`` belongs to an abbreviation or an initial."""
    low = token.lower()
    if low in ABBREVIATIONS:
        return True
    if low in BEFORE_DIGIT_ABBREVIATIONS:
        return following.isdigit()
    if low in SENTENCE_FINAL_ABBREVIATIONS:
        return False
    return bool(_INITIALS.fullmatch(token)) and token[0].isupper()
