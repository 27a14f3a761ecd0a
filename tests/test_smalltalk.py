"""Which messages are small talk, not questions."""
from __future__ import annotations

import pytest

from bot.smalltalk import reply_for
from bot.wording import ACKNOWLEDGED, GOODBYE, GREETING, THANKS


@pytest.mark.parametrize(("text", "reply"), [
    ("gracias", THANKS), ("¡Muchas gracias!", THANKS), ("gracias!! jaja", THANKS), ("Ok, gracias", THANKS),
    ("Hola", GREETING), ("holaaa", GREETING), ("Buenos días", GREETING), ("buenas noches 🙂", GREETING),
    ("adiós", GOODBYE), ("Hasta luego!", GOODBYE), ("ok", ACKNOWLEDGED), ("Vale.", ACKNOWLEDGED),
])
def test_small_talk_gets_its_reply(text: str, reply: str) -> None:
    assert reply_for(text) == reply


@pytest.mark.parametrize("text", ["hola, ¿qué acusa EE. UU.?", "¿Por qué dan las gracias?", "gracias a quién",
                                  "¿Qué acusa EE. UU.?", "buenas prácticas", "Hasta luego, Lucas", "", "2024"])
def test_a_question_is_not_small_talk(text: str) -> None:
    assert reply_for(text) is None
