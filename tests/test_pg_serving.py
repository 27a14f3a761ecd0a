"""Serving from PostgreSQL: a server restart while an engine serves (queries fail while it is
down, then the same engine answers again without being reopened), the statement timeout, and
a rebuild picked up by an engine of another process's making (hot reload by build id)."""
from __future__ import annotations

import psycopg
import pytest

import local_postgres
from index.build import build_index
from index.engine import Engine
from index.pg_schema import DatabaseUnavailable
from index.pg_store import close_pools
from index.settings import Settings
from tests.support.encoder import SAMPLE, FakeEncoder
from tests.support.postgres import running_server

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
            again = engine.ask(QUESTION)
            assert (again.answered, again.answer) == (first.answered, first.answer)
        finally:
            close_pools()


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
