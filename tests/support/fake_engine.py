"""A deterministic stand-in for ``index.Engine`` so bot tests run without a model or an index.

``FakeEngine.ask`` answers by plain word overlap with a few canned Spanish articles (one
has a title full of ``<``, ``&`` and emoji, to prove escaping). It records every call so
tests can check what the bot passed (e.g. the follow-up history).
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Sequence

from index.latest import LatestPage, news_listing, page_of
from index.records import Answer, ArticleInfo, Hit, IndexInfo, Passage, Turn

TODAY = date(2024, 6, 3)  # the fake's "today": "noticias de ayer" asks for 2 June 2024
NASTY_TITLE = 'Precios <b>sin</b> control & "récords" 📈🔥 <script>alert(1)</script> & más'

_STOP = {
    "el", "la", "los", "las", "un", "una", "de", "del", "en", "y", "o", "que", "qué", "a", "al",
    "por", "para", "con", "se", "su", "sus", "es", "lo", "cuál", "cuando", "cuándo", "quién",
    "como", "cómo", "ha", "han", "fue", "sobre", "más",
}


@dataclass(frozen=True)
class FakeArticle:
    id: str
    title: str
    text: str
    date: str | None
    url: str | None
    source: str | None


ARTICLES: tuple[FakeArticle, ...] = (
    FakeArticle(
        "a1",
        "El Gobierno aprueba la ley de vivienda",
        "El Consejo de Ministros aprobó el martes la nueva ley de vivienda. La norma limita la "
        "subida del alquiler al tres por ciento durante 2024. Los propietarios con más de diez "
        "pisos serán considerados grandes tenedores.",
        "2024-03-05",
        "https://example.com/vivienda?a=1&b=2",
        "El Diario",
    ),
    FakeArticle(
        "a2",
        "El Real Madrid gana la Liga",
        "El Real Madrid se proclamó campeón de Liga el domingo en el Bernabéu. El equipo "
        "blanco venció al Cádiz por tres goles a cero. Ancelotti celebró su quinto título.",
        "2024-05-04",
        "https://example.com/liga",
        "Deportes Hoy",
    ),
    FakeArticle(
        "a3",
        NASTY_TITLE,
        "La inflación <subió> al 3,4 % & los precios de la electricidad marcaron récords. "
        "El Banco de España advirtió de riesgos. Los alimentos subieron un 7 % interanual.",
        "2024-02-01",
        None,
        "Economía & Co <SA>",
    ),
    FakeArticle(
        "a4",
        "Lluvias torrenciales en Valencia",
        "Una DANA dejó lluvias torrenciales en Valencia el miércoles. Se registraron más de "
        "300 litros por metro cuadrado en Chiva. Protección Civil activó la alerta roja.",
        None,
        "https://example.com/dana",
        None,
    ),
) + tuple(
    FakeArticle(
        f"r{i:02d}",
        f"Noticia de relleno número {i}",
        f"Texto de relleno {i}. Sirve para paginar las fuentes.",
        f"2023-01-{i:02d}",
        None,
        "Relleno",
    )
    for i in range(1, 11)
)


def _words(text: str) -> set[str]:
    text = unicodedata.normalize("NFC", text.lower())
    return {w for w in re.findall(r"\w+", text) if len(w) > 2 and w not in _STOP}


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in re.finditer(r"[.!?](\s+|$)", text):
        spans.append((start, m.start() + 1))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@dataclass
class AskCall:
    question: str
    history: tuple[Turn, ...]
    top_k: int | None


@dataclass
class FakeEngine:
    """Implements the ``index.Engine`` query interface over ``ARTICLES``."""

    articles: Sequence[FakeArticle] = ARTICLES
    reload_result: bool = False
    asks: list[AskCall] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    latests: list[str] = field(default_factory=list)
    reloads: int = 0
    fail_with: Exception | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _hits(self, question: str) -> list[tuple[int, Hit]]:
        query = _words(question)
        scored = []
        for art in self.articles:
            for n, (start, end) in enumerate(_sentences(art.text)):
                text = art.text[start:end]
                overlap = len(query & (_words(text) | _words(art.title)))
                if overlap:
                    hit = Hit(art.id, f"{art.id}#{n}", art.title, text, float(overlap), art.url,
                              art.source, art.date, start, end)
                    scored.append((overlap, hit))
        scored.sort(key=lambda pair: (-pair[0], pair[1].chunk_id))
        return scored

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        with self._lock:
            self.asks.append(AskCall(question, tuple(history), top_k))
        if self.fail_with is not None:
            raise self.fail_with
        resolved = question
        if history and len(_words(question)) < 2:  # a follow-up like "¿y cuándo?"
            resolved = f"{history[-1].question} {question}"
        scored = self._hits(resolved)[: top_k or 5]
        if not scored or scored[0][0] < 1:
            return Answer(question, False, "", resolved_query=resolved,
                          closest_titles=tuple(a.title for a in self.articles[:3]))
        best = scored[0][1]
        passages = [Passage(best, ((0, len(best.text)),))] + [Passage(h) for _, h in scored[1:]]
        if "cuántos" in question.lower() and not any(ch.isdigit() for ch in best.text):
            # As the real engine does: the story is found, but it gives no number.
            return Answer(question, False, "", tuple(passages), resolved, float(scored[0][0]), (best.title,),
                          outcome="not_in_article", closest=best.text)
        return Answer(question, True, best.text, tuple(passages), resolved, confidence=float(scored[0][0]))

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        with self._lock:
            self.searches.append(question)
        return [hit for _, hit in self._hits(question)[: top_k or 5]]

    def info(self) -> IndexInfo:
        dates = sorted(a.date for a in self.articles if a.date)
        return IndexInfo("fake-index", len(self.articles), sum(len(_sentences(a.text)) for a in self.articles),
                         "2024-06-01T00:00:00+00:00", "fake-model", dates[0] if dates else None,
                         dates[-1] if dates else None)

    def list_articles(self, offset: int = 0, limit: int = 10) -> list[ArticleInfo]:
        ordered = sorted(self.articles, key=lambda a: (a.date or "", a.id), reverse=True)
        return [ArticleInfo(a.id, a.title, a.date, a.url, a.source) for a in ordered[offset: offset + limit]]

    def latest(self, about: str = "", page: int = 1, size: int = 10) -> LatestPage:
        """As ``Engine.latest``: the articles sharing a word with ``about`` (all without one), newest first."""
        with self._lock:
            self.latests.append(about)
        query = _words(about)
        chosen = [a for a in self.articles if not query or query & (_words(a.title) | _words(a.text))]
        ordered = sorted(chosen, key=lambda a: (a.date or "", a.id), reverse=True)
        infos = [ArticleInfo(a.id, a.title, a.date, a.url, a.source) for a in ordered]
        return page_of(about, infos, len(infos), page, size)

    def news_topic(self, question: str) -> str | None:
        """As ``Engine.news_topic``, on the fake's fixed day (``TODAY``)."""
        return news_listing(question, TODAY)

    def reload_if_changed(self) -> bool:
        with self._lock:
            self.reloads += 1
        return self.reload_result
