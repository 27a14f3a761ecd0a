"""Serving from PostgreSQL: a server restart while an engine serves (queries fail while it is
down, then the same engine answers again without being reopened), the statement timeout, and
a rebuild picked up by an engine of another process's making (hot reload by build id)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import psycopg
import pytest

import local_postgres
from index.build import build_index
from index.engine import Engine
from index.pg_schema import DatabaseUnavailable
from index.pg_store import close_pools
from index.settings import Settings
from tests.support.encoder import SAMPLE, FakeEncoder
from tests.support.corpus import write
from tests.support.postgres import running_server, server_folder

QUESTION = "¿De qué acusan los funcionarios de EE. UU. a Corea del Norte?"


@pytest.fixture
def on_database(fake_settings: Settings, pg_url: str) -> Settings:
    settings = fake_settings.model_copy(update={"articles_dir": SAMPLE, "database_url": pg_url,
                                                "embed_cache_max_texts": 0})
    build_index(settings, encoder=FakeEncoder())
    return settings


def test_engine_recovers_after_a_server_restart(fake_settings: Settings) -> None:
    with running_server() as folder:
        url = local_postgres.url(folder)
        settings = fake_settings.model_copy(update={"articles_dir": SAMPLE, "database_url": url,
                                                    "embed_cache_max_texts": 0, "database_pool_size": 2,
                                                    "database_wait_seconds": 1.0})
        build_index(settings, encoder=FakeEncoder())
        engine = Engine.open(settings, FakeEncoder())
        try:
            first = engine.ask(QUESTION)
            assert first.answered
            local_postgres.stop(folder)
            with pytest.raises(DatabaseUnavailable):
                engine.ask(QUESTION)
            assert not engine.reload_if_changed()  # the periodic check keeps the served build
            assert local_postgres.start(folder) == url
            again = answer_once_back(engine)  # the pool retries connecting with a growing pause
            assert (again.answered, again.answer) == (first.answered, first.answer)
        finally:
            close_pools()


def test_the_first_question_after_an_outage_reconnects_at_once(fake_settings: Settings) -> None:
    """After an outage longer than the pool's background retries (RECONNECT_SECONDS), the next
    question connects when it is asked: answered at its first try, not after a retry pause that
    kept doubling while the server was down."""
    from index.pg_store import RECONNECT_SECONDS

    with running_server() as folder:
        settings = fake_settings.model_copy(update={"articles_dir": SAMPLE, "database_url": local_postgres.url(folder),
                                                    "embed_cache_max_texts": 0, "database_wait_seconds": 1.0,
                                                    "database_pool_size": 1})  # as a pool whose every slot is in use
        build_index(settings, encoder=FakeEncoder())
        engine = Engine.open(settings, FakeEncoder())
        try:
            assert engine.ask(QUESTION).answered
            local_postgres.stop(folder)
            with pytest.raises(DatabaseUnavailable):
                engine.ask(QUESTION)  # the pool finds its connection broken and retries in the background
            time.sleep(2 * RECONNECT_SECONDS)  # the retries have given up
            local_postgres.start(folder)
            assert engine.ask(QUESTION).answered
        finally:
            close_pools()


def answer_once_back(engine: Engine, patience: float = 120.0):
    """The engine's answer as soon as its pool has reconnected (the same engine, not reopened)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return engine.ask(QUESTION)
        except DatabaseUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_statement_timeout_is_one_clear_error(on_database: Settings) -> None:
    settings = on_database.model_copy(update={"database_statement_timeout_ms": 500})
    engine = Engine.open(on_database, FakeEncoder())
    from index.pg_store import PgIndex

    slow = PgIndex.open(settings)
    with pytest.raises(DatabaseUnavailable, match="STATEMENT_TIMEOUT"):
        slow.query("SELECT pg_sleep(3)")
    assert engine.ask(QUESTION).answered  # the other pool is unaffected


def test_reload_follows_the_current_build_id(on_database: Settings) -> None:
    engine = Engine.open(on_database, FakeEncoder())
    served = engine._index().build_key
    build_index(on_database, encoder=FakeEncoder(), full=True)  # as another machine's rebuild would
    assert engine.reload_if_changed() and engine._index().build_key != served
    with psycopg.connect(on_database.database_url) as conn:
        current = conn.execute("SELECT build_id FROM aqa_current").fetchone()[0]
    assert engine._index().build_key == current
    assert engine.ask(QUESTION).answered


def test_reads_go_to_the_read_url(on_database: Settings, postgres_url: str) -> None:
    """With ARTICLE_QA_DATABASE_READ_URL set, queries read there (here: an empty database, so
    nothing is found) while builds still write to ARTICLE_QA_DATABASE_URL."""
    import uuid

    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    name = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        replica = on_database.model_copy(update={"database_read_url": postgres_url.rsplit("/", 1)[0] + f"/{name}"})
        from index.errors import IndexNotFound

        with pytest.raises(IndexNotFound):
            Engine.open(replica, FakeEncoder())
        report = build_index(replica, encoder=FakeEncoder())  # written to the primary
        assert report.unchanged and Engine.open(on_database, FakeEncoder()).ask(QUESTION).answered
    finally:
        close_pools()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_collected_build_is_one_clear_error_until_the_reload(on_database: Settings) -> None:
    """An engine that did not reload for two rebuilds serves a build the third one dropped: its
    queries fail with one clear error, and the periodic reload moves it to the current build."""
    engine = Engine.open(on_database, FakeEncoder())
    for _ in range(2):
        build_index(on_database, encoder=FakeEncoder(), full=True)
    with pytest.raises(DatabaseUnavailable, match="no longer in the database"):
        engine.ask(QUESTION)
    assert engine.reload_if_changed() and engine.ask(QUESTION).answered


def test_a_streaming_replica_serves_reads_and_follows_a_rebuild(fake_settings: Settings, tmp_path: Path) -> None:
    """One primary that builds, one real streaming read replica (``pg_basebackup -R``) that an
    engine reads from: it answers from the replica, the replica refuses writes, and a rebuild on
    the primary reaches the engine through replication and the periodic reload."""
    articles = shutil.copytree(SAMPLE, tmp_path / "corpus")
    with running_server() as primary, server_folder() as replica:
        read_url = local_postgres.start(replica, replica_of=primary)
        try:
            settings = fake_settings.model_copy(update={
                "articles_dir": articles, "database_url": local_postgres.url(primary), "database_read_url": read_url,
                "embed_cache_max_texts": 0, "database_wait_seconds": 2.0})
            build_index(settings, encoder=FakeEncoder())
            engine = _open_once_replicated(settings)
            assert engine.ask(QUESTION).answered
            before = engine._index().info().articles
            with psycopg.connect(read_url, autocommit=True) as conn:
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    conn.execute("CREATE TABLE written_on_a_replica (x int)")
            write(articles, "observatorio.txt", "Un observatorio en el desierto de Atacama",
                  "El nuevo radiotelescopio del desierto de Atacama costó 300 millones de dólares. "
                  "Observará galaxias lejanas desde el año próximo.")
            build_index(settings, encoder=FakeEncoder())
            deadline = time.monotonic() + 30
            while not engine.reload_if_changed():
                assert time.monotonic() < deadline, "the replica never showed the new build"
                time.sleep(0.1)
            assert engine._index().info().articles == before + 1
            found = engine.ask("radiotelescopio del desierto de Atacama").passages
            assert found and found[0].hit.title == "Un observatorio en el desierto de Atacama"
        finally:
            close_pools()
            local_postgres.stop(replica)
        assert local_postgres.running(replica) is None


def _open_once_replicated(settings: Settings, patience: float = 30.0) -> Engine:
    """The engine, once the replica has replayed the first build (replication is asynchronous)."""
    from index.errors import IndexNotFound

    deadline = time.monotonic() + patience
    while True:
        try:
            return Engine.open(settings, FakeEncoder())
        except IndexNotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_build_of_an_older_table_layout_is_refused_then_rebuilt(on_database: Settings) -> None:
    """A served build written with another table layout (an older version of this code) is
    refused with the rebuild hint, not queried into an error; the next build replaces it."""
    from index.errors import IndexMismatch

    with psycopg.connect(on_database.database_url, autocommit=True) as conn:
        conn.execute("UPDATE aqa_builds SET manifest = jsonb_set(manifest, '{tables_version}', '1') "
                     "WHERE id = (SELECT build_id FROM aqa_current)")
    with pytest.raises(IndexMismatch, match="table layout 1.*python -m index build --full"):
        Engine.open(on_database, FakeEncoder())
    report = build_index(on_database, encoder=FakeEncoder())
    assert report.full and Engine.open(on_database, FakeEncoder()).ask(QUESTION).answered
