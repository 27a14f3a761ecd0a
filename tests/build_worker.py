"""Runs one build in its own process, so tests can kill it mid-way.

    build_worker.py ARTICLES INDEX_DIR full|incremental fake|slowfake|real [DATABASE_URL]
"fake" uses the test suite's fake encoder; "slowfake" the same taking 0.1 s per batch (so a test
can kill it while it embeds); "real" the configured model.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as under pytest (tests/conftest.py)
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root: run as a script, not by pytest

from index.build import build_index  # noqa: E402
from index.settings import Settings  # noqa: E402
from tests.support.encoder import REPO, FakeEncoder  # noqa: E402

class SlowFakeEncoder(FakeEncoder):
    """The fake encoder at a pace a test can interrupt."""

    def encode_documents(self, texts):
        time.sleep(0.1)
        return super().encode_documents(texts)


if __name__ == "__main__":
    articles, index_dir, full, kind = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "full", sys.argv[4]
    settings = Settings(_env_file=None, index_dir=index_dir, articles_dir=articles,
                        model_cache_dir=REPO / "var" / "models")
    encoders = {"fake": FakeEncoder, "slowfake": SlowFakeEncoder}
    if kind in encoders:
        settings = settings.model_copy(update={"model": FakeEncoder.name})
    if len(sys.argv) > 5:  # the PostgreSQL backend
        settings = settings.model_copy(update={"database_url": sys.argv[5]})
    build_index(settings, full=full, encoder=encoders[kind]() if kind in encoders else None)
    print("done", flush=True)
