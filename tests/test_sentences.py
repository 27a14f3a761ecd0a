"""Sentence splitter: abbreviations, numbers, initials, quotes, offsets."""
from __future__ import annotations

import random

import pytest

from index.sentences import ABBREVIATIONS, is_heading, split_sentences


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # abbreviations
        ("Funcionarios de EE. UU. dijeron que sí. Luego se fueron.", 2),
        ("Funcionarios de EE.UU. dijeron que sí. Luego se fueron.", 2),
        ("Funcionarios de EE UU dijeron que sí. Luego se fueron.", 2),
        ("El Sr. Pérez llegó. La Dra. Ruiz también.", 2),
        ("La Sra. Gómez y la Srta. Ruiz hablaron con el Dr. Díaz.", 1),
        ("Habló el Lic. Martínez con el Ing. Pérez y el Prof. Sánchez.", 1),
        ("Llegaron frutas, verduras, etc. y todo se vendió.", 1),
        ("Llegaron frutas, verduras, etc. Todo se vendió.", 2),
        ("Por ejemplo, p. ej. en Madrid.", 1),
        ("Por ejemplo, p. ej. Madrid o Lima.", 1),
        ("Véase la pág. 12 y el núm. 4 del art. 27 de la ley.", 1),
        ("Asistieron aprox. 300 personas. Luego se fueron.", 2),
        ("Vive en la Av. Libertador con el Gral. San Martín.", 1),
        ("La Cía. Telefónica y Repsol S.A. firmaron. Después hablaron.", 2),
        ("Nació en el 44 a.C. y murió en el 20 d.C. en Roma.", 1),
        ("Real Madrid vs. Barcelona terminó en empate.", 1),
        ("¿Ud. Sabe? Uds. Saben.", 2),
        ("Es la ley No. 5 de este año. No. No lo es.", 3),
        ("Ocurrió en el km. 42 de la ruta. Nadie resultó herido.", 2),
        ("Firmado el 12 de ene. 2024 en Quito. Luego se publicó.", 2),
        ("Se bañaron en el mar. El agua estaba fría.", 2),
        # numbers
        ("Creció un 3.5 por ciento. Después bajó.", 2),
        ("Costó 1.000.000 de pesos. Nadie lo pagó.", 2),
        ("La reunión empieza a las 12.30 h en la sede. Todos irán.", 2),
        ("Ocurrió en 1990. 20 años después volvió.", 2),
        # initials
        ("J. R. R. Tolkien escribió libros.", 1),
        ("Lo dijo A. López en la radio. Nadie respondió.", 2),
        ("Lo firmó J.R.R. Tolkien en Oxford.", 1),
        # ellipsis
        ("Bueno... ya veremos qué pasa.", 1),
        ("Bueno… ya veremos qué pasa.", 1),
        ("Esperó... Nadie vino.", 2),
        ("Dijo que (...) No lo sabemos.", 1),
        # quotes and brackets
        ("Dijo: «Vamos. Ahora.» y se fue.", 1),
        ("Dijo: «Vamos. Ahora». Luego se fue.", 2),
        ("Dijo: “Vamos. Ahora.” y se fue.", 1),
        ('Dijo: "Vamos. Ahora." y se fue.', 1),
        ("Lo anunció (ya era tarde. Nadie lo esperaba.) el lunes.", 1),
        ("Sonó «tres veces. Luego calló. Y después otra vez.", 3),  # unclosed quote
        ("Terminó. «Ahora empieza otra cosa», dijo.", 2),
        # other punctuation
        ("¿Vienes? ¡Claro que sí! Vamos.", 3),
        ("¿Vienes? —preguntó él.", 1),
        ("Estaba listo. —Vamos —dijo.", 2),
        ("¿De verdad?! Sí.", 2),
        ("minúscula después. seguimos aquí.", 1),
    ],
)
def test_sentence_counts(text: str, expected: int) -> None:
    assert len(split_sentences(text)) == expected, texts(text)


def test_exact_splits() -> None:
    assert texts("Funcionarios de EE. UU. dijeron que sí. Luego se fueron.") == [
        "Funcionarios de EE. UU. dijeron que sí.",
        "Luego se fueron.",
    ]
    assert texts("El Sr. Pérez llegó. La Dra. Ruiz también.") == [
        "El Sr. Pérez llegó.",
        "La Dra. Ruiz también.",
    ]
    assert texts("Dijo: «Vamos. Ahora.» Luego se fue.") == ["Dijo: «Vamos. Ahora.»", "Luego se fue."]


def test_newline_is_a_hard_boundary() -> None:
    text = "Primera línea sin punto\nsegunda línea. Tercera frase.\n«Cita abierta\nsigue aquí. Otra."
    assert texts(text) == [
        "Primera línea sin punto",
        "segunda línea.",
        "Tercera frase.",
        "«Cita abierta",
        "sigue aquí.",
        "Otra.",
    ]


def test_unclosed_quote_does_not_swallow_the_paragraph() -> None:
    assert texts("Dijo «no. Luego se fue. Volvió.") == ["Dijo «no.", "Luego se fue.", "Volvió."]


def test_offsets_point_into_the_text() -> None:
    text = "  Hola, Sr. López.   ¿Cómo está?  \n\n  Bien. \n"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["Hola, Sr. López.", "¿Cómo está?", "Bien."]
    for s in spans:
        assert text[s.start : s.end] == s.text


def test_empty_text() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n \n") == []


def test_abbreviations_are_lowercase_data() -> None:
    assert isinstance(ABBREVIATIONS, frozenset)
    assert all(a == a.lower() and a.endswith(".") for a in ABBREVIATIONS)


@pytest.mark.parametrize(
    "line",
    [
        "Reforzando la cooperación militar en tiempos de conflicto",
        "La “estrecha y fructífera cooperación” entre Rusia y Corea del Norte",
        "Economía",
    ],
)
def test_headings(line: str) -> None:
    assert is_heading(line)


@pytest.mark.parametrize(
    "line",
    [
        "El Kremlin ha destacado su aprecio.",
        "¿Qué pasará ahora?",
        "Dijo: «Vamos.»",
        "Lo que dijo:",
        "",
        " ".join(["palabra"] * 15),
        "x" * 101,
    ],
)
def test_not_headings(line: str) -> None:
    assert not is_heading(line)


_PIECES = [
    "El", "Sr.", "EE.", "UU.", "etc.", "p.", "ej.", "J.", "3.5", "1.000.000", "12.30", "h",
    "Hola.", "adiós.", "¿Qué?", "¡Ya!", "...", "…", "«Vamos.", "Ahora.»", "“Sí.", "no.”",
    '"Eso.', 'es."', "(nota.", "otra.)", "—dijo", "—Luego", "mar.", "No.", "5", "a.C.",
    "casa", "Madrid", "lunes", "ñandú.", "Á.", "\n", "\n", " ", "  ", "\t", "»", "(", ")",
]


def _random_text(rng: random.Random) -> str:
    words = rng.choices(_PIECES, k=rng.randint(0, 40))
    return "".join(w + rng.choice([" ", " ", "", "  "]) for w in words)


def test_offsets_property() -> None:
    """Spans are ordered, disjoint, stripped, match their slice, stay on one line, cover all text."""
    rng = random.Random(20261124)
    for _ in range(2000):
        _check_spans(_random_text(rng))


def _check_spans(text: str) -> None:
    spans = split_sentences(text)
    covered = set()
    previous_end = 0
    for s in spans:
        assert previous_end <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip()
        assert "\n" not in s.text
        covered.update(range(s.start, s.end))
        previous_end = s.end
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
