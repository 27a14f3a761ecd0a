"""Plain, frozen dataclasses passed between the pipeline stages.

Each stage takes the previous stage's records and returns its own, so data flows one
way: Article -> Chunk -> (vectors) -> Hit -> Answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One article as ingested: normalised text plus whatever metadata the source had."""

    id: str
    title: str
    text: str
    content_hash: str
    date: str | None = None
    url: str | None = None
    source: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An input the build could not use, with a reason an operator can act on."""

    path: str
    reason: str
    line: int | None = None

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Sentence:
    """A sentence span inside an article's text (character offsets, end exclusive)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A window of consecutive sentences of one article."""

    article_id: str
    chunk_id: str
    position: int
    start: int
    end: int
    text: str
    title: str

    def embedding_text(self) -> str:
        """The title gives the model context that a mid-article window lacks."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class AlsoIn:
    """Another outlet that carries the same story (a near-duplicate article), for "También en"."""

    source: str
    url: str | None = None

    def to_json(self) -> dict:
        return {"source": self.source, "url": self.url}


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused score and its article's metadata."""

    article_id: str
    chunk_id: str
    title: str
    text: str
    score: float
    url: str | None
    source: str | None
    date: str | None
    start: int = 0
    end: int = 0
    lexical: float = 0.0
    dense: float = 0.0
    also_in: tuple[AlsoIn, ...] = ()  # the story's other outlets (index.duplicates)

    def to_json(self) -> dict:
        return {
            "article_id": self.article_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "text": self.text,
            "score": round(float(self.score), 6),
            "url": self.url,
            "source": self.source,
            "date": self.date,
            "also_in": [a.to_json() for a in self.also_in],
        }


@dataclass(frozen=True)
class Passage:
    """A hit shown to the user, with the answer's character span(s) inside its text."""

    hit: Hit
    highlight: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict:
        data = self.hit.to_json()
        data["highlight"] = [list(span) for span in self.highlight]
        return data


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, used to resolve follow-up questions."""

    question: str
    answer: str = ""
    article_ids: tuple[str, ...] = ()


OUTCOMES = ("answered", "not_in_article", "off_topic", "needs_subject")


@dataclass(frozen=True)
class Answer:
    """What `ask` returns: the extractive answer and its passages, or why there is none.

    ``outcome`` is one of ``OUTCOMES``: answered; not_in_article (the story was found but does
    not state what was asked: ``closest`` holds its nearest sentence, as context, never as the
    answer); off_topic (nothing in the articles is about it: ``closest_titles``); needs_subject
    (the question names nothing and follows nothing: "¿Por qué?" first). ``answered`` is true
    only for "answered". Left empty, ``outcome`` follows from the flags.
    """

    question: str
    answered: bool
    answer: str
    passages: tuple[Passage, ...] = ()
    resolved_query: str = ""
    confidence: float = 0.0
    closest_titles: tuple[str, ...] = field(default_factory=tuple)
    # Refused because the question names nothing to look for ("¿Por qué?") and follows no
    # earlier turn: the reply asks for the subject instead of listing unrelated titles.
    needs_subject: bool = False
    outcome: str = ""
    closest: str = ""
    # The question's time expression ("ayer") when nothing of its dates was about it: the answer
    # comes from other dates, and the reply says so before it.
    outside_dates: str = ""

    def __post_init__(self) -> None:
        if not self.outcome:
            implied = "answered" if self.answered else "needs_subject" if self.needs_subject else "off_topic"
            object.__setattr__(self, "outcome", implied)
        if self.outcome not in OUTCOMES or self.answered != (self.outcome == "answered"):
            raise ValueError(f"inconsistent answer outcome {self.outcome!r} (answered={self.answered})")

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "outcome": self.outcome,
            "answered": self.answered,
            "answer": self.answer,
            "closest": self.closest,
            "outside_dates": self.outside_dates,
            "needs_subject": self.needs_subject,
            "confidence": round(float(self.confidence), 6),
            "closest_titles": list(self.closest_titles),
            "passages": [p.to_json() for p in self.passages],
        }


@dataclass(frozen=True)
class IndexInfo:
    """What /start and /estado show about the served index."""

    path: str
    articles: int
    chunks: int
    built_at: str
    model: str
    date_min: str | None
    date_max: str | None
    stories: int | None = None  # what /fuentes lists: one per story (None: one per article)


@dataclass(frozen=True)
class ArticleInfo:
    """One indexed article as listed by /fuentes and /ultimas (newest first), a story once."""

    id: str
    title: str
    date: str | None
    url: str | None
    source: str | None
    also_in: tuple[AlsoIn, ...] = ()  # the story's other outlets: a story is listed once

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "date": self.date, "url": self.url, "source": self.source,
                "also_in": [a.to_json() for a in self.also_in]}
