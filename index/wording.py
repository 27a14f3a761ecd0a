"""The words for an answer's outcome, shared by every front end (``python -m index ask`` here,
the Telegram bot and its console in ``bot/``).

Why a module of its own: the CLI and the bot used to word the same outcome differently ("No
está en los artículos." against "No lo encuentro en los artículos."), so a user saw two
answers to one question. Only messages that both front ends show live here; each front end
keeps its own chrome (the bot's other messages are in ``bot.wording``). ``index`` never
imports ``bot``, so the shared words sit on this side and the bot re-exports them.
"""
from __future__ import annotations

__all__ = ["CLOSEST_TITLES", "NEEDS_SUBJECT", "NOT_FOUND"]

# The articles do not hold the answer.
NOT_FOUND = "No lo encuentro en los artículos."
# Heads the titles of the articles that came closest, after NOT_FOUND.
CLOSEST_TITLES = "Lo más parecido que tengo:"
# The question names nothing to look for and follows no earlier question ("¿Por qué?" first).
NEEDS_SUBJECT = (
    "¿Sobre qué? Tu pregunta no nombra ningún tema que pueda buscar en los artículos.\n\n"
    "Pregúntame con el tema, por ejemplo: «¿Qué acusa EE. UU.?». Después puedes seguir "
    "con «¿Por qué?» o «¿Cuándo?»."
)
