"""articles -> a new build in PostgreSQL, switched in atomically (the folder build's database twin).

The same stages as ``index.build`` (ingest, one version of each story, chunk, embed with the
cache, incremental by content hash) and the same BM25 (bm25s' weights, stored per term).
The write: one advisory lock (one build at a time; the server drops it if the builder dies),
a ``writing`` row in ``aqa_builds``, the build's own schema filled in one transaction, then one
transaction that marks it ``done`` and points ``aqa_current`` at it. A build killed at any
point leaves ``aqa_current`` on the served build; its half-written schema is dropped by the next
build, with all but the newest finished builds.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import Copy, sql

from . import store
from .build import (BuildReport, _Prepared, compare_with_old, embed_new_texts, manifest_of, prepare_build,
                    chunk_sentence_spans, reuse_refusal, tokens_manifest)
from .duplicates import Stories
from .embedding import Encoder
from .errors import BuildFailed, BuildLocked, IndexError_
from .lemmas import spanish_lemmas
from .lexical import Analyzer, Bm25Index, read_alias_text
from .pg_schema import (BUILD_INDEXES, BUILD_LOCK_KEY, BUILD_TABLES, SCHEMA_PREFIX, TABLES_VERSION, build_sql,
                        as_vector, ensure_fixed_tables, redact, schema_of)
from .pg_store import PgIndex
from .settings import Settings
from .vectors import ivf_lists

log = logging.getLogger(__name__)

KEEP_BUILDS = store.KEEP_BUILDS


def build_database(settings: Settings, articles: Path | None = None, full: bool = False,
                   encoder: Encoder | None = None, progress: bool = False) -> BuildReport:
    """``build_index`` for ``settings.database_url``; the same errors, the served build untouched."""
    where = redact(settings.database_url)
    try:
        conn = psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise BuildFailed(f"cannot connect to the database {where}: {str(exc).strip()}; the served index is "
                          "unchanged") from exc
    try:
        with conn:
            ensure_fixed_tables(conn)
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()[0]:
                raise BuildLocked(f"another build is running on the database {where}")
            collect_garbage(conn, keep_writing=False)
            report = _build(conn, settings, articles, full, encoder, progress)
            collect_garbage(conn, keep_writing=False)
            return report
    except psycopg.Error as exc:
        raise BuildFailed(f"cannot write the index in the database {where}: {str(exc).strip()}; "
                          "the served index is unchanged") from exc


def collect_garbage(conn: psycopg.Connection, keep_writing: bool = True) -> list[str]:
    """Drop unfinished builds (only while holding the build lock: then their builder is dead) and
    all finished builds but the current one and the newest others up to ``KEEP_BUILDS``."""
    current = conn.execute("SELECT build_id FROM aqa_current").fetchone()
    current_id = current[0] if current else None
    builds = conn.execute("SELECT id, state FROM aqa_builds ORDER BY id DESC").fetchall()
    done = [b for b, state in builds if state == "done"]
    keep = {current_id} | set(([b for b in done if b != current_id])[: KEEP_BUILDS - 1])
    dropped = [b for b, state in builds if b not in keep and (state == "done" or not keep_writing)]
    for build_id in dropped:
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema_of(build_id)))
            conn.execute("DELETE FROM aqa_builds WHERE id = %s", (build_id,))
    # A schema without a builds row: a builder killed between creating both.
    known = {b for b, _ in builds if b not in dropped}
    for (name,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (SCHEMA_PREFIX + "%",)):
        if name[len(SCHEMA_PREFIX):] not in known and not keep_writing:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    return dropped


def _previous(settings: Settings, full: bool, backend: str, tokens: dict) -> tuple[PgIndex | None, str]:
    if full:
        return None, "--full requested"
    try:
        old = PgIndex.open(settings.model_copy(update={"database_read_url": None}))
    except IndexError_ as exc:
        return None, "no index yet" if "no index" in str(exc) else f"no reusable index: {exc}"
    if refused := reuse_refusal(old.manifest, settings, backend, tokens):
        return None, refused
    return old, ""


def _reuse(old: PgIndex, prepared: _Prepared) -> bool:
    chunks, sentences, tokens = old.article_vectors(prepared.article.id)
    if len(chunks) != len(prepared.chunks) or len(sentences) != len(prepared.sentences):
        return False
    prepared.chunk_vectors, prepared.sentence_vectors, prepared.sentence_tokens = chunks, sentences, tokens
    return True


def _build(conn: psycopg.Connection, settings: Settings, articles: Path | None, full: bool,
           encoder: Encoder | None, progress: bool) -> BuildReport:
    started = time.monotonic()
    report, prepared, stories = prepare_build(settings, articles)
    encoder = encoder or Encoder(settings, threads=settings.build_threads)
    old, report.full_reason = _previous(settings, full, encoder.backend, tokens_manifest(encoder))
    report.full = old is None
    compare_with_old(report, prepared, stories, old.manifest if old else None, lambda p: _reuse(old, p))
    embed_new_texts(prepared, encoder, settings, progress, report)
    build_id = datetime.now(timezone.utc).strftime("b%Y%m%dt%H%M%S%f") + "_" + uuid.uuid4().hex[:6]
    _write(conn, build_id, prepared, encoder, settings, read_alias_text(settings.aliases_file), started, stories)
    report.build_dir = Path(f"postgresql build {build_id}")
    report.articles = len(prepared)
    report.chunks = sum(len(p.chunks) for p in prepared)
    report.sentences = sum(len(p.sentences) for p in prepared)
    report.seconds = time.monotonic() - started
    return report


def _postings(analyzer: Analyzer, prepared: list[_Prepared]) -> tuple[Bm25Index, list[str]]:
    """bm25s over the same analysed terms as the folder build, and its vocabulary by id."""
    bm25 = Bm25Index.build([analyzer.document_terms(c.embedding_text()) for p in prepared for c in p.chunks])
    vocab = bm25._bm25.vocab_dict
    by_id = [""] * len(vocab)
    for term, i in vocab.items():
        by_id[i] = term
    return bm25, by_id


def _vector_index(conn: psycopg.Connection, schema: sql.Identifier, n_chunks: int, settings: Settings) -> dict:
    """Above ``database_exact_max`` chunks, pgvector's IVFFlat index with the folder's list count
    (``index.vectors.ivf_lists``), searched with ``ivf_nprobe`` lists. Not HNSW: on the replicated
    scale corpus pgvector's HNSW found under a tenth of the exact top 10 at 100k chunks, whatever
    its ef_search, as FAISS's HNSW did (docs/postgres.md)."""
    info = {"index": "exact", "metric": "inner_product", "exact_max": settings.database_exact_max}
    if n_chunks <= settings.database_exact_max:
        return info
    lists = ivf_lists(n_chunks)
    conn.execute(sql.SQL("CREATE INDEX ON {}.chunks USING ivfflat (embedding vector_ip_ops) WITH (lists = {})").format(
        schema, sql.Literal(lists)))
    return {**info, "index": "ivfflat", "lists": lists, "probes": min(lists, int(settings.ivf_nprobe))}


class _Steps:
    """One log line per step of a database write, with its duration: a long build shows progress."""

    def __init__(self, build_id: str) -> None:
        self.build_id, self.last = build_id, time.monotonic()

    def done(self, step: str) -> None:
        now = time.monotonic()
        log.info("build %s: %s in %.1f s", self.build_id, step, now - self.last)
        self.last = now


CHUNK_TYPES = ("integer", "text", "text", "integer", "integer", "integer", "text", "integer", "integer", "vector")
SENTENCE_TYPES = ("integer", "text", "integer", "integer", "vector", "bytea")


@contextmanager
def _copy(conn: psycopg.Connection, schema: sql.Identifier, table: str, types: tuple[str, ...]) -> Iterator[Copy]:
    """A binary ``COPY table FROM STDIN`` with its column types set."""
    with conn.cursor().copy(sql.SQL("COPY {}.{} FROM STDIN WITH (FORMAT BINARY)").format(
            schema, sql.Identifier(table))) as copy:
        copy.set_types(list(types))
        yield copy


def _write(conn: psycopg.Connection, build_id: str, prepared: list[_Prepared], encoder: Encoder,
           settings: Settings, alias_text: str, started: float, stories: Stories | None) -> None:
    conn.execute("INSERT INTO aqa_builds (id, state) VALUES (%s, 'writing')", (build_id,))
    register_vector(conn)  # numpy vectors dumped in pgvector's binary form
    analyzer = Analyzer(alias_text, spanish_lemmas(), alias_parts=True)
    dim = encoder.dim
    story = stories.story if stories else {}
    spans = chunk_sentence_spans(prepared)
    n_chunks = int(spans.shape[0])
    n_sentences = sum(len(p.sentences) for p in prepared)
    steps = _Steps(build_id)
    bm25, terms = _postings(analyzer, prepared)
    steps.done("BM25 analysis (bm25s)")
    s = schema_of(build_id)
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
        for statement in build_sql(BUILD_TABLES, build_id, dim=dim):
            conn.execute(statement)
        # Binary COPY throughout: vectors travel as float32 (pgvector's binary form), not decimal text.
        with _copy(conn, s, "articles", ("text",) * 9) as copy:
            for p in prepared:
                a = p.article
                copy.write_row((a.id, a.title, a.date, a.url, a.source, a.path, a.content_hash, a.text,
                                story.get(a.id, a.id)))
        steps.done("articles written")
        with _copy(conn, s, "chunks", CHUNK_TYPES) as copy:
            row = 0
            for p in prepared:
                for c, vector in zip(p.chunks, p.chunk_vectors):
                    copy.write_row((row, c.chunk_id, c.article_id, c.position, c.start, c.end, c.text,
                                    int(spans[row, 0]), int(spans[row, 1]), as_vector(vector)))
                    row += 1
        steps.done("chunks and their vectors written")
        with _copy(conn, s, "sentences", SENTENCE_TYPES) as copy:
            row = 0
            for p in prepared:
                for sentence, vector, tokens in zip(p.sentences, p.sentence_vectors, p.sentence_tokens or ()):
                    copy.write_row((row, p.article.id, sentence.start, sentence.end, as_vector(vector),
                                    np.ascontiguousarray(tokens, dtype=np.int8).tobytes()))
                    row += 1
        steps.done("sentences and their vectors written")
        scores = bm25._bm25.scores
        indptr, indices, data = (np.asarray(scores[k]) for k in ("indptr", "indices", "data"))
        with _copy(conn, s, "vocab", ("text", "integer", "integer", "bytea", "bytea")) as copy:
            for i, term in enumerate(terms):  # bm25s may list a token without postings (its "")
                lo, hi = (int(indptr[i]), int(indptr[i + 1])) if i + 1 < len(indptr) else (0, 0)
                copy.write_row((term, i, hi - lo, indices[lo:hi].astype("<i4").tobytes(),
                                data[lo:hi].astype("<f4").tobytes()))
        steps.done("vocabulary and postings written")
        for statement in build_sql(BUILD_INDEXES, build_id):
            conn.execute(statement)
        steps.done("b-tree indexes")
        vectors = _vector_index(conn, s, n_chunks, settings)
        if vectors["index"] != "exact":
            steps.done(f"vector index ({vectors['index']}, {vectors['lists']} lists)")
    for table in ("articles", "chunks", "sentences", "vocab"):  # the planner's statistics
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(s, sql.Identifier(table)))
    steps.done("VACUUM ANALYZE")
    manifest = {
        **manifest_of(prepared, encoder, settings, analyzer, stories, started),
        "storage": "postgresql",
        "tables_version": TABLES_VERSION,
        "bm25": {"method": "lucene", "num_docs": bm25.num_docs},
        "vectors": vectors,
        "counts": {"articles": len(prepared), "chunks": n_chunks, "sentences": n_sentences},
    }
    with conn.transaction():  # the switch: the build is done and served in one commit
        conn.execute("UPDATE aqa_builds SET state = 'done', finished_at = now(), manifest = %s, aliases = %s "
                     "WHERE id = %s", (json.dumps(manifest, ensure_ascii=False), alias_text, build_id))
        conn.execute("INSERT INTO aqa_current (one, build_id) VALUES (true, %s) "
                     "ON CONFLICT (one) DO UPDATE SET build_id = EXCLUDED.build_id", (build_id,))
    log.info("now current in the database: build %s", build_id)
