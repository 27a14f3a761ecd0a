"""scripts/tune_answer.py learns weights that rank gold sentences first and calibrates outcomes."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from tune_answer import Asked, best, calibrate, fit, fit_topicality, top1  # noqa: E402

from index.answer import FEATURES  # noqa: E402


def _rows(n: int, kind: str, seed: int, gold: bool = True) -> list[Asked]:
    """Questions whose gold sentence is told apart by feature 0 only (feature 1 is noise)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        features = rng.random((6, 2))
        labels = np.zeros(6, dtype=bool)
        if gold:
            features[0, 0] += 1.0
            labels[0] = True
        out.append(Asked("news", kind, features, labels, np.full(6, 0.8)))
    return out


def test_pairwise_fit_learns_which_feature_tells_the_gold_sentence() -> None:
    rows = _rows(40, "answerable", 0)
    w = fit(rows, 1.0)
    assert w[0] > 0 and abs(w[1]) < w[0]
    assert top1(rows, w) == 1.0 and top1(rows, np.array([0.0, 1.0])) < 0.5


def test_calibration_refuses_the_off_topic_and_keeps_the_answerable() -> None:
    answerable = _rows(40, "answerable", 1)
    missing = _rows(10, "not_in_article", 2, gold=False)
    off = [Asked("news", "off_topic", r.features * 0.1, r.labels, np.full(6, 0.05)) for r in _rows(10, "x", 3, False)]
    w = np.array([1.0, 0.0])
    result = calibrate(answerable + missing, w, off)
    chosen = result["off_topic"]
    assert chosen["answerable_kept"] >= 0.95 and chosen["news_off_topic_refused"] == 1.0
    scores, coverage = best(answerable, w)
    assert len(scores) == 40 and (coverage == 0.8).all()
    allowed = [t for t in result["not_in_article_grid"] if t["answerable_kept"] >= 0.95]
    assert result["not_in_article"] in allowed


def test_the_thresholds_keep_the_other_sets_answerable_questions_too() -> None:
    """A minimum coverage that only Wikipedia-style answerable questions fall under (they share
    more words with their paragraph, but these cover little) is not chosen, though it would refuse
    more off-topic questions: a wrong refusal is as wrong on either set."""
    answerable = _rows(40, "answerable", 1)
    off = [Asked("news", "off_topic", r.features * 0.1, r.labels, np.full(6, 0.05)) for r in _rows(10, "x", 3, False)]
    squad_off = [Asked("squad", "off_topic", r.features, r.labels, np.full(6, 0.25)) for r in _rows(20, "x", 5)]
    other = [Asked("squad", "answerable", r.features, r.labels, np.full(6, 0.25)) for r in _rows(40, "answerable", 6)]
    w = np.array([1.0, 0.0])
    alone = calibrate(answerable, w, off + squad_off)["off_topic"]
    assert alone["refusal_min_coverage"] >= 0.3 and alone["squad_off_topic_refused"] == 1.0
    both = calibrate(answerable, w, off + squad_off, other_answerable=other)["off_topic"]
    assert both["squad_answerable_kept"] >= 0.95 and both["refusal_min_coverage"] <= 0.2


def test_topicality_weights_learn_the_cosine_that_tells_off_topic_questions() -> None:
    """Answerable and off-topic questions share their scores; only the best sentence's cosine
    (the dense feature) tells them apart, so it gets a positive weight beside the score."""
    rng = np.random.default_rng(4)
    dense = FEATURES.index("dense")

    def rows(n: int, kind: str, cosine: float) -> list[Asked]:
        out = []
        for _ in range(n):
            features = np.zeros((3, len(FEATURES)))
            features[:, 0] = rng.random(3) + 0.1  # the score (weight 1 on feature 0), same for both kinds
            features[:, dense] = cosine + 0.05 * rng.standard_normal(3)
            out.append(Asked("news", kind, features, np.zeros(3, dtype=bool), np.full(3, 0.5)))
        return out

    w = np.zeros(len(FEATURES))
    w[0] = 1.0
    coverage_w, dense_w, context_w = fit_topicality(rows(60, "answerable", 0.9), rows(60, "off_topic", 0.6), w)
    assert dense_w > 1.0 and abs(dense_w) > abs(coverage_w) and abs(dense_w) > abs(context_w)


def test_the_regularisation_is_chosen_out_of_fold_not_in_sample() -> None:
    from tune_answer import chosen_fit

    fits = [{"C": 0.1, "news_top1": 0.80, "squad_top1": 0.76,  # best in sample
             "news_top1_out_of_fold": 0.75, "squad_top1_out_of_fold": 0.74},
            {"C": 3.0, "news_top1": 0.78, "squad_top1": 0.75,
             "news_top1_out_of_fold": 0.79, "squad_top1_out_of_fold": 0.75}]
    assert chosen_fit(fits)["C"] == 3.0


def test_out_of_fold_never_scores_a_question_with_weights_fitted_on_it() -> None:
    """Each fold's gold is told by a feature of its own: weights fitted on all the questions
    know every fold's feature, weights fitted on the other folds never know the fold's."""
    from tune_answer import FOLDS, fold_of, out_of_fold_top1

    rng = np.random.default_rng(8)
    rows = []
    for i in range(200):
        group = f"article-{i}"
        features = rng.random((6, FOLDS))
        labels = np.zeros(6, dtype=bool)
        labels[0] = True
        row = Asked("news" if i % 2 else "squad", "answerable", features, labels, np.full(6, 0.8), group=group)
        features[0, fold_of(row)] += 3.0
        rows.append(row)
    assert top1(rows, fit(rows, 1.0)) > 0.9
    held_out = out_of_fold_top1(rows, 1.0)
    assert set(held_out) == {"news", "squad"} and max(held_out.values()) < 0.5
