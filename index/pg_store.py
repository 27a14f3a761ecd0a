"""The served build in PostgreSQL + pgvector: the ``index.storage.Storage`` interface over SQL.

Every call is one query on a pooled connection (psycopg_pool): the pool checks a connection
before lending it, so after a server restart the next query reconnects instead of failing
forever; a statement timeout bounds each query. Reads go to ``database_read_url`` (a replica)
when set. The schema is described in ``index.pg_schema``.

Dense search: exact (a scan) up to ``database_exact_max`` chunks, pgvector's IVFFlat above it,
``ivfflat.probes`` set per query. Lexical search: bm25s' weights of the question's terms, summed here.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from .duplicates import also_in_of
from .errors import IndexCorrupt, IndexMismatch, IndexNotFound
from .lemmas import fingerprint as lemma_fingerprint, spanish_lemmas
from .lexical import Analyzer
from .pg_schema import TABLES_VERSION, DatabaseUnavailable, as_vector, redact, schema_of
from .records import AlsoIn, ArticleInfo, IndexInfo
from .settings import Settings
from .storage import LexicalHits
from .store import REBUILD_HINT, ChunkRow, check_compatible, top_rows

# The stories ``list_articles`` lists (as the folder's ``store._LISTED``), compared as SQLite compares text.
_LISTED = ('story = id AND (%s::text IS NULL OR date IS NULL OR date COLLATE "C" <= %s::text COLLATE "C") '
           'AND (%s::text IS NULL OR date COLLATE "C" >= %s::text COLLATE "C")')

log = logging.getLogger(__name__)

# How long the pool keeps retrying a lost connection in the background, pausing 1 s, then twice
# as long each time. Past it the pool gives up, and the next question connects at once: after a
# server restart the bots answer again with the next question instead of after a pause that
# doubled through the outage (up to 7 s after an 8 s outage with psycopg_pool's 300 s default).
RECONNECT_SECONDS = 2.0

_POOLS: dict[tuple, ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


class _Lru:
    """A bounded, thread-safe memo. A build never changes once done, so what was read of it
    (chunk rows, an article's sentences, a term's df) stays true: kept to save round trips."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys) -> dict:
        with self._lock:
            found = {k: self._data[k] for k in keys if k in self._data}
            for k in found:
                self._data.move_to_end(k)
        return found

    def put_many(self, items: dict) -> None:
        with self._lock:
            self._data.update(items)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _vectors_as_numpy(conn: psycopg.Connection) -> None:
    """Vectors travel as numpy float32 both ways. A database without pgvector has no index either:
    its connections still open, and the first query says there is no index."""
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:
        pass


def read_url(settings: Settings) -> str:
    return settings.database_read_url or settings.database_url


def connection_options(settings: Settings) -> dict:
    """Autocommit reads; a statement timeout; every query planned for its own values (a generic
    plan of ``row = ANY($1)`` joined the sentences by a full scan: 200 ms instead of 2)."""
    timeout = int(settings.database_statement_timeout_ms)
    return {"autocommit": True, "connect_timeout": 10, "prepare_threshold": None,
            "options": f"-c statement_timeout={timeout} -c plan_cache_mode=force_custom_plan"}


def pool_for(settings: Settings) -> ConnectionPool:
    """One pool per URL and size in the process, shared by every build opened from it."""
    url = read_url(settings)
    key = (url, settings.database_pool_size, settings.database_statement_timeout_ms, settings.database_wait_seconds)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = ConnectionPool(url, min_size=1, max_size=settings.database_pool_size,
                                  kwargs=connection_options(settings), check=ConnectionPool.check_connection,
                                  configure=_vectors_as_numpy,
                                  open=True, name="article-qa", timeout=settings.database_wait_seconds,
                                  reconnect_timeout=RECONNECT_SECONDS)
            _POOLS[key] = pool
        return pool


def close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


def current_build_id(settings: Settings) -> str | None:
    """The build id ``aqa_current`` names, or None (no build yet, or the database unreachable:
    the caller keeps what it serves)."""
    try:
        with pool_for(settings).connection() as conn:
            row = conn.execute("SELECT build_id FROM aqa_current").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    except (psycopg.Error, PoolTimeout) as exc:
        log.warning("cannot read the current build from %s: %s", redact(read_url(settings)), exc)
        return None
    return row[0] if row else None


def _tokens(blob: bytes | None, dims: int) -> np.ndarray:
    """A sentence's token vectors from their stored bytes (tokens x dims, int8)."""
    if not blob or not dims:
        return np.zeros((0, dims), dtype=np.int8)
    return np.frombuffer(bytes(blob), dtype=np.int8).reshape(-1, dims)


class PgIndex:
    """A loaded, validated build in PostgreSQL; thread-safe (each query borrows a connection)."""

    def __init__(self, settings: Settings, build_id: str, manifest: dict, aliases: str) -> None:
        self.settings = settings
        self.build_id = build_id
        self.manifest = manifest
        self._schema = schema_of(build_id)
        self._pool = pool_for(settings)
        analysis = manifest.get("analyzer", {})
        built_with = analysis.get("lemmas")
        if built_with and built_with != lemma_fingerprint():
            log.warning("build %s was made with another lemma table; the next build re-analyses it", build_id)
        self.analyzer = Analyzer(aliases, spanish_lemmas() if built_with else None,
                                 alias_parts=bool(analysis.get("alias_parts")))
        counts = manifest.get("counts", {})
        self._chunks = int(counts.get("chunks", 0))
        self._docs = int(manifest.get("bm25", {}).get("num_docs", self._chunks))
        self._probes = int(manifest.get("vectors", {}).get("probes", 0)) if manifest.get(
            "vectors", {}).get("index") == "ivfflat" else 0
        self._chunk_rows, self._sentences, self._df = _Lru(50_000), _Lru(4096), _Lru(100_000)
        self._token_dims = int(manifest.get("tokens", {}).get("dims") or 0)
        self._check_counts()
        self.also_in = self._also_in()

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, build_id: str | None = None) -> "PgIndex":
        """The current build (or ``build_id``); IndexNotFound / IndexMismatch / IndexCorrupt."""
        where = redact(read_url(settings))
        try:
            with pool_for(settings).connection() as conn:
                if build_id is None:
                    try:
                        row = conn.execute("SELECT build_id FROM aqa_current").fetchone()
                    except psycopg.errors.UndefinedTable:
                        row = None
                    if row is None:
                        raise IndexNotFound(f"no index in the database {where}; build one with `python -m index build`")
                    build_id = row[0]
                found = conn.execute("SELECT state, manifest, aliases FROM aqa_builds WHERE id = %s",
                                     (build_id,)).fetchone()
        except (psycopg.Error, PoolTimeout) as exc:
            raise DatabaseUnavailable(f"cannot read the index from {where}: {exc}") from exc
        if found is None or found[0] != "done":
            raise IndexCorrupt(f"build {build_id} in {where} is not complete; {REBUILD_HINT}")
        manifest, aliases = found[1], found[2]
        check_compatible(manifest, settings.model, Path(f"{where}#{build_id}"))
        if manifest.get("tables_version") != TABLES_VERSION:
            raise IndexMismatch(f"build {build_id} in {where} has table layout {manifest.get('tables_version')}, "
                                f"this code reads layout {TABLES_VERSION}; {REBUILD_HINT}")
        try:
            return cls(settings, build_id, manifest, aliases)
        except (psycopg.Error, PoolTimeout) as exc:
            raise IndexCorrupt(f"cannot read build {build_id} in {where}: {exc}; {REBUILD_HINT}") from exc

    def _check_counts(self) -> None:
        counts = self.manifest.get("counts", {})
        found = self.query_one(sql.SQL("SELECT (SELECT count(*) FROM {s}.chunks), (SELECT count(*) FROM {s}.sentences),"
                                       " (SELECT count(*) FROM {s}.articles)").format(s=self._schema))
        if tuple(found) != (counts.get("chunks"), counts.get("sentences"), counts.get("articles")):
            raise IndexCorrupt(f"build {self.build_id}: row counts differ from its manifest; {REBUILD_HINT}")

    def _also_in(self) -> dict[str, tuple[AlsoIn, ...]]:
        """As ``StoredIndex._also_in``: the other outlets of each article's story."""
        rows = self.query(sql.SQL(
            "SELECT id, story, source, url FROM {s}.articles WHERE story IN "
            "(SELECT story FROM {s}.articles GROUP BY story HAVING COUNT(*) > 1) "
            'ORDER BY story COLLATE "C", id <> story, id COLLATE "C"').format(s=self._schema))
        return also_in_of(rows)

    # -- queries ---------------------------------------------------------------------------
    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; a lost server or a query past the statement timeout is one
        ``DatabaseUnavailable`` (the bot answers with its error reply, the CLI with one line).
        The pool drops the broken connection and checks the next one, so the next query
        reconnects once the server is back."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailable(f"no database connection: {exc}") from exc
        except psycopg.errors.QueryCanceled as exc:
            raise DatabaseUnavailable(f"a query took longer than {self.settings.database_statement_timeout_ms} ms "
                                      "(ARTICLE_QA_DATABASE_STATEMENT_TIMEOUT_MS)") from exc
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"the database connection failed: {str(exc).strip()}") from exc
        except psycopg.errors.UndefinedTable as exc:  # dropped by a later build's garbage collection
            raise DatabaseUnavailable(f"build {self.build_id} is no longer in the database; the next reload "
                                      "serves the current one") from exc

    def query(self, statement, params: Sequence | dict = ()) -> list[tuple]:
        with self._conn() as conn:
            return conn.execute(statement, params).fetchall()

    def query_one(self, statement, params: Sequence | dict = ()) -> tuple:
        with self._conn() as conn:
            return conn.execute(statement, params).fetchone()

    @property
    def build_key(self) -> str:
        return self.build_id

    @property
    def size(self) -> int:
        return self._chunks

    def lexical(self, terms: Sequence[str], k: int, rows: Sequence[int] = ()) -> LexicalHits:
        """BM25 as the folder computes it: the question's terms' postings (one row per term, read
        in binary) summed term by term in float32, then the folder's ``top_rows``."""
        terms = [t for t in terms if t]
        if not terms:
            return LexicalHits(np.zeros(0, dtype=np.int64), {})
        with self._conn() as conn:
            found = {term: (rows_, weights) for term, rows_, weights in conn.execute(sql.SQL(
                "SELECT term, rows, weights FROM {s}.vocab WHERE term = ANY(%s)").format(s=self._schema),
                (list(set(terms)),), binary=True)}
        scores = np.zeros(self._docs, dtype=np.float32)
        for term in terms:  # in the question's order, repeats included, as bm25s adds them
            if term in found:
                rows_, weights = found[term]
                scores[np.frombuffer(rows_, dtype="<i4")] += np.frombuffer(weights, dtype="<f4")
        top = top_rows(scores, k)
        wanted = {int(r) for r in top} | {int(r) for r in rows}
        return LexicalHits(top, {r: float(scores[r]) for r in wanted if 0 <= r < len(scores)})

    def idf(self, terms: Sequence[str], unknown_factor: float = 1.0) -> dict[str, float]:
        """bm25s' Lucene idf from the stored document frequencies (as ``Bm25Index.idf``)."""
        cached = self._df.get_many(set(terms))
        missing = [t for t in set(terms) if t not in cached]
        if missing:
            fresh = dict(self.query(sql.SQL("SELECT term, df FROM {s}.vocab WHERE term = ANY(%s)").format(
                s=self._schema), (missing,)))
            self._df.put_many({t: fresh.get(t, 0) for t in missing})
            cached.update({t: fresh.get(t, 0) for t in missing})
        known = {t: df for t, df in cached.items() if df > 0}
        n = max(self._docs, 1)
        out = {}
        for term in terms:
            df = int(known.get(term, 0))
            weight = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
            out[term] = weight if term in known else weight * unknown_factor
        return out

    def dense_top(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = as_vector(vector)
        statement = sql.SQL("SELECT row, -(embedding <#> %(q)s::vector) FROM {s}.chunks "
                            "ORDER BY embedding <#> %(q)s::vector LIMIT %(k)s").format(s=self._schema)
        with self._conn() as conn:
            if not self._probes:
                found = conn.execute(statement, {"q": q, "k": int(k)}).fetchall()
            else:
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL ivfflat.probes = {}").format(sql.Literal(self._probes)))
                    # The build has an IVFFlat index: use it even where the planner would scan a small table.
                    conn.execute("SET LOCAL enable_seqscan = off")
                    found = conn.execute(statement, {"q": q, "k": int(k)}).fetchall()
        rows = np.array([r for r, _ in found], dtype=np.int64)
        return rows, np.array([v for _, v in found], dtype=np.float32)

    def _cosines_of(self, table: str, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        rows = [int(r) for r in rows]
        if not rows:
            return np.zeros(0, dtype=np.float32)
        found = dict(self.query(sql.SQL("SELECT row, -(embedding <#> %s::vector) FROM {s}.{t} WHERE row = ANY(%s)")
                                .format(s=self._schema, t=sql.Identifier(table)), (as_vector(vector), rows)))
        return np.array([found[r] for r in rows], dtype=np.float32)

    def cosines(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        return self._cosines_of("chunks", vector, rows)

    def sentence_cosines(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        return self._cosines_of("sentences", vector, rows)

    def sentence_tokens(self, rows: Sequence[int]) -> list[np.ndarray]:
        rows = [int(r) for r in rows]
        if not rows:
            return []
        found = dict(self.query(sql.SQL("SELECT row, tokens FROM {s}.sentences WHERE row = ANY(%s)").format(
            s=self._schema), (rows,)))
        return [_tokens(found[r], self._token_dims) for r in rows]

    def best_sentence_cosines(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        rows = [int(r) for r in rows]
        out = np.full(len(rows), np.nan)
        if not rows:
            return out
        found = dict(self.query(sql.SQL(
            "SELECT c.row, (SELECT max(-(s.embedding <#> %s::vector)) FROM {s}.sentences s "
            "WHERE s.row >= c.first_sentence AND s.row < c.end_sentence) FROM {s}.chunks c WHERE c.row = ANY(%s)"
        ).format(s=self._schema), (as_vector(vector), rows)))
        for i, r in enumerate(rows):
            if found.get(r) is not None:
                out[i] = float(np.float32(found[r]))
        return out

    def chunks(self, rows: Sequence[int]) -> list[ChunkRow]:
        rows = [int(r) for r in rows]
        if not rows:
            return []
        by_row = self._chunk_rows.get_many(rows)
        missing = [r for r in dict.fromkeys(rows) if r not in by_row]
        if missing:
            found = self.query(sql.SQL(
                'SELECT c.row, c.chunk_id, c.article_id, c.position, c.start, c."end", c.text, '
                "a.title, a.date, a.url, a.source, a.story FROM {s}.chunks c JOIN {s}.articles a "
                "ON a.id = c.article_id WHERE c.row = ANY(%s)").format(s=self._schema), (missing,))
            fresh = {r[0]: ChunkRow(*r, also_in=self.also_in.get(r[2], ())) for r in found}
            self._chunk_rows.put_many(fresh)
            by_row.update(fresh)
        return [by_row[r] for r in rows if r in by_row]

    def article_chunks(self, article_id: str) -> list[ChunkRow]:
        rows = self.query(sql.SQL("SELECT row FROM {s}.chunks WHERE article_id = %s ORDER BY position").format(
            s=self._schema), (article_id,))
        return self.chunks([r[0] for r in rows])

    def article_vectors(self, article_id: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """The article's chunk vectors (reading order), sentence vectors and token vectors (text
        order), for a rebuild that keeps an unchanged article's vectors."""
        chunks = self.query(sql.SQL("SELECT embedding FROM {s}.chunks WHERE article_id = %s "
                                    "ORDER BY position").format(s=self._schema), (article_id,))
        sentences = self.query(sql.SQL("SELECT embedding, tokens FROM {s}.sentences WHERE article_id = %s "
                                       "ORDER BY start").format(s=self._schema), (article_id,))
        dim = int(self.manifest["model"]["dimension"])
        chunk_vectors, sentence_vectors = (np.array([r[0] for r in found], dtype=np.float32).reshape(len(found), dim)
                                           for found in (chunks, sentences))
        return chunk_vectors, sentence_vectors, [_tokens(r[1], self._token_dims) for r in sentences]

    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """From the article's sentences, read once per article (a question looks at several of its chunks)."""
        found = self._sentences.get_many([article_id])
        if article_id not in found:
            found[article_id] = [tuple(r) for r in self.query(sql.SQL(
                'SELECT row, start, "end" FROM {s}.sentences WHERE article_id = %s ORDER BY start, row').format(
                s=self._schema), (article_id,))]
            self._sentences.put_many(found)
        return [r for r in found[article_id] if r[1] >= start and r[2] <= end]

    def article_text(self, article_id: str) -> str:
        found = self.query(sql.SQL("SELECT text FROM {s}.articles WHERE id = %s").format(s=self._schema),
                           (article_id,))
        return found[0][0] if found else ""

    def articles(self, ids: Sequence[str]) -> list[ArticleInfo]:
        if not ids:
            return []
        found = self.query(sql.SQL("SELECT id, title, date, url, source FROM {s}.articles WHERE id = ANY(%s)").format(
            s=self._schema), (list(ids),))
        return [ArticleInfo(*r) for r in found]

    def list_articles(self, offset: int = 0, limit: int = 10, until: str | None = None,
                      since: str | None = None) -> list[ArticleInfo]:
        """As ``StoredIndex.list_articles``: one row per story, newest first, undated last, by
        title (byte order, as SQLite sorts); none dated after ``until``, only from ``since``."""
        found = self.query(sql.SQL(
            "SELECT id, title, date, url, source FROM {s}.articles WHERE " + _LISTED +
            ' ORDER BY date IS NULL, date COLLATE "C" DESC, title COLLATE "C" LIMIT %s OFFSET %s').format(
            s=self._schema), (until, until, since, since, max(0, limit), max(0, offset)))
        return [ArticleInfo(*r, also_in=self.also_in.get(r[0], ())) for r in found]

    def count_listed(self, until: str | None = None, since: str | None = None) -> int:
        """How many rows ``list_articles`` has in all (with the same ``until`` and ``since``)."""
        found = self.query(sql.SQL("SELECT COUNT(*) FROM {s}.articles WHERE " + _LISTED).format(
            s=self._schema), (until, until, since, since))
        return int(found[0][0])

    def info(self) -> IndexInfo:
        m = self.manifest
        dates = m.get("dates", {})
        return IndexInfo(f"postgresql build {self.build_id}", m["counts"]["articles"], m["counts"]["chunks"],
                         m["built_at"], m["model"]["name"], dates.get("min"), dates.get("max"),
                         stories=self.count_listed())

    def close(self) -> None:
        """The pool is shared by the builds of one database and outlives them (``close_pools``)."""
