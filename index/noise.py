"""Strip what is not about the question before it is analysed: markup, emoji, mentions, greetings,
and expand chat shorthand ("q", "pq", "x").

Why: "Hola, ¿qué acusa EE. UU.? 🙏", "<b>¿Qué acusa EE. UU.?</b>" or "@bot dime qué acusa EE. UU.
por favor" ask what "¿Qué acusa EE. UU.?" asks, but their extra words ("hola", "dime", "b")
weighed in the search and the refusal's coverage and flipped an answer into "not found".
Markup goes through lxml (a real parser, not a regex), entities through ``html.unescape``;
emoji and other pictographs by their Unicode category; greetings, politeness and request frames
("¿me puedes decir…?", "quisiera saber…") only at the edges of the question. When nothing
would be left, the question is kept as it was: "hola" alone is the bot's small talk, not ours.
"""
from __future__ import annotations

import html
import re
import unicodedata

import lxml.html
from lxml.etree import ParserError

_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_MENTION = re.compile(r"(?<![\w@])@\w{3,}")
# Categories that never carry a question's meaning: pictographs and symbols (So, Sk: emoji and
# their skin-tone modifiers), private-use and surrogate code points.
_DROP_CATEGORIES = frozenset({"So", "Sk", "Co", "Cs"})
_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")  # zero-width joiner, variation selectors, keycap

_A, _E, _I, _O, _U = "[aá]", "[eé]", "[ií]", "[oó]", "[uú]"
_GREETING = (rf"hola+|holi|hey|oye|buenas (?:tardes|noches)|buenas|buen{_O}s d{_I}as|saludos|"
             rf"disculpa(?: la molestia)?|perd{_O}n|perdona|una (?:pregunta|duda)|bot|amigo|amiga")
_POLITE = r"por ?favor|porfa|plis|please|gracias(?: de antemano)?"
_REQUEST = (rf"(?:me )?(?:puedes|podr{_I}as|puede|podr{_I}a|podes|sabr{_I}as) (?:decir|contar|explicar|responder)(?:me)?|"
            rf"d{_I}me|cu{_E}ntame|expl{_I}came|(?:quiero|quisiera|me gustar{_I}a|necesito) saber|"
            rf"sabes|sabe usted|(?:tengo )?una (?:pregunta|duda)")
_REQUEST = rf"(?:{_REQUEST})(?:\s+si)?"
_EDGE = r"[\s,.;:!¡¿?-]*"
_LEADING = re.compile(rf"^{_EDGE}(?:(?:{_GREETING}|{_POLITE}|{_REQUEST})\b{_EDGE})+", re.IGNORECASE)
# Only politeness ends a question: a name at the end may look like a greeting ("¿Quién es Bot?").
_TRAILING = re.compile(rf"(?:[\s,;:¡!-]*\b(?:{_POLITE})\b)+{_EDGE}$", re.IGNORECASE)
_INNER_POLITE = re.compile(rf",?\s*\b(?:{_POLITE})\b\s*,?", re.IGNORECASE)
# Chat shorthand: "q" is "que", "pq"/"xq" "por qué", "x" between words "por" ("cuánto ofreció boca x
# marchesin"); unexpanded, the question word is lost and "q" counts as a word no article uses.
_SHORTHAND = {"q": "que", "k": "que", "pq": "por qué", "xq": "por qué", "porq": "por qué", "x": "por",
              "tb": "también", "tmb": "también", "xa": "para", "pa": "para", "d": "de", "dnd": "dónde"}
# Lowercase only ("vitamina D", "el plan X" are names), but a phone capitalises the first word ("Q edad…").
_SHORT_WORD = re.compile(r"(?<![\w.@/:-])(" + "|".join(sorted(_SHORTHAND, key=len, reverse=True)) + r")(?![\w.@/:-])")
_SHORT_FIRST = re.compile(r"^[¿¡]?(Q|K|Pq|Xq)(?=\s)")


def strip_noise(question: str) -> str:
    """The question without markup, emoji, mentions or greetings around it (see module docstring)."""
    text = _without_markup(question)
    text = _MENTION.sub(" ", text)
    text = "".join(" " if _is_pictograph(ch) else ch for ch in text)
    text = " ".join(text.split())
    text = _SHORT_FIRST.sub(lambda m: _SHORTHAND[m.group(1).lower()], _SHORT_WORD.sub(lambda m: _SHORTHAND[m.group(1)], text))
    core = _strip_frames(text)
    if not any(ch.isalnum() for ch in core):
        return " ".join(question.split()) if not any(ch.isalnum() for ch in text) else text
    return core


def _without_markup(text: str) -> str:
    """Text content of pasted HTML, entities decoded; plain text passes through unchanged."""
    if _TAG.search(text):
        try:
            text = " ".join(lxml.html.fragment_fromstring(text, create_parent="div").itertext())
        except (ParserError, ValueError):
            text = _TAG.sub(" ", text)
    return html.unescape(text) if "&" in text else text


def _is_pictograph(ch: str) -> bool:
    return ch in _JOINERS or unicodedata.category(ch) in _DROP_CATEGORIES


_QUOTES = {"«": "»", '"': '"', "“": "”", "'": "'", "‘": "’"}


def _unquoted(text: str) -> str:
    """A question pasted in quotation marks ("«¿Qué acusa EE. UU.?»") without them; quotes inside
    it ("¿Qué es «la mafia del poder»?") stay."""
    if len(text) > 2 and _QUOTES.get(text[0]) == text[-1] and text[0] not in text[1:-1]:
        return text[1:-1].strip()
    return text


def _strip_frames(text: str) -> str:
    """Greetings, requests and politeness at the start or end, and "por favor" anywhere.

    The question mark is kept: "¿Hola, qué acusa EE. UU.?" still ends as a question.
    """
    ends_asking = text.rstrip().endswith("?")
    core = _LEADING.sub("", text)
    core = _TRAILING.sub("", core)
    core = _INNER_POLITE.sub(" ", core)
    core = " ".join(core.split()).strip(" ,;:-")
    core = _unquoted(core)
    if ends_asking and core and not core.endswith("?"):
        core += "?"
    if text.lstrip().startswith("¿") and core and not core.startswith("¿"):
        core = "¿" + core
    return core
