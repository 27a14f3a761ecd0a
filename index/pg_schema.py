"""The PostgreSQL backend's tables, and the connections to them.

Two fixed tables say which builds exist and which one is served::

    aqa_builds   (id, state 'writing'|'done', started_at, finished_at, manifest jsonb, aliases text)
    aqa_current  (one row: build_id) -- switched in the same transaction that marks a build done

Each build lives in its own schema ``aqa_<build id>`` (dropped whole by garbage collection)::

    articles  (id, title, date, url, source, path, content_hash, text, story)
    chunks    (row, chunk_id, article_id, position, start, "end", text,
               first_sentence, end_sentence, embedding vector(dim))   -- IVFFlat above database_exact_max
    sentences (row, article_id, start, "end", embedding vector(dim), tokens)
                                               -- tokens: the token vectors (index.token_match),
                                               -- int8 bytes, tokens x dims
    vocab     (term, id, df, rows, weights)    -- the analyzer's terms (index.lexical.Analyzer) and
                                               -- their postings: the chunk rows (int32) and bm25s'
                                               -- Lucene BM25 weight in each (float32), as bytes

A question reads its terms' postings (one indexed row per term) and sums them as bm25s sums
its precomputed sparse matrix, so the ranking is the folder backend's. (One SQL row per
posting summed by ``GROUP BY`` gave the same ranking but 26 ms p50 and 111 ms p95 at a million
chunks, where a common term has tens of thousands of postings.)
"""
from __future__ import annotations

import logging
import re

import numpy as np
import psycopg
from psycopg import sql

from .errors import IndexError_

log = logging.getLogger(__name__)

SCHEMA_PREFIX = "aqa_"
_BUILD_ID = re.compile(r"^[a-z0-9_]{1,40}$")
BUILD_LOCK_KEY = 0x61716131  # pg_advisory_lock key of the one running build ("aqa1")
# The layout of a build's tables, recorded in its manifest: a build of another layout is refused
# with the rebuild hint. 2: each term's postings in its vocab row; IVFFlat above exact_max; 3: each
# sentence's token vectors.
TABLES_VERSION = 3

FIXED_TABLES = """
CREATE TABLE IF NOT EXISTS aqa_builds (
    id text PRIMARY KEY, state text NOT NULL CHECK (state IN ('writing', 'done')),
    started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz,
    manifest jsonb, aliases text);
CREATE TABLE IF NOT EXISTS aqa_current (
    one boolean PRIMARY KEY DEFAULT true CHECK (one), build_id text NOT NULL REFERENCES aqa_builds(id));
"""

BUILD_TABLES = """
CREATE TABLE {s}.articles (id text PRIMARY KEY, title text NOT NULL, date text, url text, source text,
    path text, content_hash text NOT NULL, text text NOT NULL, story text NOT NULL);
CREATE TABLE {s}.chunks (row integer PRIMARY KEY, chunk_id text NOT NULL, article_id text NOT NULL,
    position integer NOT NULL, start integer NOT NULL, "end" integer NOT NULL, text text NOT NULL,
    first_sentence integer NOT NULL, end_sentence integer NOT NULL, embedding vector({dim}) NOT NULL);
CREATE TABLE {s}.sentences (row integer PRIMARY KEY, article_id text NOT NULL, start integer NOT NULL,
    "end" integer NOT NULL, embedding vector({dim}) NOT NULL, tokens bytea NOT NULL);
CREATE TABLE {s}.vocab (term text PRIMARY KEY, id integer NOT NULL UNIQUE, df integer NOT NULL,
    rows bytea NOT NULL, weights bytea NOT NULL);
ALTER TABLE {s}.vocab ALTER COLUMN rows SET STORAGE EXTERNAL, ALTER COLUMN weights SET STORAGE EXTERNAL;
"""

BUILD_INDEXES = """
CREATE INDEX ON {s}.chunks (article_id, position);
CREATE INDEX ON {s}.sentences (article_id, start);
CREATE INDEX ON {s}.articles (date);
CREATE INDEX ON {s}.articles (story);
"""


class DatabaseUnavailable(IndexError_):
    """The database cannot be reached or answered with an error."""


def schema_of(build_id: str) -> sql.Identifier:
    if not _BUILD_ID.match(build_id):
        raise ValueError(f"not a build id: {build_id!r}")
    return sql.Identifier(SCHEMA_PREFIX + build_id)


def build_sql(template: str, build_id: str, **extra: int) -> list[sql.Composed]:
    """The statements of a template, with the build's schema (and the vector dimension) filled in."""
    statements = [s.strip() for s in template.split(";") if s.strip()]
    return [sql.SQL(s.replace("{dim}", str(int(extra.get("dim", 0))))).format(s=schema_of(build_id))
            for s in statements]


def ensure_fixed_tables(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        for statement in FIXED_TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)


def redact(url: str) -> str:
    """A URL fit for a log line: the password replaced."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def as_vector(vector) -> np.ndarray:
    """A vector as pgvector's numpy adapter sends it (``register_vector``): contiguous float32."""
    return np.ascontiguousarray(vector, dtype=np.float32)
