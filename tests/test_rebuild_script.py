"""scripts/rebuild_index.py: the cron-friendly rebuild and its exit codes (real model, tiny corpus)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index import store
from tests.support.encoder import REPO

pytestmark = pytest.mark.slow
SCRIPT = REPO / "scripts" / "rebuild_index.py"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ARTICLE_QA_INDEX_DIR": str(tmp_path / "index"),
           "ARTICLE_QA_ARTICLES_DIR": str(tmp_path / "articles"),
           "ARTICLE_QA_MODEL_CACHE_DIR": str(REPO / "var" / "models")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300, check=False)


def test_rebuild_then_incremental_then_nothing_to_index(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.txt").write_text("Volcanes\nUn volcán entró en erupción en Islandia el martes.\n", encoding="utf-8")
    first = run(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "added 1" in first.stdout
    served = store.current_build(tmp_path / "index")
    (articles / "b.txt").write_text("Lluvias\nLas lluvias inundaron el valle.\n", encoding="utf-8")
    second = run(tmp_path, "--quiet")
    assert second.returncode == 0 and second.stdout == ""
    assert store.current_build(tmp_path / "index") != served
    for path in articles.iterdir():
        path.unlink()
    third = run(tmp_path, "--quiet")
    assert third.returncode == 2 and "still served" in third.stderr
    assert store.current_build(tmp_path / "index") is not None


def test_locked_build_exits_3(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text("T\nTexto de prueba.\n", encoding="utf-8")
    with store.build_lock(tmp_path / "index"):
        proc = run(tmp_path, "--quiet")
    assert proc.returncode == 3 and "another build" in proc.stderr
