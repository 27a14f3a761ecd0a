"""A deterministic fake encoder for fast tests, and where the repository and its sample live."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np

from index.lexical import words

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "articles"


class FakeEncoder:
    """Bag of hashed folded words: deterministic, instant, and similar texts get similar vectors."""

    name = "fake-hash"
    dim = 64
    backend = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in words(text):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def encode_documents(self, texts) -> np.ndarray:
        self.calls += len(texts)
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts) -> np.ndarray:
        return self.encode_documents(texts)


def copy_sample(dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest)
    return dest


class TokenFakeEncoder(FakeEncoder):
    """The fake encoder with token vectors (``index.token_match``): one hashed unit row per word,
    so the same word in two texts matches exactly and two words barely."""

    token_dims = 8

    def __init__(self) -> None:
        super().__init__()
        from index.token_match import TokenBasis

        self.token_basis = TokenBasis(self.name, np.zeros(self.token_dims, np.float32),
                                      np.eye(self.token_dims, dtype=np.float32))

    def _tokens(self, text: str) -> np.ndarray:
        rows = [np.random.default_rng(int(hashlib.md5(w.encode()).hexdigest()[:8], 16)).standard_normal(self.token_dims)
                for w in words(text)]
        return self.token_basis.project(np.array(rows, np.float32).reshape(len(rows), self.token_dims))

    def encode_documents_with_tokens(self, texts) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode_documents(texts), [self._tokens(t) for t in texts]

    def encode_queries_with_tokens(self, texts) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode_queries(texts), [self._tokens(t) for t in texts]
