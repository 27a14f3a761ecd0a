"""python -m index fetch's exit codes and words, and scripts/rebuild_index.py --sources (fetch, then build)."""
from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index import store
from index.__main__ import main
from index.build import build_index
from index.fetch_state import fetch_lock
from tests.support.encoder import REPO, FakeEncoder
from tests.support.news_server import NewsServer, Route, article_html, made_up_article, rss


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without .env, fetching with no pause."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTICLE_QA_FETCH_DELAY_SECONDS", "0")
    return tmp_path


@pytest.fixture
def server():
    with NewsServer() as site:
        title, paragraphs = made_up_article(50)
        site.routes["/n/50"] = Route(article_html(title, paragraphs, published="2024-04-01"))
        site.routes["/rss.xml"] = Route(rss("Diario CLI", [{"link": site.url("/n/50"), "title": title}]),
                                        "application/rss+xml")
        yield site


def fetch(env: Path, lines: list[str] | None, *extra: str) -> int:
    sources = env / "sources.txt"
    if lines is not None:
        sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return main(["fetch", "--sources", str(sources), "--articles", str(env / "articles"), *extra])


def test_exit_0_when_a_source_worked_and_the_summary_is_printed(env: Path, server: NewsServer, capsys,
                                                                 caplog) -> None:
    assert fetch(env, [server.url("/rss.xml"), server.url("/falta.xml"), "no-es-una-url"]) == 0
    out, err = capsys.readouterr()[0], caplog.text
    assert out.startswith("fetched 2 sources (1 read, 1 failed): new 1,")
    assert "not an http(s) URL, skipped: 'no-es-una-url'" in err
    assert "falta.xml: failed: HTTP 404" in err and "Traceback" not in err


def test_exit_1_when_every_source_failed(env: Path, server: NewsServer, caplog) -> None:
    assert fetch(env, [server.url("/falta.xml"), "http://127.0.0.1:9/cerrado.xml"]) == 1
    err = caplog.text
    assert "cannot connect" in err and "no source could be read" in err and "Traceback" not in err


@pytest.mark.parametrize("lines", [None, ["# solo comentarios", "", "ftp://no.sirve/feed"]], ids=["missing", "empty"])
def test_exit_2_without_sources(env: Path, lines, caplog) -> None:
    assert fetch(env, lines) == 2
    err = caplog.text
    assert "sources file" in err and "Traceback" not in err
    assert not (env / "articles").exists()


def test_exit_3_when_another_fetch_runs(env: Path, server: NewsServer, caplog) -> None:
    (env / "articles").mkdir()
    with fetch_lock(env / "articles"):
        assert fetch(env, [server.url("/rss.xml")]) == 3
    assert "another fetch is running" in caplog.text
    assert not server.requests


def test_articles_path_that_is_a_file_is_one_line(env: Path, server: NewsServer, caplog) -> None:
    (env / "articles").write_text("no soy una carpeta", encoding="utf-8")
    assert fetch(env, [server.url("/rss.xml")]) == 1
    err = caplog.text
    assert "is a file" in err and "Traceback" not in err


def _rebuild_script(monkeypatch: pytest.MonkeyPatch):
    """scripts/rebuild_index.py as a module, building with the fake encoder."""
    spec = importlib.util.spec_from_file_location("rebuild_index", REPO / "scripts" / "rebuild_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "build_index", functools.partial(build_index, encoder=FakeEncoder()))
    return module


def test_rebuild_with_sources_fetches_then_builds(env: Path, server: NewsServer, monkeypatch, fake_settings) -> None:
    monkeypatch.setenv("ARTICLE_QA_MODEL", FakeEncoder.name)
    monkeypatch.setenv("ARTICLE_QA_INDEX_DIR", str(env / "index"))
    monkeypatch.setenv("ARTICLE_QA_ARTICLES_DIR", str(env / "articles"))
    (env / "sources.txt").write_text(server.url("/rss.xml") + "\n", encoding="utf-8")
    script = _rebuild_script(monkeypatch)
    assert script.main(["--sources", "sources.txt", "--quiet"]) == 0
    assert len(list((env / "articles").glob("[!.]*.json"))) == 1
    assert store.current_build(env / "index") is not None
    from index.engine import Engine

    engine = Engine.open(fake_settings.model_copy(update={"index_dir": env / "index"}), FakeEncoder())
    hits = engine.search("presupuesto de la propuesta 50", 1)
    assert hits and hits[0].url == server.url("/n/50") and hits[0].source == "El Diario Inventado"


def test_rebuild_builds_what_is_there_when_the_fetch_fails(env: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("ARTICLE_QA_MODEL", FakeEncoder.name)
    monkeypatch.setenv("ARTICLE_QA_INDEX_DIR", str(env / "index"))
    monkeypatch.setenv("ARTICLE_QA_ARTICLES_DIR", str(env / "articles"))
    (env / "articles").mkdir()
    (env / "articles" / "a.txt").write_text("Volcanes\nUn volcán entró en erupción el martes.\n", encoding="utf-8")
    (env / "sources.txt").write_text("http://127.0.0.1:9/cerrado.xml\n", encoding="utf-8")
    script = _rebuild_script(monkeypatch)
    assert script.main(["--sources", "sources.txt", "--quiet"]) == 0
    assert "building from the articles already there" in caplog.text
    assert store.current_build(env / "index") is not None


def _run_cli(env: Path, *lines: str) -> subprocess.CompletedProcess:
    (env / "sources.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    environ = {**os.environ, "PYTHONPATH": str(REPO), "ARTICLE_QA_FETCH_DELAY_SECONDS": "0"}
    command = [sys.executable, "-m", "index", "fetch", "--sources", "sources.txt", "--articles", "articles"]
    return subprocess.run(command, cwd=env, env=environ, capture_output=True, text=True, timeout=60, check=False)


def test_the_command_as_cron_runs_it(env: Path, server: NewsServer) -> None:
    """A real process: the summary on stdout, one line per source on stderr, no traceback."""
    ok = _run_cli(env, server.url("/rss.xml"))
    assert ok.returncode == 0 and ok.stdout.startswith("fetched 1 sources (1 read, 0 failed): new 1,"), ok.stderr
    assert f"{server.url('/rss.xml')} (feed, «Diario CLI»): new 1, changed 0, unchanged 0, failed 0" in ok.stderr
    failed = _run_cli(env, "http://127.0.0.1:9/cerrado.xml")
    assert failed.returncode == 1 and "cannot connect" in failed.stderr and "Traceback" not in failed.stderr
