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
