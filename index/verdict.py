"""Questions that ask whether a claim is true, and where a story gives its verdict on one.

Why: "¿Es verdad que la vacuna deja estériles a las mujeres?" asks for a verdict, not a fact.
Read as a question, its best sentence is the one that repeats the claim ("…afirma que la
intención de la vacuna es esterilizar a las mujeres") from the very story whose headline says
"Es falso que…": the bot would show the rumour as if the article stated it. Fact-checking
stories say their verdict in the headline or in the first sentences ("Es un bulo.", "Sin
embargo esto es totalmente falso."); so the claim is searched on its own, and when the story
found states a verdict, the reply is that verdict (``answer.verdict_answer``). A story that
states none (an ordinary report) answers the claim as any question.
"""
from __future__ import annotations

import re
from typing import Sequence

from .gist import only_points_back

_A, _E, _I, _O, _U = "[aá]", "[eé]", "[ií]", "[oó]", "[uú]"
_TRUTH = rf"(?:verdad|cierto|real|ver{_I}dico|fals[oa]|mentira|(?:un\s+)?bulo|fake)"
_IS = rf"(?:es|ser{_A}|sera|son)"
# "¿Es verdad que…?", "es cierto q…", "¿Es un bulo que…?", "¿Es cierto lo de…?", "¿Verdad que…?"
_FIRST = re.compile(rf"^[\s¿¡\"'«“]*(?:y\s+|pero\s+)?(?:{_IS}\s+{_TRUTH}|verdad|cierto)"
                    rf"(?:\s+o\s+(?:no|{_TRUTH}))?\s+(?:que|lo\s+de(?:l)?|lo\s+que|eso\s+de\s+que)\s+(?P<claim>.+)$",
                    re.IGNORECASE)
# "lo del apagón en el Vaticano, ¿es verdad?", "la vacuna deja estéril o es fake?"
_LAST = re.compile(rf"^[\s¿¡\"'«“]*(?P<claim>.+?)[\s,;:¿]*(?:\b(?:o|u)\s+(?:{_IS}\s+)?{_TRUTH}|"
                   rf"{_IS}\s+(?:eso\s+)?{_TRUTH}(?:\s+(?:o\s+(?:no|falso|mentira)|eso))?)[\s?!.]*$", re.IGNORECASE)
_INTRO = re.compile(r"^(?:lo\s+del?|lo\s+que|eso\s+de\s+que|que)\s+", re.IGNORECASE)
# A claim that asks something itself is a question about a fact ("¿Por qué es falso?", "¿Quién
# dijo que es mentira?"): a question word first, or an accented one anywhere.
_QUESTION = re.compile(r"^(?:qu[eé]|qui[eé]n\w*|cu[aá]l\w*|c[oó]mo|d[oó]nde|ad[oó]nde|cu[aá]nt\w*|cu[aá]ndo|"
                       r"por\s+qu[eé])\b|\b(?:qué|quién(?:es)?|cuál(?:es)?|cómo|dónde|cuándo|cuánt[oa]s?)\b",
                       re.IGNORECASE)

# A verdict that the claim is false or unfounded: "Es falso que…", "Es un bulo.", "No hay
# evidencia de que…", "no existe ningún estudio", "Lo que no es cierto es…", "Desmienten a
# Trump", "ha desmentido", "el aeropuerto niega…", "Son afirmaciones erróneas", "No, no ha
# habido…". "Mentiras" in the plural names a topic ("Verdades y mentiras sobre el coronavirus"),
# "una mentira" judges.
_FALSE = re.compile(
    rf"\b(?:fals[oa]s?|bulos?|fake|engaños[oa]s?|err{_O}ne[oa]s?|mentira|desinformaci{_O}n|desm(?:ie|e|i)nt\w*|"
    rf"niega|niegan|neg{_O}|negaron|no\s+(?:es|son|era|fue)\s+(?:cierto|verdad|real|ver{_I}dico)|"
    rf"no\s+(?:hay|existe|existen)\s+(?:ning[uú]n[oa]?\s+)?(?:evidencias?|pruebas?|relaci{_O}n|datos|estudios?)|"
    rf"sin\s+(?:evidencias?|pruebas?|fundamento)|carece\s+de\s+(?:fundamento|evidencias?|pruebas?))\b|^no,",
    re.IGNORECASE)
# A verdict that it is true: "…pero es real", "sí es cierto". Not "Es cierto que a veces…", which
# concedes a point on the way to the verdict.
_TRUE = re.compile(rf"\b(?:es|son|resulta|resultó)\s+(?:real|verdad|cierto|ver{_I}dico|verdader[oa])\b(?!\s+que)",
                   re.IGNORECASE)
_ASKS = re.compile(r"\?[\"'»”’]*\s*$")
VERDICT_WITHIN = 8  # sentences from the story's start in which its verdict is looked for


def claim_request(question: str) -> str | None:
    """The claim a question asks to be confirmed (cleaned by ``index.noise``), or None when it
    asks something else. A claim that only points back ("¿es verdad eso?") is left to the
    follow-up rules."""
    match = _FIRST.match(question) or _LAST.match(question)
    if not match:
        return None
    claim = _INTRO.sub("", " ".join(match.group("claim").strip(" ¿?¡!.,;:\"'»”").split()))
    if not any(ch.isalnum() for ch in claim) or only_points_back(claim) or _QUESTION.search(claim):
        return None
    return claim


def verdict_at(title: str, sentences: Sequence[str]) -> int | None:
    """Where a story states its verdict: -1 for its headline, else the index of the sentence;
    None when it states none. A verdict that the claim is false comes before one that it is
    true (a fact-check concedes "Es cierto que…" on its way to "Lo que no es cierto es…"); the
    headline before the text; nothing that asks ("¿Es cierto que…?") is a verdict. Only the
    first ``VERDICT_WITHIN`` sentences are read: that is where a fact-check says it."""
    candidates = [(-1, title)] + list(enumerate(sentences[:VERDICT_WITHIN]))
    stated = [(i, text) for i, text in candidates if text and not _ASKS.search(text)]
    for verdict in (_FALSE, _TRUE):
        found = next((i for i, text in stated if verdict.search(text)), None)
        if found is not None:
            return found
    return None
