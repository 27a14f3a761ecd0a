"""Runs one build with the fake encoder in its own process, so tests can kill it mid-way."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import FakeEncoder  # noqa: E402
from index.build import build_index  # noqa: E402
from index.settings import Settings  # noqa: E402

if __name__ == "__main__":
    articles, index_dir, full = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "full"
    settings = Settings(_env_file=None, model=FakeEncoder.name, index_dir=index_dir, articles_dir=articles)
    build_index(settings, full=full, encoder=FakeEncoder())
    print("done", flush=True)
