"""Sentences in which the article says that it does not know, or was not told, a fact.

"La causa del incendio sigue bajo investigación", "no proporcionará cifras", "se desconoce su
identidad": when the sentence that best matches a question says so, the article does not state
what was asked, and the honest reply is "the article does not say" with that sentence as context
(not the sentence given as if it were the answer).
"""
from __future__ import annotations

import re

from .lexical import fold

_UNSTATED = re.compile(
    r"\b((sigue|siguen|continua|continuan|permanece|permanecen|esta|estan|se encuentra|se encuentran) "
    r"(bajo|en) investigacion|se desconocen?|desconozco|desconocemos|se ignoran?|(aun |todavia )?no se sabe|"
    r"no se (ha|han) (dado a conocer|revelado|informado|precisado|especificado|confirmado|identificado|"
    r"determinado|esclarecido)|no (precisaron|preciso|especifico|especificaron|detallo|detallaron|revelo|revelaron|"
    r"dio a conocer|dieron a conocer|proporcionara|proporcionaran)|sin (precisar|especificar|revelar)|"
    r"sin dar (mas )?detalles|(no|aun no|todavia no) (hay|existe) (fecha|informacion|datos|cifras)|"
    r"(esta|estan|queda|quedan) (en suspenso|por definir|por confirmar|por determinar))\b")
_NEGATED = re.compile(r"\bno\b")


def says_unstated(question: str, sentence: str) -> bool:
    """The sentence says the fact is unknown or withheld, and the question does not ask about that
    ("¿Por qué no dará cifras?" is answered by "no proporcionará cifras", which it asks about)."""
    return not _NEGATED.search(fold(question)) and bool(_UNSTATED.search(fold(sentence)))
