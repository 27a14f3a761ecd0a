"""Words that are not about the question are stripped before analysis (index.noise)."""
from __future__ import annotations

import pytest

from index.noise import strip_noise

SEED = "¿Qué acusa EE. UU.?"


@pytest.mark.parametrize("noisy", [
    f"Hola, {SEED}",
    f"hola {SEED} 🙏",
    f"<b>{SEED}</b>",
    f"<p>{SEED}</p><br/>",
    "&iquest;Qu&eacute; acusa EE.&nbsp;UU.?",
    f"@articleqa_bot {SEED}",
    f"{SEED} por favor",
    f"Buenas tardes! {SEED} gracias",
    f"Por favor, {SEED}",
    f"👋😀 {SEED} 😂😂",
    f"&laquo;{SEED}&raquo; gracias",
    f"“{SEED}”",
])
def test_noise_around_the_seed_question_is_stripped(noisy: str) -> None:
    cleaned = strip_noise(noisy)
    assert cleaned.lower().lstrip("¿") == SEED.lower().lstrip("¿")


@pytest.mark.parametrize("noisy, expected", [
    ("me puedes decir cuántos misiles envió Corea?", "cuántos misiles envió Corea?"),
    ("¿Sabes si Putin visitará Corea?", "¿Putin visitará Corea?"),
    ("quisiera saber quién ganó el festival", "quién ganó el festival"),
    ("dime quién ganó el festival, porfa", "quién ganó el festival"),
])
def test_request_frames_are_stripped(noisy: str, expected: str) -> None:
    assert strip_noise(noisy) == expected


@pytest.mark.parametrize("question", [
    SEED, "¿Quién es Bot?", "¿Qué pasó en Oye?", "¿Qué es «la mafia del poder»?", "«La mafia» y «el poder»", "¿Cuánto cuesta el euro? 3 < 5", "¿Qué dijo el 20 % de los votantes?",
])
def test_a_plain_question_is_unchanged(question: str) -> None:
    assert strip_noise(question) == question


@pytest.mark.parametrize("text", ["hola", "gracias", "👍", "???"])
def test_nothing_but_noise_is_kept_as_it_was(text: str) -> None:
    """Small talk and lone emoji are the bot's business (a friendly reply), not emptied here."""
    assert strip_noise(text) == text
