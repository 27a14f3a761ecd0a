"""scripts/fit_token_basis.py: the principal directions of the token states, and the halves it reads."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from fit_token_basis import fit, holdout_articles  # noqa: E402


def test_the_directions_are_the_largest_variances_first_orthonormal_and_signed_alike() -> None:
    rng = np.random.default_rng(0)
    # Variance 9 along the third axis, 4 along the first, 1 along the second, around a mean of 5.
    states = rng.standard_normal((4000, 3)) * np.array([2.0, 1.0, 3.0]) + 5.0
    mean, axes = fit(states, 2)
    assert np.allclose(mean, 5.0, atol=0.15)
    assert axes.shape == (3, 2) and np.allclose(axes.T @ axes, np.eye(2), atol=1e-5)
    assert abs(axes[2, 0]) > 0.99 and abs(axes[0, 1]) > 0.99
    _, flipped = fit(-states, 2)  # the same spread mirrored: the same axes, same signs
    assert np.allclose(flipped, axes, atol=1e-3)
    assert np.all(axes[np.abs(axes).argmax(axis=0), [0, 1]] > 0)


def test_only_the_holdout_halfs_articles_are_left_out(tmp_path: Path) -> None:
    items = [{"id": "n1", "split": "holdout", "article_id": "a"}, {"id": "n2", "split": "tune", "article_id": "b"},
             {"id": "n3", "split": "holdout", "kind": "off_topic", "article_id": None}]
    path = tmp_path / "news_dev.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items), encoding="utf-8")
    assert holdout_articles(path) == {"a"}


def test_the_repositorys_eval_set_leaves_out_its_holdout_articles() -> None:
    repo = Path(__file__).resolve().parent.parent
    held = holdout_articles(repo / "eval" / "news_dev.jsonl")
    tune = {json.loads(line)["article_id"] for line in (repo / "eval" / "news_dev.jsonl").read_text().splitlines()
            if json.loads(line).get("split") == "tune" and json.loads(line).get("article_id")}
    assert held and tune and not held & tune
