"""SQuAD-format evaluation: loading, per-question facts and the summary metrics."""
from __future__ import annotations

import json
from pathlib import Path

from index.engine import Engine
from index.evaluate import build_eval_index, evaluate, load_squad, split_of, summarise
from tests.support.encoder import FakeEncoder

SQUAD = {"version": "v2.0", "data": [
    {"title": "Volcanes", "paragraphs": [
        {"context": "El Etna es un volcán de Sicilia. Entró en erupción en 2021.",
         "qas": [{"id": "q1", "question": "¿Cuándo entró en erupción el Etna?",
                  "answers": [{"text": "2021", "answer_start": 52}]},
                 {"id": "q2", "question": "¿Qué color tiene la lava del Etna?", "answers": [], "is_impossible": True}]},
        {"context": "La paella lleva arroz y azafrán. Es típica de Valencia.",
         "qas": [{"id": "q3", "question": "¿De dónde es típica la paella?",
                  "answers": [{"text": "Valencia", "answer_start": 46}]}]},
    ]},
]}


def test_load_and_split(tmp_path: Path) -> None:
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    articles, questions = load_squad(path)
    assert [a["id"] for a in articles] == ["Volcanes#0", "Volcanes#1"]
    assert [q.impossible for q in questions] == [False, True, False]
    assert split_of("Volcanes") in {"tune", "holdout"} and split_of("Volcanes") == split_of("Volcanes")


def test_evaluate_end_to_end_with_fake_encoder(tmp_path: Path, fake_settings) -> None:
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    articles, questions = load_squad(path)
    settings = build_eval_index(fake_settings.model_copy(update={"refusal_threshold": 0.0, "refusal_min_coverage": 0.0}),
                                articles, tmp_path / "work", encoder=FakeEncoder())
    rows = evaluate(Engine.open(settings, FakeEncoder()), questions, k=10)
    metrics = summarise(rows, 10)
    assert metrics["answerable"] == 2 and metrics["unanswerable"] == 1
    assert metrics["paragraph"]["recall@1"] == 1.0 and metrics["paragraph"]["mrr@10"] == 1.0
    assert metrics["passage"]["recall@1"] == 1.0
    assert metrics["answer_sentence_contains_gold"] == 1.0
    assert metrics["refusal"] == {"precision": 0.0, "recall": 0.0}  # nothing refused at threshold 0
    assert metrics["tradeoff"][0]["answerable_kept"] == 1.0
    # Each row says which outcome it got, so a refusal can be told apart by its kind.
    assert [r["outcome"] for r in rows] == ["answered"] * 3
    assert not any(r["closest_contains"] for r in rows)  # "closest" is only filled when not in the article


def test_summary_counts_misses_and_refusals() -> None:
    rows = [
        {"impossible": False, "paragraph_rank": 1, "passage_rank": 1, "answer_contains": True,
         "answer_contains_any": True, "answered": True, "confidence": 0.9},
        {"impossible": False, "paragraph_rank": 3, "passage_rank": None, "answer_contains": False,
         "answer_contains_any": False, "answered": True, "confidence": 0.5},
        {"impossible": True, "paragraph_rank": None, "passage_rank": None, "answer_contains": False,
         "answer_contains_any": False, "answered": False, "confidence": 0.1},
    ]
    m = summarise(rows, 10)
    assert m["paragraph"] == {"recall@1": 0.5, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": round((1 + 1 / 3) / 2, 4)}
    assert m["passage"]["recall@10"] == 0.5
    assert m["refusal"] == {"precision": 1.0, "recall": 1.0}
