"""Greetings, thanks and goodbyes get a friendly reply instead of a search.

Why: "gracias" searched the articles and answered with "Muchas gracias a todas las mamás…", and
as a turn of the conversation it became the story the next follow-up leaned on. Only a message
that is nothing but such a phrase counts ("hola, ¿qué acusa EE. UU.?" is a question). The
phrases are matched here; the replies are worded in ``bot.wording``.
"""
from __future__ import annotations

import re

from index.lexical import fold

from .wording import ACKNOWLEDGED, GOODBYE, GREETING, THANKS

_PHRASES: dict[str, str] = {}
for reply, phrases in (
    (GREETING, "hola|holi|hey|buenas|buenos dias|buen dia|buenas tardes|buenas noches|saludos|que tal|hola que tal"),
    (THANKS, "gracias|muchas gracias|mil gracias|muchisimas gracias|gracias de nuevo|ok gracias|vale gracias|genial gracias|"
             "perfecto gracias|thanks|thank you"),
    (GOODBYE, "adios|chao|chau|hasta luego|hasta pronto|hasta manana|nos vemos|bye"),
    (ACKNOWLEDGED, "ok|okay|vale|perfecto|genial|entendido|de acuerdo|bien|muy bien|listo"),
):
    for phrase in phrases.split("|"):
        _PHRASES[phrase] = reply
# Repeated letters and laughter around a phrase do not make it a question ("holaaa", "gracias!! jaja").
_REPEATS = re.compile(r"(\w)\1{2,}")
_LAUGH = re.compile(r"\b(ja|je|ji|jo)+\b")


def reply_for(text: str) -> str | None:
    """The reply to a message that is only a greeting, thanks, goodbye or an "ok"; else None."""
    folded = _REPEATS.sub(r"\1", fold(text))
    folded = _LAUGH.sub(" ", folded)
    key = " ".join(re.findall(r"[^\W\d_]+", folded))
    return _PHRASES.get(key)
