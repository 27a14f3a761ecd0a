"""The token match (index.token_match): projection, storage form, and the two features."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import store, token_match
from index.build import build_index
from index.build_vectors import embed_documents
from index.embed_cache import EmbeddingCache
from index.settings import DEFAULT_MODEL, Settings
from index.token_match import SCALE, TokenBasis, load_basis, match_features
from tests.support.corpus import write, write_three
from tests.support.encoder import TokenFakeEncoder


def _unit_rows(rows: list[list[float]]) -> np.ndarray:
    a = np.array(rows, dtype=np.float32)
    return np.rint(a / np.linalg.norm(a, axis=1, keepdims=True) * SCALE).astype(np.int8)


def test_projection_centres_projects_and_stores_unit_int8_rows():
    basis = TokenBasis("m", mean=np.array([1.0, 1.0, 1.0], np.float32),
                       axes=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], np.float32))
    out = basis.project(np.array([[4.0, 1.0, 9.0], [1.0, -2.0, 5.0]], np.float32))
    assert out.dtype == np.int8 and out.shape == (2, 2)
    assert out.tolist() == [[127, 0], [0, -127]]  # (3, 0) and (0, -3) after centring, normalised
    assert basis.project(np.zeros((0, 3), np.float32)).shape == (0, 2)


def test_each_question_word_takes_its_best_match_in_the_sentence():
    question = _unit_rows([[1, 0, 0], [0, 1, 0]])
    echo = _unit_rows([[0, 0, 1], [1, 0, 0], [0, 1, 0]])  # holds both words, among others
    half = _unit_rows([[1, 0, 0], [0, 0, 1]])  # holds one
    out = match_features(question, [echo, half, token_match.empty(3)])
    assert out[0] == pytest.approx([1.0, 1.0], abs=1e-3)
    assert out[1] == pytest.approx([0.5, 0.5], abs=1e-3)  # fewer than three words: the peak is their mean
    assert out[2].tolist() == [0.0, 0.0]  # a sentence without token vectors


def test_the_peak_reads_the_three_best_met_words():
    question = _unit_rows([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])
    sentence = _unit_rows([[1, 0, 0]])
    mean, peak = match_features(question, [sentence])[0]
    cos = 1 / np.sqrt(2)
    assert mean == pytest.approx((1 + 0 + 0 + cos) / 4, abs=1e-2)
    assert peak == pytest.approx((1 + cos + 0) / 3, abs=1e-2)
    assert peak >= mean


def test_no_question_tokens_match_nothing():
    sentence = _unit_rows([[1, 0, 0]])
    assert match_features(None, [sentence]).tolist() == [[0.0, 0.0]]
    assert match_features(token_match.empty(3), [sentence]).tolist() == [[0.0, 0.0]]


def test_the_shipped_basis_is_the_default_models(tmp_path: Path):
    basis = load_basis("intfloat/multilingual-e5-small", 384)
    assert basis is not None and basis.dims == 64
    assert np.allclose(np.linalg.norm(basis.axes, axis=0), 1.0, atol=1e-4)  # orthonormal directions
    assert load_basis("another/model", 384) is None  # another model's states are not comparable
    assert load_basis("intfloat/multilingual-e5-small", 768) is None
    assert load_basis("intfloat/multilingual-e5-small", 384, tmp_path / "none.npz") is None


# ----------------------------------------------------------------------------- stored and reused


class CountingTokenEncoder(TokenFakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.token_texts: list[str] = []

    def encode_documents_with_tokens(self, texts):
        self.token_texts += list(texts)
        return super().encode_documents_with_tokens(texts)


def _stored_tokens(settings: Settings) -> dict[str, np.ndarray]:
    """Each stored sentence's token vectors, by its text."""
    index = store.StoredIndex.open(settings.index_dir, settings.model)
    try:
        rows = index.query('SELECT s.row, a.text, s.start, s."end" FROM sentences s '
                           "JOIN articles a ON a.id = s.article_id")
        tokens = index.sentence_tokens([r[0] for r in rows])
        return {text[start:end]: t for (_, text, start, end), t in zip(rows, tokens)}
    finally:
        index.close()


def test_a_build_stores_each_sentences_token_vectors(fake_settings: Settings) -> None:
    write_three(fake_settings.articles_dir)
    encoder = TokenFakeEncoder()
    build_index(fake_settings, encoder=encoder)
    stored = _stored_tokens(fake_settings)
    assert stored and all(t.dtype == np.int8 and t.shape[1] == encoder.token_dims for t in stored.values())
    for text, tokens in stored.items():  # the sentence's own, row for row
        np.testing.assert_array_equal(tokens, encoder.encode_documents_with_tokens([text])[1][0])
    manifest = store.read_manifest(store.current_build(fake_settings.index_dir))
    assert manifest["tokens"] == {"basis": encoder.token_basis.fingerprint, "dims": encoder.token_dims}


def test_a_rebuild_keeps_an_unchanged_articles_token_vectors_and_embeds_only_the_changed(
        fake_settings: Settings) -> None:
    write_three(fake_settings.articles_dir)
    build_index(fake_settings.model_copy(update={"embed_cache_max_texts": 0}), encoder=TokenFakeEncoder())
    before = _stored_tokens(fake_settings)
    write(fake_settings.articles_dir, "b.txt", "Cocina", "La tortilla lleva huevo y patata.")
    encoder = CountingTokenEncoder()
    report = build_index(fake_settings.model_copy(update={"embed_cache_max_texts": 0}), encoder=encoder)
    assert not report.full and report.changed == ["b"]
    assert encoder.token_texts and all("tortilla" in t or "Cocina" in t for t in encoder.token_texts)
    after = _stored_tokens(fake_settings)
    for text, tokens in before.items():
        if text in after:
            np.testing.assert_array_equal(after[text], tokens)


def test_another_basis_forces_a_full_build(fake_settings: Settings) -> None:
    write_three(fake_settings.articles_dir)
    build_index(fake_settings, encoder=TokenFakeEncoder())
    other = TokenFakeEncoder()
    other.token_basis = TokenBasis(other.name, np.zeros(8, np.float32), -np.eye(8, dtype=np.float32))
    report = build_index(fake_settings, encoder=other)
    assert report.full and report.full_reason == "the token vectors' basis changed"


def test_the_build_cache_keeps_token_vectors_beside_the_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite", TokenFakeEncoder.dim, 100)
    first = CountingTokenEncoder()
    texts = ["El volcán entró en erupción.", "Una frase sin tokens pedidos."]
    done = embed_documents(texts, first, cache, with_tokens=frozenset(texts[:1]))
    assert done.tokens[0].shape == (5, 8) and done.tokens[1].shape == (0, 8)  # one row per word
    again = CountingTokenEncoder()
    known = embed_documents(texts, again, cache, with_tokens=frozenset(texts[:1]))
    assert (known.embedded, known.cached) == (0, 2) and again.token_texts == [] and again.calls == 0
    np.testing.assert_array_equal(known.tokens[0], done.tokens[0])
    # A text whose vector is cached but whose token vectors are not is embedded again, once.
    third = CountingTokenEncoder()
    asked = embed_documents(texts, third, cache, with_tokens=frozenset(texts))
    assert third.token_texts == texts[1:] and asked.embedded == 1


def test_an_encoder_without_token_vectors_stores_none_and_matches_nothing(fake_settings: Settings,
                                                                          fake_encoder) -> None:
    write_three(fake_settings.articles_dir)
    build_index(fake_settings, encoder=fake_encoder)
    assert all(len(t) == 0 for t in _stored_tokens(fake_settings).values())
    manifest = store.read_manifest(store.current_build(fake_settings.index_dir))
    assert manifest["tokens"] == {"basis": None, "dims": 0}


# ----------------------------------------------------------------------------- the real model


@pytest.mark.slow
def test_the_model_gives_a_token_vector_per_word_piece_from_the_same_run(real_encoder) -> None:
    text = "El presidente plagió a varios autores."
    vectors, tokens = real_encoder.encode_documents_with_tokens([text])
    np.testing.assert_allclose(vectors, real_encoder.encode_documents([text]), atol=1e-6)
    pieces = real_encoder._model.tokenizer.content_ids([text])[0]
    assert tokens[0].shape == (len(pieces), 64) and tokens[0].dtype == np.int8
    _, questions = real_encoder.encode_queries_with_tokens(["¿Quién?"])
    assert len(questions[0]) == len(real_encoder._model.tokenizer.content_ids(["¿Quién?"])[0])


@pytest.mark.slow
def test_a_paraphrase_meets_the_question_better_than_a_sentence_about_something_else(real_encoder) -> None:
    _, (question,) = real_encoder.encode_queries_with_tokens(["¿A qué otros autores copió el presidente?"])
    _, sentences = real_encoder.encode_documents_with_tokens([
        "El mandatario plagió a los académicos Diego Valadés y Jorge Carpizo.",
        "El mandatario viajó a París con su esposa el lunes.",
    ])
    paraphrase, other = match_features(question, sentences)
    assert paraphrase[0] > other[0] and paraphrase[1] > other[1]


@pytest.mark.slow
def test_the_sample_index_scores_sentences_with_the_token_match(sample_engine) -> None:
    evidence = sample_engine.evidence("¿Qué acusa EE. UU.?")
    at = len(evidence.sentences[0].features) - 2
    assert all(0 < s.features[at] <= 1 and s.features[at] <= s.features[at + 1] for s in evidence.sentences)
    assert DEFAULT_MODEL == sample_engine.settings.model


@pytest.mark.slow
def test_a_text_longer_than_a_window_gives_every_word_piece_once(real_encoder) -> None:
    text = " ".join(["El volcán entró en erupción cerca de la ciudad."] * 80)  # about 800 word pieces
    pieces = real_encoder._model.tokenizer.content_ids([text])[0]
    assert len(pieces) > 600
    _, (tokens,) = real_encoder.encode_documents_with_tokens([text])
    assert len(tokens) == len(pieces)
