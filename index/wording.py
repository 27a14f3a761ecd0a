"""The words for an answer's outcome, shared by every front end (``python -m index ask`` here,
the Telegram bot and its console in ``bot/``).

Why a module of its own: the CLI and the bot used to word the same outcome differently ("No
está en los artículos." against "No lo encuentro en los artículos."), so a user saw two
answers to one question. Only messages that both front ends show live here; each front end
keeps its own chrome (the bot's other messages are in ``bot.wording``). ``index`` never
imports ``bot``, so the shared words sit on this side and the bot re-exports them.
"""
from __future__ import annotations

import re
from datetime import date

from .gist import more_request
from .noise import strip_noise

__all__ = ["ALSO_IN", "CLOSEST_IN_ARTICLE", "CLOSEST_TITLES", "DATE", "MONTHS", "MONTH_DATE", "NEEDS_SUBJECT",
           "NOT_FOUND", "not_in_article", "outside_dates", "spanish_date", "spanish_month"]

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
# The story was found but does not state what was asked: say so, naming the article.
NOT_IN_ARTICLE = "El artículo «{title}» habla de esto, pero no dice {what}."
NOT_IN_ARTICLE_VAGUE = "El artículo «{title}» habla de esto, pero no dice lo que preguntas."
# "¿Qué más dice?" once the story has been read to its end.
NOTHING_MORE = "El artículo «{title}» no dice nada más."
# Heads the article's closest sentence, shown as context (never as the answer).
CLOSEST_IN_ARTICLE = "Lo más cercano que dice:"
# On a source line: the other outlets that carry the same story (index.duplicates).
ALSO_IN = "También en:"
# Before an answer from other dates: the question's time expression found nothing about it.
OUTSIDE_DATES = "No encuentro nada sobre esto con esa fecha («{expression}»). Lo más cercano, de otra fecha:"

# Dates as a reader sees them: an article's on its source line, a relative date's in an answer.
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)
DATE = "{day} de {month} de {year}"
MONTH_DATE = "{month} de {year}"  # known only to the month


def spanish_date(day: date) -> str:
    """'1 de febrero de 2021'."""
    return DATE.format(day=day.day, month=MONTHS[day.month - 1], year=day.year)


def spanish_month(month: date) -> str:
    """'febrero de 2021'."""
    return MONTH_DATE.format(month=MONTHS[month.month - 1], year=month.year)


def outside_dates(expression: str) -> str:
    """'No encuentro nada sobre esto con esa fecha («ayer»)…': said before the answer, so a reader
    never takes a story of another day for the one asked about."""
    return OUTSIDE_DATES.format(expression=" ".join(expression.split()))

# Question words that carry an accent in an indirect question ("no dice cuántos años…").
_ACCENTED = {"que": "qué", "quien": "quién", "quienes": "quiénes", "cuando": "cuándo", "donde": "dónde",
             "adonde": "adónde", "como": "cómo", "cuanto": "cuánto", "cuanta": "cuánta", "cuantos": "cuántos",
             "cuantas": "cuántas", "cual": "cuál", "cuales": "cuáles"}
_LEADING = re.compile(r"^(?:y|e|pero|entonces|oye|bueno)\s+", re.IGNORECASE)
_QUESTION_WORD = re.compile(r"^(?:(?:a|de|en|por|para|con|desde|hasta|hace)\s+)?(\w+)", re.IGNORECASE)


def not_in_article(title: str, question: str) -> str:
    """'El artículo «…» habla de esto, pero no dice cuántos misiles ha enviado…': the question
    turned into an indirect one; a question without a question word is not reworded. Asked for
    more of a story read to its end: 'El artículo «…» no dice nada más.'"""
    if more_request(strip_noise(question)):
        return NOTHING_MORE.format(title=title)
    what = _indirect(question)
    if not what:
        return NOT_IN_ARTICLE_VAGUE.format(title=title)
    return NOT_IN_ARTICLE.format(title=title, what=what)


def _indirect(question: str) -> str:
    text = _LEADING.sub("", question.strip().strip("¿?¡! ").strip())
    match = _QUESTION_WORD.match(text)
    if not match or match.group(1).lower() not in _ACCENTED and match.group(1).lower() not in _ACCENTED.values():
        return ""
    word = match.group(1)
    accented = _ACCENTED.get(word.lower(), word.lower())
    text = text[: match.start(1)].lower() + accented + text[match.end(1):]
    if text.lower().startswith("por qué") or text.lower().startswith("por que"):
        text = "por qué" + text[7:]
    return " ".join(text.split())
