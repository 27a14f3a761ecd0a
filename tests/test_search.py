"""Hybrid retrieval checked against a brute-force reference, fusion and diversity."""
from __future__ import annotations

import numpy as np
import pytest

from index.build import build_index
from index.engine import Engine
from index.search import _minmax, _top_rows, dense_scores, diverse, retrieve
from index.settings import Settings
from index.store import StoredIndex
from tests.support.encoder import FakeEncoder


@pytest.fixture
def stored(fake_settings: Settings) -> StoredIndex:
    folder = fake_settings.articles_dir
    rng = np.random.default_rng(7)
    vocab = "misil corea acusa tratado paella arroz gol partido volcan lava precio dolar".split()
    for i in range(40):
        body = ". ".join(" ".join(rng.choice(vocab, 6)) for _ in range(4)) + "."
        (folder / f"doc{i:02d}.txt").write_text(f"Documento {i}\n{body.capitalize()}\n", encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    return StoredIndex.open(fake_settings.index_dir, fake_settings.model)


def test_top_rows_matches_sorting() -> None:
    scores = np.array([0.0, 3.0, 1.0, 5.0, 0.0, 2.0])
    assert list(_top_rows(scores, 3)) == [3, 1, 5]
    assert list(_top_rows(scores, 10)) == [3, 1, 5, 2]
    assert list(_top_rows(np.zeros(4), 2)) == []


def test_minmax_edges() -> None:
    assert list(_minmax(np.array([2.0, 4.0, 3.0]))) == [0.0, 1.0, 0.5]
    assert list(_minmax(np.array([0.0, 0.0]))) == [0.0, 0.0]
    assert list(_minmax(np.array([2.0, 2.0]))) == [1.0, 1.0]


def test_fusion_matches_brute_force_reference(stored: StoredIndex) -> None:
    enc = FakeEncoder()
    for question in ["acusa corea misil", "paella arroz", "precio del dolar y lava", "gol"]:
        terms = stored.analyzer.terms(question)
        vector = enc.encode_queries([question])[0]
        ranked = retrieve(stored, terms, vector, candidates=1000, dense_weight=0.3)
        n = stored.vectors.ntotal
        lexical = stored.bm25.scores(terms)
        dense = dense_scores(stored, vector, np.arange(n))
        expected = 0.7 * _minmax(lexical) + 0.3 * _minmax(dense)
        got = {c.row: c.fused for c in ranked}
        assert set(got) == set(range(n))  # with enough candidates, every chunk is scored
        for row, value in got.items():
            assert value == pytest.approx(expected[row], abs=1e-5)
        assert [c.fused for c in ranked] == sorted((c.fused for c in ranked), reverse=True)


def test_dense_weight_extremes(stored: StoredIndex) -> None:
    enc = FakeEncoder()
    terms = stored.analyzer.terms("volcan lava")
    vector = enc.encode_queries(["volcan lava"])[0]
    lexical_only = retrieve(stored, terms, vector, 50, dense_weight=0.0)
    best_lex = int(np.argmax(stored.bm25.scores(terms)))
    assert lexical_only[0].row == best_lex
    dense_only = retrieve(stored, terms, vector, 50, dense_weight=1.0)
    _, rows = stored.vectors.search(vector.reshape(1, -1), 1)
    assert dense_only[0].dense == pytest.approx(float(dense_scores(stored, vector, rows[0])[0]))


def test_boost_favours_previous_articles(stored: StoredIndex) -> None:
    enc = FakeEncoder()
    terms = stored.analyzer.terms("gol partido")
    vector = enc.encode_queries(["gol partido"])[0]
    plain = retrieve(stored, terms, vector, 50, 0.3)
    target = stored.chunks([plain[-1].row])[0].article_id
    boosted = retrieve(stored, terms, vector, 50, 0.3, boost_articles=[target], boost=5.0)
    assert stored.chunks([boosted[0].row])[0].article_id == target


def test_diverse_drops_overlapping_windows(fake_settings: Settings) -> None:
    sentences = " ".join(f"La frase número {i} habla del volcán y de la lava del cráter." for i in range(12))
    (fake_settings.articles_dir / "v.txt").write_text(f"Volcán\n{sentences}\n", encoding="utf-8")
    (fake_settings.articles_dir / "w.txt").write_text(f"Copia\n{sentences}\n", encoding="utf-8")
    settings = fake_settings.model_copy(update={"chunk_max_chars": 150, "chunk_overlap": 1})
    build_index(settings, encoder=FakeEncoder())
    stored = StoredIndex.open(settings.index_dir, settings.model)
    enc = FakeEncoder()
    ranked = retrieve(stored, stored.analyzer.terms("volcán lava"), enc.encode_queries(["volcán lava"])[0], 100, 0.3)
    chosen = diverse(stored, ranked, 5)
    texts = [" ".join(c.text.split()) for _, c in chosen]
    assert len(texts) == len(set(texts))  # the copied article's identical windows are not shown twice
    for i, (_, a) in enumerate(chosen):
        for _, b in chosen[i + 1 :]:
            if a.article_id == b.article_id:
                common = min(a.end, b.end) - max(a.start, b.start)
                assert common <= 0.5 * min(a.end - a.start, b.end - b.start)


def test_search_api_returns_hits_with_metadata(stored: StoredIndex, fake_settings: Settings) -> None:
    engine = Engine.open(fake_settings, FakeEncoder())
    hits = engine.search("misil corea", top_k=3)
    assert 1 <= len(hits) <= 3
    data = hits[0].to_json()
    assert set(data) == {"article_id", "chunk_id", "title", "text", "score", "url", "source", "date", "also_in"}
    assert data["chunk_id"].startswith(data["article_id"] + "#")


def test_best_sentence_scores_match_brute_force(stored: StoredIndex) -> None:
    """Each chunk's score is the cosine of its best sentence, as found by asking SQLite for its sentences."""
    from index.search import best_sentence_scores

    vector = FakeEncoder().encode_queries(["acusa corea misil"])[0]
    rows = np.arange(stored.vectors.ntotal)
    got = best_sentence_scores(stored, vector, rows, fallback=np.full(len(rows), -7.0))
    for row, chunk in zip(rows, stored.chunks(list(rows))):
        inside = [r for r, _, _ in stored.sentences_in(chunk.article_id, chunk.start, chunk.end)]
        expected = max(float(np.asarray(stored.sentence_vectors[r]) @ vector) for r in inside) if inside else -7.0
        assert got[row] == pytest.approx(expected, abs=1e-5)


def test_sentence_weight_enters_the_fusion(stored: StoredIndex) -> None:
    from index.search import best_sentence_scores

    question = "precio del dolar y lava"
    terms, vector = stored.analyzer.terms(question), FakeEncoder().encode_queries([question])[0]
    ranked = retrieve(stored, terms, vector, candidates=1000, dense_weight=0.2, sentence_weight=0.3)
    rows = np.arange(stored.vectors.ntotal)
    dense = dense_scores(stored, vector, rows)
    sentence = best_sentence_scores(stored, vector, rows, dense)
    expected = 0.5 * _minmax(stored.bm25.scores(terms)) + 0.2 * _minmax(dense) + 0.3 * _minmax(sentence)
    for cand in ranked:
        assert cand.fused == pytest.approx(expected[cand.row], abs=1e-5)
        assert cand.sentence == pytest.approx(sentence[cand.row], abs=1e-5)
    only_sentences = retrieve(stored, terms, vector, candidates=1000, dense_weight=0.0, sentence_weight=1.0)
    assert only_sentences[0].row == int(np.argmax(sentence))


def test_fusion_weights_must_leave_room_for_bm25() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="must not exceed 1"):
        Settings(_env_file=None, dense_weight=0.7, sentence_weight=0.5)
    assert Settings(_env_file=None, dense_weight=0.5, sentence_weight=0.5).sentence_weight == 0.5
