"""scripts/try_answer_readers.py: out-of-fold comparisons of sentence scorers on the tune rows."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from tune_answer import Asked  # noqa: E402
from try_answer_readers import linear, network, out_of_fold, shares, with_products  # noqa: E402


def _rows(n: int, seed: int) -> list[Asked]:
    """Questions whose gold sentence is told apart only by its vector agreeing with the
    question's on one dimension; the two features are noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        question = rng.normal(size=8)
        sentences = rng.normal(size=(6, 8))
        sentences[0, 3] = 3.0 * np.sign(question[3])  # the gold agrees with the question on dimension 3
        sentences[1:, 3] = -3.0 * np.sign(question[3])
        labels = np.zeros(6, dtype=bool)
        labels[0] = True
        out.append(Asked("news" if i % 2 else "squad", "answerable", rng.random((6, 2)), labels, np.ones(6),
                         group=f"article-{i}", vector=question, sentence_vectors=sentences))
    return out


def test_products_are_appended_to_the_features() -> None:
    row = _rows(1, 0)[0]
    expanded = with_products(row)
    assert expanded.features.shape == (6, 2 + 8)
    assert np.allclose(expanded.features[:, :2], row.features)
    assert np.allclose(expanded.features[:, 2:] / 20.0, row.vector * row.sentence_vectors)


def test_only_a_scorer_that_sees_the_vectors_finds_a_gold_told_by_them() -> None:
    rows = _rows(60, 1)
    plain = out_of_fold(rows, 3, linear(1.0))
    with_vectors = out_of_fold(rows, 3, linear(1.0, with_products))
    assert set(plain) == {"news", "squad"}
    assert max(plain.values()) < 0.5 and min(with_vectors.values()) > 0.9


def test_the_network_learns_from_each_questions_candidates() -> None:
    rows = _rows(60, 2)
    scorer = network(rows, epochs=15)
    assert min(shares(rows, scorer).values()) > 0.9
