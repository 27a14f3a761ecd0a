"""The token match: how well each of the question's words is met by some word of a sentence, as
e5 reads both in their context (late interaction, as ColBERT scores, with e5's own states).

Why: the sentence that states the asked fact often says it in other words than the question
("¿A qué otros autores copió?" → "plagió a los académicos…"). One cosine of whole-sentence
vectors blurs that, and word overlap misses it; the last hidden states of the same e5 run that
embeds a text say, word by word, what each word means there. Added to the sentence features,
the best match of each question word (mean, and mean of the three best) chose the gold sentence
more often on both tune halves at every regularisation tried (docs/evaluation.md).

What is stored per sentence token: its last hidden state minus the mean state, projected on the
64 principal directions of the states of the news tune half's sentences (``BASIS_FILE``, fitted
by scripts/fit_token_basis.py), L2-normalised and rounded to int8: 64 bytes a token, a product
of two of them a cosine times ``SCALE``². Only the model the basis was fitted for has one; with
any other model the match is 0 for every sentence, which changes no ranking.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

BASIS_FILE = Path(__file__).parent / "data" / "token_basis.npz"
SCALE = 127  # a unit vector's components times this fit int8
TOP = 3  # the peak feature: the mean of the best-met question words' matches
NAMES = ("match", "match_peak")


@dataclass(frozen=True)
class TokenBasis:
    """The centring and projection of one model's hidden states (``BASIS_FILE``)."""

    model: str
    mean: np.ndarray  # (hidden,)
    axes: np.ndarray  # (hidden, dims)

    @property
    def dims(self) -> int:
        return int(self.axes.shape[1])

    @property
    def fingerprint(self) -> str:
        """Names the stored token vectors: another basis makes them incomparable."""
        digest = hashlib.blake2b(self.mean.tobytes() + self.axes.tobytes(), digest_size=8).hexdigest()
        return f"{self.model}|{self.dims}|{digest}"

    def project(self, states: np.ndarray) -> np.ndarray:
        """Hidden states (tokens x hidden) to stored token vectors (tokens x dims, int8)."""
        if len(states) == 0:
            return np.zeros((0, self.dims), dtype=np.int8)
        projected = (np.asarray(states, dtype=np.float32) - self.mean) @ self.axes
        norms = np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-9)
        return np.clip(np.rint(projected / norms * SCALE), -SCALE, SCALE).astype(np.int8)


def load_basis(model: str, hidden: int, path: Path = BASIS_FILE) -> TokenBasis | None:
    """The basis for ``model``, or None when the file holds another model's (or none)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        basis = TokenBasis(str(data["model"]), data["mean"].astype(np.float32), data["axes"].astype(np.float32))
    return basis if basis.model == model and basis.mean.shape == (hidden,) else None


def empty(dims: int = 0) -> np.ndarray:
    """The token vectors of a text that has none (a model without a basis)."""
    return np.zeros((0, dims), dtype=np.int8)


def match_features(question: np.ndarray | None, sentences: Sequence[np.ndarray]) -> np.ndarray:
    """Per sentence: the mean over the question's tokens of its best cosine with a token of the
    sentence, and the mean of the ``TOP`` best such cosines; 0 when either side has no tokens."""
    out = np.zeros((len(sentences), len(NAMES)), dtype=np.float64)
    lengths = np.array([len(s) for s in sentences], dtype=np.int64)
    if question is None or len(question) == 0 or not lengths.any():
        return out
    held = np.flatnonzero(lengths)
    stacked = np.concatenate([sentences[i] for i in held]).astype(np.float32)
    sims = (np.asarray(question, dtype=np.float32) @ stacked.T) / (SCALE * SCALE)  # question tokens x all tokens
    starts = np.concatenate([[0], np.cumsum(lengths[held])[:-1]])
    best = np.maximum.reduceat(sims, starts, axis=1)  # question tokens x sentences: each word's best match
    out[held, 0] = best.mean(axis=0)
    out[held, 1] = np.sort(best, axis=0)[-TOP:].mean(axis=0)
    return out
