"""scripts/try_answer_readers.py: out-of-fold comparisons of sentence scorers on the tune rows."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from tune_answer import Asked  # noqa: E402
from try_answer_readers import (  # noqa: E402
    GROUPS, boosted, encode_speed, linear, network, out_of_fold, second_model, second_model_cosines, shares, titled,
    titled_cosines, with_kind_weights, with_products,
)
from tests.support.encoder import FakeEncoder  # noqa: E402


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


def _kind_rows(n: int, seed: int) -> list[Asked]:
    """Questions whose gold is the sentence highest on feature 0 when a number is asked ("¿Cuántos…?")
    and highest on feature 1 when a person is ("¿Quién…?"): one shared weight cannot tell both."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        person = i % 2 == 0
        features = rng.random((6, 2))
        gold = int(np.argmax(features[:, 1] if person else features[:, 0]))
        labels = np.zeros(6, dtype=bool)
        labels[gold] = True
        question = "¿Quién firmó el acuerdo?" if person else "¿Cuántos firmaron el acuerdo?"
        out.append(Asked("news", "answerable", features, labels, np.ones(6), group=f"article-{i}", question=question))
    return out


def test_kind_weights_copy_the_features_into_the_asked_kinds_slot() -> None:
    person, number = _kind_rows(2, 0)
    expanded = with_kind_weights(person, scale=1.0)
    width = person.features.shape[1]
    assert expanded.features.shape == (6, width * (1 + len(GROUPS)))
    slot = GROUPS.index("person")
    assert np.allclose(expanded.features[:, width * (1 + slot): width * (2 + slot)], person.features)
    assert np.count_nonzero(expanded.features[:, width:]) == np.count_nonzero(person.features)
    assert not np.allclose(with_kind_weights(number).features[:, width:], expanded.features[:, width:] * 0.3)


def test_per_kind_weights_and_trees_learn_what_one_shared_weight_cannot() -> None:
    rows = _kind_rows(120, 1)
    shared = out_of_fold(rows, 3, linear(1.0))["news"]
    per_kind = out_of_fold(rows, 3, linear(100.0, with_kind_weights))["news"]
    trees = out_of_fold(rows, 3, boosted)["news"]
    assert shared < 0.8 and per_kind > 0.95 and trees > 0.9


def _titled_rows(n: int) -> list[Asked]:
    """Questions that name their story ("Lisboa") where only the title does: the gold sentence
    ("La cumbre empezó el lunes") shares a word with the question only through its title."""
    encoder = FakeEncoder()
    out = []
    for i in range(n):
        texts = ("La cumbre empezó el lunes.", "El tiempo fue bueno el lunes.", "Hubo protestas el lunes.")
        titles = (f"Cumbre de Lisboa {i}", "Tiempo en Madrid", "Protestas en Roma")
        vector = encoder.encode_queries([f"¿Cuándo empezó la cumbre de Lisboa {i}?"])[0]
        features = np.zeros((3, 12))
        out.append(Asked("news", "answerable", features, np.array([True, False, False]), np.ones(3),
                         group=f"article-{i}", question="¿Cuándo empezó?", texts=texts, vector=vector, titles=titles))
    return out


def test_titled_cosines_read_each_sentence_after_its_title() -> None:
    encoder = FakeEncoder()
    row = _titled_rows(1)[0]
    cosines = titled_cosines([row], encoder.encode_documents)[0]
    expected = encoder.encode_documents(["Cumbre de Lisboa 0. La cumbre empezó el lunes."])[0] @ row.vector
    assert np.isclose(cosines[0], expected)
    assert int(np.argmax(cosines)) == 0


def test_titled_reports_the_cosine_alone_added_and_in_place_of_the_plain_one() -> None:
    report = titled(_titled_rows(12), 3, FakeEncoder().encode_documents)
    assert set(report) == {"alone", "plain_cosine_alone", "added", "instead_of_the_cosine"}
    assert report["alone"]["news"] == report["added"]["news"] == report["instead_of_the_cosine"]["news"] == 1.0


def _second_model_rows(n: int) -> list[Asked]:
    """The features cannot tell the sentences apart (all zero); only reading the question against
    each sentence finds the one that answers it, last among the candidates."""
    out = []
    for i in range(n):
        texts = ("El tiempo fue bueno en Madrid.", "Hubo protestas en Roma.", f"La cumbre {i} empezó el lunes.")
        out.append(Asked("news", "answerable", np.zeros((3, 12)), np.array([False, False, True]), np.ones(3),
                         group=f"article-{i}", question=f"¿Cuándo empezó la cumbre {i}?", texts=texts))
    return out


def test_a_second_model_reads_each_sentence_against_the_question() -> None:
    encode = FakeEncoder().encode_documents
    row = _second_model_rows(1)[0]
    cosines = second_model_cosines([row], encode)[0]
    vectors = encode([row.question, *row.texts])
    assert np.allclose(cosines, vectors[1:] @ vectors[0], atol=1e-6)
    assert int(np.argmax(cosines)) == 2


def test_the_second_model_is_reported_alone_and_beside_the_features() -> None:
    report = second_model(_second_model_rows(12), 3, FakeEncoder().encode_documents)
    assert set(report) == {"alone"} | {f"{name}_C{c}" for name in ("linear", "added") for c in (0.3, 1.0, 3.0)}
    assert report["alone"]["news"] == 1.0
    assert all(report[f"added_C{c}"]["news"] == 1.0 and report[f"linear_C{c}"]["news"] == 0.0 for c in (0.3, 1.0, 3.0))


def test_the_second_model_speed_is_measured_as_served_and_as_built() -> None:
    speed = encode_speed(FakeEncoder().encode_documents, ["¿Cuándo empezó?"] * 5, ["Empezó el lunes."] * 50)
    assert set(speed) == {"question_ms_p50", "question_ms_p95", "sentences_per_s"}
    assert 0 <= speed["question_ms_p50"] <= speed["question_ms_p95"] and speed["sentences_per_s"] > 0


def test_the_token_match_ablation_drops_the_last_two_features() -> None:
    from try_answer_readers import token_match_ablation, without_token_match

    from dataclasses import replace

    # Two noise features, then two told apart only by the gold (as a token match would tell it).
    rows = [replace(r, features=np.hstack([r.features, np.where(r.labels, 1.0, 0.0)[:, None].repeat(2, axis=1)]))
            for r in _rows(40, 5)]
    assert np.array_equal(without_token_match(rows[0]).features, rows[0].features[:, :2])
    report = token_match_ablation(rows, 2)
    assert set(report) == {"C0.1", "C0.3", "C1.0", "C3.0"}
    assert all(min(r["with"].values()) == 1.0 for r in report.values())
    assert all(max(r["without"].values()) < 0.5 for r in report.values())
