"""Messages that ask for a story rather than a fact: what it is about (its lead), and more of it.

Why: "¿De qué trata la noticia de Putin?", "¿Qué pasó con Messi?" or "resumen de lo de Piqué"
ask for no single fact. The frame's words ("trata", "noticia", "pasó", "resumen") are in no
sentence of the story, so read as a question it would be refused as off-topic, or answered
with whichever sentence happens to repeat "pasó". A news story's lead, its first passage, is
written to say what the story is about. So the question is searched by its subject alone
("Putin"), refused as any other when nothing is about it, and answered with the lead of the
story found.

"¿Qué pasó con…?", "¿Qué se sabe de…?" and "¿Qué hay de…?" may also ask about one detail of a
story ("¿Qué pasó con su laboratorio?"): they get the lead only when the story's headline is
about their subject (``LEAD_COVERAGE``); otherwise they are answered as questions. A subject
that asks something itself ("…si el nivel del agua baja?", "…, ¿cuántas dosis?") never does.
Chat puts the frame last as often as first ("Putin, ¿de qué trata?", "lo de Messi, ¿qué
pasó?"): ended by a frame, the message is read the same way.

"¿Qué más dice?", "sigue", "cuéntame más" after an answer ask for the story's next sentences
(``more_request``): the reader goes on reading, rather than being sent to whatever other
article holds "más" or "sigue".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_A, _E, _I, _O, _U = "[aá]", "[eé]", "[ií]", "[oó]", "[uú]"
_QUE = rf"qu{_E}"
_STORY = (rf"(?:(?:el|la|los|las|este|esta|ese|esa|aquel|aquella)\s+)?"
          rf"(?:art{_I}culos?|noticias?|notas?|textos?|reportajes?|historias?|informaci{_O}n|columnas?|cr{_O}nicas?|"
          rf"entrevistas?|editorial(?:es)?)")
_ABOUT = r"(?:acerca\s+de|sobre|del|de|con)"
# Frame words every frame list below shares: "de qué trata / va", "qué pasó / ha pasado…".
_IS_ABOUT = rf"de\s+{_QUE}\s+(?:se\s+)?(?:trata|tratan|va|van"
_HAPPENED = rf"(?:pas{_O}|ha\s+pasado|est{_A}\s+pasando|ocurri{_O}|ha\s+ocurrido|sucedi{_O}|ha\s+sucedido)"
# Frames that ask what a story says: the rest is its subject, whatever the story's title.
_EXPLICIT = (
    rf"{_IS_ABOUT}|habla|hablan)\s+{_STORY}",
    rf"{_QUE}\s+(?:dice|dicen|cuenta|cuentan|explica|explican|informa|informan)\s+{_STORY}",
    rf"(?:(?:hazme|haz|dame|quiero)\s+)?(?:un\s+|el\s+)?(?:resumen|res{_U}meme|resume|resumir)\b",
    rf"(?:h{_A}blame|cu{_E}ntame|expl{_I}came|dime)(?:\s+algo)?\s+(?={_ABOUT}\b)",
    rf"(?:noticias?|novedad(?:es)?|informaci{_O}n|info)\s+(?=(?:acerca\s+de|sobre|del|de)\b)",
    # "¿Hay noticias sobre Messi?", "¿Tienes algo sobre…?", "¿Qué noticias hay de…?", "¿Algo nuevo del censo?"
    (rf"(?:hay|tienes|tiene|tienen|sabes)\s+(?:alguna?s?\s+)?(?:noticias?|novedad(?:es)?|informaci{_O}n|info)\s+"
     rf"(?=(?:acerca\s+de|sobre|del|de)\b)"),
    r"(?:tienes|tiene|tienen|sabes)\s+algo(?:\s+nuevo)?\s+(?=(?:acerca\s+de|sobre|del|de)\b)",
    r"(?:hay\s+)?algo(?:\s+nuevo)?\s+(?=(?:acerca\s+de|sobre|del)\b)",
    r"algo(?:\s+nuevo)?\s+(?=de\b)",  # what "¿Sabes algo de…?" leaves once ``index.noise`` took "sabes"
    rf"{_QUE}\s+(?:noticias?|novedad(?:es)?)\s+hay\s+(?=(?:acerca\s+de|sobre|con|del|de)\b)",
)
# Frames that may ask about one detail of a story instead: the lead answers only when the story
# is about their subject ("¿De qué trata la ley?" may ask what one law of the story says).
_EVENT = (
    rf"{_IS_ABOUT})\b(?!\s+\w+(?:ad|id)[oa]s?\b)",  # not "va acusado"
    # the past asks for an event; "¿Qué pasa con la picadura…?" asks what a thing does, a fact
    rf"{_QUE}\s+{_HAPPENED}\s+(?=(?:con|en|entre)\b)",
    rf"{_QUE}\s+(?:onda|tal)\s+(?=con\b)",
    rf"{_QUE}\s+se\s+sabe\s+(?=(?:acerca\s+de|sobre|del|de)\b)",
    rf"{_QUE}\s+hay\s+(?:de\s+nuevo\s+)?(?=(?:acerca\s+de|sobre|con|del|de)\b)",
)
# What is left of "cuéntame de…", "cuéntame lo de…" once ``index.noise`` took "cuéntame" as a
# request frame; not after "y" ("¿Y de Messi?" asks the thread's question again, of Messi).
_BARE = r"^[\s¿¡\"'«“]*(?=(?:acerca\s+de|sobre|del?|lo\s+del?)\s)"
# A question word or a condition in the subject makes it a question about a fact: "De la vacuna,
# ¿cuántas dosis…?", "¿Qué pasa con los tapones si el nivel del agua baja?". Inside the subject
# only the accented forms ask ("la mujer que subió", "lo que advierte la OMS", "lo de Messi como
# capitán" name a subject); first in it, any form does ("de donde es marchesin").
_ASKS = re.compile(r"[¿?]|\b(?:qué|quién(?:es)?|cuál(?:es)?|cómo|cuándo|dónde|cuánt[oa]s?|por\s+qu[eé]|si|cuando)\b|"
                   rf"^(?:{_QUE}|qui{_E}n\w*|cu{_A}l\w*|c{_O}mo|d{_O}nde|ad{_O}nde|cu{_A}nt\w*)\b", re.IGNORECASE)
_LEADING = r"^[\s¿¡\"'«“]*(?:y\s+|pero\s+|entonces\s+)?"
_EXPLICIT_RE = re.compile(_LEADING + "(?:" + "|".join(_EXPLICIT) + ")", re.IGNORECASE)
_EVENT_RE = re.compile(_LEADING + "(?:" + "|".join(_EVENT) + ")|" + _BARE, re.IGNORECASE)
# What introduces the subject: "de lo de Piqué", "sobre la noticia del censo", "con el tema de…".
_INTRO = re.compile(rf"^(?:\s*(?:{_ABOUT}|en|entre|lo(?!\s+que\b)|lo\s+que\s+pas{_O}|el\s+(?:tema|asunto)|"
                    rf"{_STORY})\b)+\s*", re.IGNORECASE)
# The same frames after their subject, ending the message: "Putin, ¿de qué trata?", "lo de Messi,
# ¿qué pasó?", "y lo de Piqué qué onda", "el censo, ¿qué dice la noticia?". A frame that names the
# story is explicit; the others are event frames, as when they come first.
_FRAME_LAST = re.compile(
    rf"^(?P<subject>[^¿?]*?\w[^¿?]*?)[\s,;:.-]*¿?\s*(?:"
    rf"(?P<explicit>{_IS_ABOUT}|habla|hablan)\s+{_STORY}|{_QUE}\s+(?:dice|dicen|cuenta|cuentan)\s+{_STORY})|"
    rf"{_IS_ABOUT})|{_QUE}\s+{_HAPPENED}|"
    rf"{_QUE}\s+se\s+sabe|{_QUE}\s+hay(?:\s+de\s+nuevo)?|{_QUE}\s+onda)"
    rf"(?:\s+(?:con\s+|de\s+)?(?:eso|esto|ello))?[\s?!.]*$", re.IGNORECASE)
# "y eso, ¿de qué trata?", "¿es verdad eso?" name no subject: they are left to the follow-up rules.
_POINTS_BACK = re.compile(rf"(?:eso|esto|ello|aquello|lo|{_STORY})", re.IGNORECASE)
_TRAILING = re.compile(rf"\s*(?:en\s+(?:{_STORY}|las\s+noticias))?[\s?!.¿¡\"'»”]*$", re.IGNORECASE)

LEAD_COVERAGE = 0.5  # an event frame's subject: the share of its idf weight the headline must hold


@dataclass(frozen=True)
class TopicRequest:
    """A question that asks what a story is about.

    subject: the words that name the story ("Putin"), empty for "¿Y de qué va la noticia?" (the
    conversation's story); explicit: the frame asks what the story says ("¿De qué trata…?",
    "resumen de…"), so its lead answers whatever the title; otherwise an event frame ("¿Qué
    pasó con…?") that gets the lead only when the story is about its subject."""

    subject: str
    explicit: bool


def topic_request(question: str) -> TopicRequest | None:
    """The question's topic request (cleaned by ``index.noise``), or None when it asks for a fact."""
    for pattern, explicit in ((_EXPLICIT_RE, True), (_EVENT_RE, False)):
        match = pattern.match(question)
        if match:
            subject = _subject(question[match.end():])
            if subject is not None and (explicit or any(ch.isalnum() for ch in subject)):
                return TopicRequest(subject, explicit)
            break
    return _frame_last(question)


def _frame_last(question: str) -> TopicRequest | None:
    """A frame that ends the message, after the subject it asks about ("Putin, ¿de qué trata?")."""
    match = _FRAME_LAST.match(re.sub(_LEADING, "", question, count=1))
    subject = _subject(match.group("subject")) if match else None
    if not match or not subject or only_points_back(subject):
        return None
    return TopicRequest(subject, bool(match.group("explicit")))


def only_points_back(subject: str) -> bool:
    """A subject that names nothing but the conversation's story ("eso", "la noticia")."""
    return bool(_POINTS_BACK.fullmatch(subject.strip()))


def _subject(rest: str) -> str | None:
    """What a frame leaves, without its introducing words ("de lo de", "la noticia sobre") and
    end punctuation; None when it asks something itself (``_ASKS``)."""
    subject = _TRAILING.sub("", _INTRO.sub("", rest.lstrip(" ¿¡\"'«“,;:")))
    return None if _ASKS.search(subject) else " ".join(subject.split())


def about_story(coverage: float, request: TopicRequest) -> bool:
    """Whether the story found answers the request with its lead: always for an explicit frame;
    for an event frame when the story's headline holds ``LEAD_COVERAGE`` of its subject's idf
    weight ("¿Qué pasó con Messi?" of a story titled "Messi, descartado…", not "¿Qué pasó con
    su laboratorio?" of one titled "Nikola Tesla")."""
    return request.explicit or coverage >= LEAD_COVERAGE


def latest_request(rest: str) -> TopicRequest | None:
    """What "lo último sobre…", "¿Qué hay de nuevo sobre…?" leave once ``index.timeframe`` took
    the expression away: the newest story about it, answered with its lead; None when it asks a
    question of its own ("lo último sobre la luz: ¿cuánto subió?") or names nothing. The rest is
    searched as it is ("¿las mascarillas?"), as the dates' search was tuned on."""
    subject = _subject(rest)
    return TopicRequest(rest, True) if subject and any(ch.isalnum() for ch in subject) else None


# "noticias", "últimas noticias", "¿Qué noticias hay hoy?", "¿Qué hay de nuevo?", "lo último",
# "novedades", "dame las noticias", "titulares": the news, of no subject and no day but today.
_NEWS = re.compile(
    rf"^[\s¿¡]*(?:(?:{_QUE}\s+(?:noticias|novedades)\s+hay|{_QUE}\s+hay\s+de\s+nuevo|{_QUE}\s+hay|"
    rf"{_QUE}\s+(?:pasa|{_HAPPENED})|lo\s+(?:m{_A}s\s+)?(?:{_U}ltimo|nuevo|reciente)|"
    rf"(?:hay\s+|(?:dame|dime|cu{_E}ntame|mu{_E}strame|quiero|quiero\s+ver|quiero\s+leer|ver|leer)\s+)?"
    rf"(?:las\s+|unas\s+)?(?:{_U}ltimas\s+|nuevas\s+)?(?:noticias|novedades|titulares)"
    rf"(?:\s+(?:nuevas|recientes|{_U}ltimas|del\s+d{_I}a))?)"
    rf"(?:\s+(?:de\s+)?hoy)?|(?:{_U}ltima\s+hora))[\s?!.]*$", re.IGNORECASE)


def news_request(question: str) -> bool:
    """Whether the message (cleaned by ``index.noise``) asks for the news itself, of no subject
    ("noticias", "¿Qué hay de nuevo?", "últimas noticias de hoy"): the newest stories answer it,
    not the sentence that happens to say "noticias" or "nuevo"."""
    return bool(_NEWS.match(question))


# "¿Qué más dice?", "¿Y qué más?", "más detalles", "sigue", "continúa", "¿Y después?"; what "cuéntame
# más", "dime más", "más por favor" leave once ``index.noise`` took the request frame away.
_MORE = re.compile(
    rf"^[\s¿¡]*(?:y\s+)?(?:(?:{_QUE}\s+)?m{_A}s(?:\s+(?:dice|dicen|cuenta|cuentan|sabes|sabemos|hay|pas{_O}|"
    rf"se\s+sabe|detalles|informaci{_O}n|info))?|algo\s+m{_A}s|sigue|contin{_U}a|ampl{_I}a(?:lo)?|"
    rf"(?:luego|despu{_E}s)(?:\s+{_QUE})?|{_QUE}\s+pas{_O}\s+despu{_E}s)[\s?!.¡¿]*$", re.IGNORECASE)


def more_request(question: str) -> bool:
    """Whether the question (cleaned by ``index.noise``) asks for more of the story just read."""
    return bool(_MORE.match(question))
