"""scripts/try_answerability.py: question-level evidence and the refusal trade-off it reports."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from index.answer import FEATURES  # noqa: E402
from try_answerability import question_features, trade_off  # noqa: E402
from tune_answer import Asked  # noqa: E402


def _row(kind: str, features: np.ndarray) -> Asked:
    return Asked("news", kind, features, np.zeros(len(features), dtype=bool), np.linspace(0.9, 0.1, len(features)),
                 group=kind)


def test_question_features_describe_the_best_scored_sentence() -> None:
    features = np.zeros((3, len(FEATURES)))
    features[:, 0] = [0.2, 0.9, 0.5]  # the second candidate scores best under w
    features[2, FEATURES.index("kind")] = 1.0
    w = np.zeros(len(FEATURES))
    w[0] = 1.0
    row = question_features(_row("answerable", features), w)
    assert row[0] == 0.9 and np.isclose(row[1], 0.4)  # best score, margin over the second
    assert np.isclose(row[2], (0.9 + 0.5 + 0.2) / 3) and row[3] == 0.5  # mean of three, best's coverage
    assert row[4] == 1.0 and row[6] == 3  # story sentences holding the kind, candidates
    assert np.allclose(row[7:], features[1])


def test_trade_off_reports_the_served_rules_then_each_cost() -> None:
    rows = [(_row("answerable", np.zeros((2, 2))), "answered") for _ in range(20)]
    rows += [(_row("answerable", np.zeros((2, 2))), "not_in_article")]
    rows += [(_row("not_in_article", np.zeros((2, 2))), "answered") for _ in range(10)]
    rows += [(_row("not_in_article", np.zeros((2, 2))), "not_in_article") for _ in range(10)]
    p = np.array([0.5 + i / 40 for i in range(20)] + [0.9] + [0.1] * 5 + [0.8] * 5 + [0.1] * 10)
    served, *costs = trade_off(rows, p)
    assert served["answerable_answered"] == round(20 / 21, 4) and served["not_in_article_not_answered"] == 0.5
    assert all(c["answerable_answered"] <= served["answerable_answered"] for c in costs)
    assert costs[0]["not_in_article_not_answered"] == 0.75  # the five answered at 0.1 are caught
    assert costs[-1]["answerable_answered"] < costs[0]["answerable_answered"]
