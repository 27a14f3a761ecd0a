"""index/vectors.py: exact below the threshold, IVF-Flat above it, parameters kept across save/load."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from index.settings import Settings
from index.vectors import FLAT, IVF, make_vector_index, tune_for_search

DIM = 32


def _unit(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _clustered(n: int, seed: int, centres: int = 40) -> np.ndarray:
    """Unit vectors around a few centres, like embeddings of a news corpus (not uniform noise)."""
    rng = np.random.default_rng(seed)
    c = _unit(centres, seed + 1)
    x = c[rng.integers(0, centres, n)] + rng.normal(0, 0.15, (n, DIM)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _settings(flat_index_max: int, nprobe: int = 32) -> Settings:
    return Settings(_env_file=None, flat_index_max=flat_index_max, ivf_nprobe=nprobe)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


@pytest.fixture(autouse=True)
def _one_thread():
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(previous)


def test_flat_equals_brute_force_cosine():
    x, q = _unit(1500, 0), _unit(20, 1)
    index, info = make_vector_index(x, _settings(flat_index_max=10_000))
    assert info["type"] == FLAT and index.ntotal == 1500
    scores, rows = index.search(q, 10)
    reference = q @ x.T  # normalised vectors: inner product = cosine
    expected = np.argsort(-reference, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(reference, expected, axis=1), rtol=1e-5, atol=1e-5)


def test_build_restores_the_query_thread_count():
    make_vector_index(_clustered(2000, 0), _settings(flat_index_max=500))
    assert faiss.omp_get_max_threads() == 1


def test_ivf_above_threshold_recall_and_reconstruct():
    x, q = _clustered(2000, 2), _clustered(50, 3)
    index, info = make_vector_index(x, _settings(flat_index_max=1000))
    assert info["type"] == IVF and info["nlist"] == round(4 * np.sqrt(2000)) and info["nprobe"] == 32
    assert faiss.extract_index_ivf(index).nprobe == 32
    _, found = index.search(q, 10)
    truth = np.argsort(-(q @ x.T), axis=1)[:, :10]
    assert _recall(found, truth) >= 0.9
    for row in (0, 1, 777, 1999):
        np.testing.assert_array_equal(index.reconstruct(row), x[row])
    np.testing.assert_array_equal(index.reconstruct_n(5, 3), x[5:8])


def test_ivf_is_deterministic():
    x = _clustered(1500, 4)
    a, _ = make_vector_index(x, _settings(flat_index_max=100))
    b, _ = make_vector_index(x, _settings(flat_index_max=100))
    q = _clustered(10, 5)
    np.testing.assert_array_equal(a.search(q, 5)[1], b.search(q, 5)[1])


def test_parameters_survive_write_and_read(tmp_path: Path):
    x, q = _clustered(2000, 6), _clustered(20, 7)
    index, info = make_vector_index(x, _settings(flat_index_max=1000, nprobe=5))
    expected = index.search(q, 10)
    path = tmp_path / "vectors.faiss"
    faiss.write_index(index, str(path))
    loaded = faiss.read_index(str(path))
    tune_for_search(loaded, info)
    ivf = faiss.extract_index_ivf(loaded)
    assert ivf.nprobe == 5 and ivf.nlist == info["nlist"]
    np.testing.assert_array_equal(loaded.reconstruct(1234), x[1234])  # direct map saved with the index
    for got, want in zip(loaded.search(q, 10), expected):
        np.testing.assert_array_equal(got, want)


def test_tune_rebuilds_a_missing_direct_map():
    x = _clustered(1200, 8)
    index, info = make_vector_index(x, _settings(flat_index_max=100))
    index.make_direct_map(False)
    tune_for_search(index, info)
    np.testing.assert_array_equal(index.reconstruct(3), x[3])


def test_tune_sets_hnsw_ef_search_and_leaves_flat_alone():
    hnsw = faiss.IndexHNSWFlat(DIM, 8, faiss.METRIC_INNER_PRODUCT)
    tune_for_search(hnsw, {"type": "hnsw_flat_ip", "ef_search": 77})
    assert hnsw.hnsw.efSearch == 77
    tune_for_search(faiss.IndexFlatIP(DIM), {"type": FLAT})  # nothing to set, must not fail


def test_ivf_index_built_served_and_reused(fake_settings: Settings, fake_encoder) -> None:
    """The whole path above the threshold: build_index -> StoredIndex (nprobe from the manifest)
    -> retrieve (reconstruct for BM25-only rows) -> incremental rebuild (reconstruct_n)."""
    from index import store
    from index.build import build_index
    from index.search import retrieve

    topics = ["misiles", "paella", "fútbol", "elecciones", "lluvia", "museo", "tren", "vacuna",
              "puerto", "teatro", "cosecha", "satélite", "huelga", "incendio", "maratón", "volcán"]
    folder = fake_settings.articles_dir
    for i, topic in enumerate(topics):
        (folder / f"{i:02d}.txt").write_text(
            f"Noticia {topic}\nEl {topic} ocupa la jornada {i}. Vecinos hablan del {topic} en la plaza.\n",
            encoding="utf-8")
    settings = fake_settings.model_copy(update={"flat_index_max": 4, "ivf_nprobe": 3})
    build_index(settings, encoder=fake_encoder)
    stored = store.StoredIndex.open(settings.index_dir, settings.model)
    info = stored.manifest["faiss"]
    assert info["type"] == IVF and info["nprobe"] == 3 and stored.vectors.ntotal == len(topics)
    assert faiss.extract_index_ivf(stored.vectors).nprobe == 3

    query = "¿Qué pasó con el volcán?"
    vector = fake_encoder.encode_queries([query])[0]
    ranked = retrieve(stored, stored.analyzer.terms(query), vector, candidates=10, dense_weight=0.3)
    best = stored.chunks([ranked[0].row])[0]
    assert "volcán" in best.text
    for cand in ranked:  # every dense score is the exact cosine, whether found by FAISS or rescored
        assert cand.dense == pytest.approx(float(stored.vectors.reconstruct(cand.row) @ vector), abs=1e-5)
    before = _vectors_by_chunk(stored)
    stored.close()

    (folder / "00.txt").write_text("Noticia nueva\nUn texto distinto sobre la marea.\n", encoding="utf-8")
    fake_encoder.calls = 0
    report = build_index(settings, encoder=fake_encoder)
    assert report.changed == ["00"] and len(report.unchanged) == len(topics) - 1
    assert fake_encoder.calls == 2  # its 1 chunk + 1 sentence: the unchanged articles reused their vectors
    after = _vectors_by_chunk(store.StoredIndex.open(settings.index_dir, settings.model))
    for chunk_id, vec in before.items():
        if not chunk_id.startswith("00#"):
            np.testing.assert_array_equal(after[chunk_id], vec)


def _vectors_by_chunk(stored) -> dict[str, np.ndarray]:
    rows = [r for (r,) in stored.query("SELECT row FROM chunks")]
    return {c.chunk_id: stored.vectors.reconstruct(c.row) for c in stored.chunks(rows)}
