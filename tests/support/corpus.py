"""A tiny corpus of three stories (North Korea, cooking, football) written as .txt articles:
the storage and build tests of both backends index the same files."""
from __future__ import annotations

from pathlib import Path

THREE = (
    ("a.txt", "Corea del Norte", "Estados Unidos acusa a Corea del Norte de vender misiles. El Kremlin lo niega."),
    ("b.txt", "Cocina", "La paella lleva arroz y azafrán. Se cocina en una paellera."),
    ("c.txt", "Fútbol", "El equipo ganó el partido por dos goles. La afición celebró en la plaza."),
)


def write(folder: Path, name: str, title: str, body: str) -> Path:
    """One .txt article: its title on the first line, then its text."""
    path = folder / name
    path.write_text(f"{title}\n{body}\n", encoding="utf-8")
    return path


def write_three(folder: Path) -> None:
    for name, title, body in THREE:
        write(folder, name, title, body)
