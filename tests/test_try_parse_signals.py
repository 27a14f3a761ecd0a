"""scripts/try_parse_signals.py: the parse and surface signals, on hand-built parses.

spaCy is not a project dependency, so the parse is written out here the way its Spanish
pipeline gives it (heads, parts of speech, lemmas, names); the signals read only those.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from index.lemmas import spanish_lemmas  # noqa: E402
from index.lexical import Analyzer  # noqa: E402
from try_parse_signals import NAMES, arcs, only, question_terms, signals, surface  # noqa: E402
from tune_answer import Asked  # noqa: E402


@dataclass
class Token:
    i: int
    text: str
    lemma_: str
    pos_: str
    dep_: str
    doc: "Doc" = field(repr=False, default=None)  # type: ignore[assignment]
    head_i: int = 0
    is_stop: bool = False

    @property
    def head(self) -> "Token":
        return self.doc.tokens[self.head_i]

    @property
    def like_num(self) -> bool:
        return self.text.isdigit()

    @property
    def subtree(self) -> list["Token"]:
        return [t for t in self.doc.tokens if any(a.i == self.i for a in _ancestors(t))]


@dataclass
class Span:
    tokens: list[Token]
    label_: str

    def __iter__(self):
        return iter(self.tokens)


class Doc:
    def __init__(self, rows: list[tuple[str, str, str, int, str]], names: tuple[tuple[int, int, str], ...] = ()) -> None:
        """rows: (text, lemma, part of speech, head index, dependency); names: (start, end, label)."""
        self.tokens = [Token(i, text, lemma, pos, dep, head_i=head, is_stop=pos in ("ADP", "DET", "AUX"))
                       for i, (text, lemma, pos, head, dep) in enumerate(rows)]
        for t in self.tokens:
            t.doc = self
        self.ents = [Span(self.tokens[a:b], label) for a, b, label in names]

    def __iter__(self):
        return iter(self.tokens)


def _ancestors(t: Token) -> list[Token]:
    out = [t]
    while out[-1].head.i != out[-1].i:
        out.append(out[-1].head)
    return out


# "¿Cuántas personas detuvo la policía?"
QUESTION = Doc([("Cuántas", "cuánto", "DET", 1, "det"), ("personas", "persona", "NOUN", 2, "obj"),
                ("detuvo", "detener", "VERB", 2, "ROOT"), ("la", "el", "DET", 4, "det"),
                ("policía", "policía", "NOUN", 2, "nsubj")])
# "La policía detuvo a 30 personas tras la marcha."
ANSWER = Doc([("La", "el", "DET", 1, "det"), ("policía", "policía", "NOUN", 2, "nsubj"),
              ("detuvo", "detener", "VERB", 2, "ROOT"), ("a", "a", "ADP", 5, "case"), ("30", "30", "NUM", 5, "nummod"),
              ("personas", "persona", "NOUN", 2, "obj"), ("tras", "tras", "ADP", 8, "case"), ("la", "el", "DET", 8, "det"),
              ("marcha", "marcha", "NOUN", 2, "obl")])
# "Hubo 30 heridos en la marcha, que terminó con detenciones."
DISTRACTOR = Doc([("Hubo", "haber", "VERB", 0, "ROOT"), ("30", "30", "NUM", 2, "nummod"),
                  ("heridos", "herido", "NOUN", 0, "obj"), ("en", "en", "ADP", 5, "case"), ("la", "el", "DET", 5, "det"),
                  ("marcha", "marcha", "NOUN", 0, "obl"), (",", ",", "PUNCT", 7, "punct"),
                  ("que", "que", "PRON", 8, "nsubj"), ("terminó", "terminar", "VERB", 5, "acl"),
                  ("con", "con", "ADP", 10, "case"), ("detenciones", "detención", "NOUN", 8, "obl")])


def test_arcs_count_the_dependency_path_between_two_tokens() -> None:
    assert arcs(ANSWER.tokens[4], ANSWER.tokens[5]) == 1  # 30 -> personas
    assert arcs(ANSWER.tokens[4], ANSWER.tokens[1]) == 3  # 30 -> personas -> detuvo -> policía
    assert arcs(ANSWER.tokens[2], ANSWER.tokens[2]) == 0


def test_the_question_gives_its_content_words_and_verbs_not_its_question_word() -> None:
    words, verbs = question_terms(QUESTION)
    assert {"perso", "deten", "detuv", "polic"} <= words
    assert "cuant" not in words
    assert verbs == {"deten"}


def test_a_number_that_counts_the_asked_thing_beats_one_beside_the_words_elsewhere() -> None:
    words, verbs = question_terms(QUESTION)
    near, clause, near2, verb, verb_kind = signals(ANSWER, words, verbs, "count")
    assert (near, near2, verb, verb_kind) == (1.0, 1.0, 1.0, 1.0)
    assert clause == 1.0  # every question word is under "detuvo", the number's clause
    other = signals(DISTRACTOR, words, verbs, "count")
    assert other[0] < near and other[1] < clause
    # "detenciones" names the question's verb, but it is three arcs from "30", which it does not govern
    assert other[2:] == (0.0, 1.0, 0.0)


def test_without_the_asked_kind_only_the_verb_signal_can_fire() -> None:
    words, verbs = question_terms(QUESTION)
    assert signals(ANSWER, words, verbs, "person") == (0.0, 0.0, 0.0, 1.0, 0.0)  # no name in it
    assert signals(ANSWER, words, verbs, None)[:3] == (0.0, 0.0, 0.0)


def test_a_person_is_read_from_the_names() -> None:
    doc = Doc([("Ana", "Ana", "PROPN", 2, "nsubj"), ("López", "López", "PROPN", 0, "flat"),
               ("ganó", "ganar", "VERB", 2, "ROOT"), ("el", "el", "DET", 4, "det"), ("premio", "premio", "NOUN", 2, "obj")],
              names=((0, 2, "PER"),))
    question = Doc([("Quién", "quién", "PRON", 1, "nsubj"), ("ganó", "ganar", "VERB", 1, "ROOT"),
                    ("el", "el", "DET", 3, "det"), ("premio", "premio", "NOUN", 1, "obj")])
    words, verbs = question_terms(question)
    assert signals(doc, words, verbs, "person") == (1.0, 1.0, 1.0, 1.0, 1.0)


def test_the_surface_signal_reads_the_stretch_that_holds_the_kind() -> None:
    analyzer = Analyzer("", spanish_lemmas())
    terms = set(analyzer.terms("¿Cuántas personas detuvo la policía?"))
    held = surface("Hubo heridos, y la policía detuvo a 30 personas", terms, "count", analyzer)
    apart = surface("Hubo 30 heridos, y la policía detuvo a varias personas", terms, "count", analyzer)
    assert held == 1.0 and apart == 0.0
    assert surface("La policía detuvo a 30 personas", terms, None, analyzer) == 0.0


def test_only_keeps_the_served_features_and_the_chosen_signals() -> None:
    served = 3
    row = Asked("news", "answerable", np.arange(2 * (served + len(NAMES))).reshape(2, -1).astype(float),
                np.array([True, False]), np.ones(2))
    kept = only(slice(3, 5), served)(row)
    assert kept.features.tolist() == [[0, 1, 2, 6, 7], [9, 10, 11, 15, 16]]
    assert only(slice(0, 0), served)(row).features.shape == (2, served)
