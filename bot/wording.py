"""Every word the bot shows a user, in Spanish, in one place.

Why: the messages were spread over the conversation, the renderer, small talk and the
console, so rewording one meant hunting for it and two screens could drift apart. Here they
are plain strings and ``str.format`` templates; ``bot.render`` and the rest add the markup and
escape what they fill in (a template never holds markup). The words for an answer's outcome
come from ``index.wording``, so ``python -m index ask`` says the same as the bot.
"""
from __future__ import annotations

# Re-exported: bot code reads every string from this module.
from index.wording import (  # noqa: F401
    ALSO_IN, CLOSEST_IN_ARTICLE, CLOSEST_TITLES, NEEDS_SUBJECT, NOT_FOUND, not_in_article, outside_dates, spanish_date,
    spanish_month,
)

# --------------------------------------------------------------------------- commands

# Registered with setMyCommands (descriptions shown by Telegram's command menu).
COMMANDS: dict[str, str] = {
    "start": "Qué sé y cómo preguntarme",
    "ayuda": "Cómo usar el bot",
    "buscar": "Buscar pasajes: /buscar texto",
    "fuentes": "Artículos que conozco",
    "ultimas": "Las noticias más recientes: /ultimas [tema]",
    "nuevo": "Empezar una conversación nueva",
}
ADMIN_COMMANDS: dict[str, str] = {
    "estado": "Estado del índice y del bot",
    "recargar": "Cargar el índice más reciente",
}

# --------------------------------------------------------------------------- short replies

NOT_ALLOWED = "Lo siento, este bot es privado y no puedo atenderte."
RATE_LIMITED = "Vas muy rápido: espera un minuto y vuelve a preguntar."
NOT_A_QUESTION = (
    "Escríbeme la pregunta con palabras, por ejemplo: «¿Qué ha pasado con los precios del alquiler?». "
    "Usa /ayuda para ver qué puedo hacer."
)
ONLY_TEXT = "Solo entiendo preguntas de texto. Escríbeme tu pregunta con palabras."
ADMIN_ONLY = "Ese comando es solo para administradores."
EXPIRED = "Esa respuesta ya no está disponible; vuelve a preguntar."
SORRY = "Lo siento, algo ha fallado. Inténtalo de nuevo en un momento."
NOT_READY = "Todavía estoy preparando el índice de artículos; prueba en un momento."
SEARCH_WHAT = "Dime qué buscar, por ejemplo: /buscar precio de la vivienda"
FRESH_START = "Listo, empezamos de cero. ¿Qué quieres saber?"
UNKNOWN_COMMAND = "No conozco el comando /{name}. Prueba /ayuda."
RELOAD_FAILED = "No he podido recargar el índice ({error}); sigo con el anterior."
RELOAD_UNCHANGED = "El índice ya estaba al día; no he cambiado nada."
RELOADED = "Índice recargado: ahora conozco {articles} artículos."

# Small talk: a message that is only a greeting, thanks, goodbye or an "ok" (``bot.smalltalk``).
GREETING = (
    "¡Hola! Pregúntame por las noticias que conozco, por ejemplo: «¿Qué acusa EE. UU.?». "
    "Usa /ayuda para ver qué puedo hacer."
)
THANKS = "¡De nada! Pregúntame lo que quieras sobre los artículos."
GOODBYE = "¡Hasta pronto! Aquí estaré cuando quieras preguntar algo más."
ACKNOWLEDGED = "De acuerdo. ¿Quieres preguntar algo más?"

# --------------------------------------------------------------------------- buttons

SHOW_PASSAGE = "Ver pasaje"
SHOW_PASSAGE_N = "Ver pasaje {number}"
MORE_PASSAGES = "Más pasajes"  # the button, and the heading of the page it posts
VOTE_UP = "👍"
VOTE_DOWN = "👎"
PAGE_BACK = "◀"
PAGE_NEXT = "▶"
VOTE_THANKS = "¡Gracias por tu opinión!"
VOTE_AGAIN = "Ya tengo tu voto, gracias."
NO_MORE_PASSAGES = "No hay más pasajes."

# --------------------------------------------------------------------------- messages

REPHRASE = "Prueba a preguntarlo de otra forma, o mira /fuentes para ver qué artículos conozco."
UNTITLED = "Sin título"
OPEN_ARTICLE = "Abrir artículo"
NO_PASSAGES = "No encuentro pasajes para «{query}»."
PASSAGES_FOR = "Pasajes para «{query}»:"
NO_ARTICLES = "Todavía no hay artículos en el índice."
ARTICLES_PAGE = "Artículos indexados ({total}), página {page} de {pages}:"
LATEST_PAGE = "Últimos artículos ({total}), página {page} de {pages}:"
LATEST_ABOUT_PAGE = "Últimos artículos sobre «{about}» ({total}), página {page} de {pages}:"
NO_LATEST_ABOUT = "No encuentro artículos sobre «{about}». Prueba con otras palabras o mira /ultimas."
# A list kept to the dates a time expression names ("noticias de ayer", "/ultimas coronavirus esta semana").
LATEST_DATED_PAGE = "Noticias «{dates}» ({total}), página {page} de {pages}:"
LATEST_ABOUT_DATED_PAGE = "Noticias sobre «{about}», «{dates}» ({total}), página {page} de {pages}:"
NO_LATEST_DATED = "No tengo noticias con esa fecha («{dates}»). Las más recientes: /ultimas"

EXAMPLE_QUESTION = "¿Qué ha anunciado el Gobierno sobre la vivienda?"
SPAN_FROM = ", del {first}"
SPAN_FROM_TO = ", del {first} al {last}"
START = (
    "Hola. Respondo preguntas sobre {articles} artículos de noticias{span}.\n\n"
    "Escríbeme una pregunta normal, por ejemplo: {example}\n"
    "Te contesto con la frase del artículo y su fuente, y puedes seguir preguntando sobre "
    "lo mismo («¿y cuándo?»).\n\n"
    "/ayuda muestra todos los comandos."
)
START_BUILDING = (
    "Hola. Respondo preguntas sobre artículos de noticias, pero todavía estoy preparando "
    "el índice de artículos; tardaré unos minutos.\n\n"
    "Cuando esté listo, escríbeme una pregunta normal, por ejemplo: {example}\n"
    "Te contestaré con la frase del artículo y su fuente.\n\n"
    "/ayuda muestra todos los comandos."
)
HELP = (
    "Pregúntame lo que quieras saber de los artículos, con tus palabras. Entiendo fechas como "
    "«ayer», «el lunes», «en enero», «en 2020» o «lo último sobre…». «¿De qué trata la noticia "
    "de…?» te da el comienzo de la noticia, y «¿qué más dice?» sigue leyéndola. «¿Es verdad que…?» "
    "te da lo que concluye la noticia que lo comprueba, si lo dice. «¿Qué hay de nuevo?» te muestra "
    "las noticias más recientes, y «noticias de ayer», las de ese día.\n\n"
    "/buscar texto — pasajes que contienen ese texto, sin respuesta resumida\n"
    "/fuentes — los artículos que conozco, los más recientes primero\n"
    "/ultimas [tema] — las noticias más recientes, sobre un tema o de una fecha si lo dices (/ultimas vacunas, "
    "/ultimas ayer)\n"
    "/nuevo — empezar de cero (olvido la conversación)\n"
    "/ayuda — esta ayuda"
)
HELP_ADMIN = (
    "Administración:\n"
    "/estado — estado del índice y del bot\n"
    "/recargar — cargar el índice más reciente"
)
HELP_GROUPS = "En grupos, mencióname o responde a uno de mis mensajes."

# /estado: a title, then "label: value" rows.
STATUS = "Estado"
STATUS_INDEX = "Índice"
STATUS_INDEX_BUILDING = "todavía en preparación"
STATUS_ARTICLES = "Artículos"
STATUS_CHUNKS = "Fragmentos"
STATUS_BUILT_AT = "Índice creado"
STATUS_MODEL = "Modelo"
STATUS_PATH = "Ruta"
STATUS_QUESTIONS = "Preguntas"
STATUS_ANSWERED = "Respondidas"
STATUS_UPTIME = "En marcha"
STATUS_LATENCY = "Latencia p50"
UPTIME = "{hours} h {minutes} min {seconds} s"
MILLISECONDS = "{ms:.0f} ms"

# --------------------------------------------------------------------------- console

BANNER = (
    "Consola de preguntas sobre los artículos. Escribe una pregunta, /ayuda para los comandos, "
    "#N para pulsar un botón y Ctrl-D para salir."
)
NO_SUCH_BUTTON = "No hay botón {label}."
