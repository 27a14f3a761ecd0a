"""Bad input through the real bot and the fake Bot API server: odd, hostile or non-text
messages each get one short, polite Spanish reply, or are ignored by design (empty text,
another bot's command, edits). Never an apology for an internal error, never an exception
reaching the error handler, never a call the server (i.e. Telegram) would reject.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import pytest

from bot.wording import ADMIN_ONLY, NOT_A_QUESTION, ONLY_TEXT, SORRY
from tests.support.bot import ANA, SENTINEL_USER, serving
from tests.support.fake_engine import FakeEngine
from tests.support.fake_telegram import BOT_USERNAME, FakeTelegram

ANSWERED = "📰 El Gobierno aprueba la ley de vivienda"  # the source line under an answer from article a1
NOT_FOUND = "No lo encuentro en los artículos."
HELP = "Pregúntame lo que quieras saber de los artículos"

Send = Callable[[FakeTelegram], object]


def text(value: str) -> Send:
    return lambda fake: fake.send_text(value, user_id=ANA)


def edited(value: str) -> Send:
    """An edit of an earlier message (the fake delivers it even though it is not requested)."""
    def send(fake: FakeTelegram) -> object:
        original = {"message_id": 1, "from": fake.user(ANA), "chat": fake.private_chat(ANA), "date": 0,
                    "text": "hola"}
        return fake.edit_text(original, value)
    return send


def exact(reply: str) -> tuple[str, str]:
    return ("exact", reply)


def starts(reply: str) -> tuple[str, str]:
    return ("starts", reply)


def has(reply: str) -> tuple[str, str]:
    return ("has", reply)


IGNORED = None

CASES = [
    # empty, blank, no words
    pytest.param(text(""), IGNORED, id="empty-text"),
    pytest.param(text("   "), exact(NOT_A_QUESTION), id="spaces"),
    pytest.param(text("\n\t \n"), exact(NOT_A_QUESTION), id="newlines-and-tabs"),
    pytest.param(text("😀"), exact(NOT_A_QUESTION), id="single-emoji"),
    pytest.param(text("😀" * 2048), exact(NOT_A_QUESTION), id="4096-units-of-emoji"),
    pytest.param(text("?!¿¡…"), exact(NOT_A_QUESTION), id="only-punctuation"),
    pytest.param(text("/"), exact(NOT_A_QUESTION), id="lone-slash"),
    # very long
    pytest.param(text("x" * 4096), starts(NOT_FOUND), id="4096-chars-of-junk"),
    pytest.param(text(("ley de vivienda " * 300)[:4096]), has(ANSWERED), id="4096-chars-question"),
    # markup metacharacters: sent back only escaped, never as markup
    pytest.param(text("<b>ley</b> de vivienda </a> <script>alert(1)</script>"), has(ANSWERED), id="html-tags"),
    pytest.param(text("&amp; &lt;b&gt; &bogus; &#x27; ley de vivienda &"), has(ANSWERED), id="html-entities"),
    pytest.param(text("*ley* de _vivienda_ [enlace](http://x) `alquiler` ||spoiler||"), has(ANSWERED),
                 id="markdown"),
    pytest.param(text("*_[]()~`>#+-=|{}.!<>&"), exact(NOT_A_QUESTION), id="only-metacharacters"),
    # invisible, bidi and control characters
    pytest.param(text("\u200b\u200d¿Qué\u202e limita\u2066 la ley de vivienda?\u200f\u2069"), has(ANSWERED),
                 id="zero-width-and-bidi"),
    pytest.param(text("\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\ufeff"), exact(NOT_A_QUESTION),
                 id="only-invisible"),
    pytest.param(text("ما هو قانون السكن؟"), starts(NOT_FOUND), id="right-to-left-script"),
    pytest.param(text("¿Qué limita\x00 la ley\x07 de\x1b[31m vivienda?\x7f\r\x0b"), has(ANSWERED),
                 id="control-characters"),
    pytest.param(text("\x00\x01\x02\x1b\x7f"), exact(NOT_A_QUESTION), id="only-control-characters"),
    # commands with missing or junk arguments
    pytest.param(text("/buscar"), starts("Dime qué buscar"), id="buscar-alone"),
    pytest.param(text("/buscar 😀😀"), starts("Dime qué buscar"), id="buscar-emoji"),
    pytest.param(text("/buscar <b>inflación</b> &amp; *_[]"), starts("Pasajes para «<b>inflación</b> &amp; *_[]»"),
                 id="buscar-markup"),
    pytest.param(text("/buscar " + "inflación " * 400), starts("Pasajes para «inflación"), id="buscar-4000-chars"),
    pytest.param(text("/fuentes abc"), has("página 1 de 2"), id="fuentes-junk"),
    pytest.param(text("/fuentes -3"), has("página 1 de 2"), id="fuentes-negative"),
    pytest.param(text("/fuentes 99999999999999999999"), has("página 1 de 2"), id="fuentes-huge"),
    pytest.param(text("/fuentes 5"), has("página 2 de 2"), id="fuentes-past-the-end"),
    pytest.param(text("/start@OtherBot"), IGNORED, id="start-for-another-bot"),
    pytest.param(text(f"/start@{BOT_USERNAME} <b>junk</b> %s {{}}"), starts("Hola. Respondo"), id="start-junk"),
    pytest.param(text("/ayuda ¿¿?? <i>"), starts(HELP), id="ayuda-junk"),
    pytest.param(text("/nuevo 123 abc"), starts("Listo, empezamos de cero"), id="nuevo-junk"),
    pytest.param(text("/estado ya"), exact(ADMIN_ONLY), id="admin-command-by-user"),
    pytest.param(text("/borrartodo ya"), exact("No conozco el comando /borrartodo. Prueba /ayuda."),
                 id="unknown-command"),
    pytest.param(text("/x<b>&amp;"), exact("No conozco el comando /x<b>&amp;. Prueba /ayuda."),
                 id="unknown-command-markup"),
    # not a new text message
    pytest.param(edited("¿Quién ganó la Liga?"), IGNORED, id="edited-message"),
    pytest.param(lambda fake: fake.send_sticker(user_id=ANA), exact(ONLY_TEXT), id="sticker"),
    pytest.param(lambda fake: fake.send_photo(user_id=ANA), exact(ONLY_TEXT), id="photo"),
    pytest.param(lambda fake: fake.send_photo(user_id=ANA, caption="¿Qué limita la ley de vivienda?"),
                 exact(ONLY_TEXT), id="photo-with-question-caption"),
    pytest.param(lambda fake: fake.send_voice(user_id=ANA), exact(ONLY_TEXT), id="voice"),
    pytest.param(lambda fake: fake.send_location(user_id=ANA), exact(ONLY_TEXT), id="location"),
]


@pytest.mark.parametrize(("send", "expected"), CASES)
async def test_bad_input_gets_a_polite_reply_or_is_ignored(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    send: Send, expected: tuple[str, str] | None,
) -> None:
    caplog.set_level(logging.WARNING)
    engine = FakeEngine()
    async with serving(fake, engine, tmp_path):
        send(fake)
        if expected is not None:
            await fake.wait_for("sendMessage", 1, where=lambda c: c.params["chat_id"] == ANA)
        fake.send_text("/ayuda", user_id=SENTINEL_USER)  # handled after ``send``'s update: then all is done
        await fake.wait_for("sendMessage", 1, where=lambda c: c.params["chat_id"] == SENTINEL_USER)

    assert fake.failed_calls() == []  # nothing Telegram would reject (HTML, length, empty text...)
    visible = [m["text"] for m in fake.bot_messages(ANA)]  # what the user sees, after Telegram's parsing
    assert all(SORRY not in t for t in visible)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "an exception reached the error handler"
    if expected is None:
        assert visible == [] and engine.asks == [] and engine.searches == []
        return
    assert len(visible) == 1, visible
    mode, reply = expected
    if mode == "exact":
        assert visible[0] == reply
    elif mode == "starts":
        assert visible[0].startswith(reply), visible[0][:200]
    else:
        assert reply in visible[0], visible[0][:200]
    assert len(visible[0]) <= 2000  # short: one message, never a wall of text
