"""The bundled multilingual e5 behind the Encoder: offline, normalised, Spanish-aware."""
from __future__ import annotations

import numpy as np
import pytest

from index.embedding import Encoder, QueryCache
from index.settings import Settings
from tests.support.encoder import FakeEncoder

pytestmark = pytest.mark.slow

ACCUSATION = ("Funcionarios estadounidenses y surcoreanos han acusado a Corea del Norte de suministrar a "
              "Rusia artillería, misiles y otros equipos militares.")


@pytest.fixture(scope="module")
def e5() -> Encoder:
    return Encoder(Settings(_env_file=None, model="intfloat/multilingual-e5-small"))


def test_vectors_are_normalised_and_shaped(e5: Encoder) -> None:
    docs = e5.encode_documents(["hola", "", "Pionyang recibe tecnología militar."])
    assert docs.shape == (3, e5.dim) and e5.dim == 384 and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert e5.encode_documents([]).shape == (0, 384)


def test_query_and_passage_prompts_differ(e5: Encoder) -> None:
    """e5 wants "query: " on questions and "passage: " on documents; the engine applies them."""
    assert float(e5.encode_queries(["Corea del Norte"])[0] @ e5.encode_documents(["Corea del Norte"])[0]) < 0.999


def test_links_ee_uu_to_estadounidenses(e5: Encoder) -> None:
    """The dense side must bridge what BM25 cannot: no word of the question is in the answer."""
    query = e5.encode_queries(["¿Qué acusa EE. UU.?"])[0]
    docs = e5.encode_documents([ACCUSATION, "El Real Madrid ganó la liga de fútbol el domingo.",
                                "La lluvia volverá el fin de semana al norte de la península."])
    scores = docs @ query
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_batches_give_the_same_vectors_as_one_by_one(e5: Encoder) -> None:
    texts = ["uno dos tres", "Vladímir Putin visita Pionyang", "la economía crece un 2 %"]
    together = e5.encode_documents(texts)
    alone = np.vstack([e5.encode_documents([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_sentence_transformers_path_loads_minilm_offline(tmp_path) -> None:
    """Any sentence-transformers model still goes through the ONNX path; MiniLM ships in a package."""
    from index.settings import MINILM

    encoder = Encoder(Settings(_env_file=None, model=MINILM, model_cache_dir=tmp_path))
    assert encoder.backend == "onnx" and encoder.dim == 384
    vectors = encoder.encode_documents(["Corea del Norte", "paella"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert any(tmp_path.iterdir())  # the ONNX export was cached for the next load


def test_concurrent_queries_give_the_same_vectors(e5: Encoder) -> None:
    """The bot embeds questions from several threads at once; the C engine must not mix them up."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"¿Qué pasó en la reunión número {i} del consejo?" for i in range(16)]
    expected = e5.encode_queries(questions)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda q: e5.encode_queries([q])[0], questions))
    assert np.allclose(np.vstack(got), expected, atol=1e-5)


def test_lone_surrogates_and_blank_texts_do_not_break_the_engine(e5: Encoder) -> None:
    """A question can arrive from Telegram's JSON with half an emoji; it must still embed."""
    broken = e5.encode_queries(["¿Qué acusa \ud83d EE. UU.?", "   "])
    assert broken.shape == (2, 384) and np.isfinite(broken).all()
    clean = e5.encode_queries(["¿Qué acusa ? EE. UU.?"])[0]
    assert float(broken[0] @ clean) > 0.99


def test_query_cache_encodes_each_text_once_and_forgets_the_least_recent() -> None:
    encoder = FakeEncoder()
    cache = QueryCache(encoder, max_size=2)
    first = cache.encode_queries(["¿Qué acusa EE. UU.?", "¿Por qué?", "¿Qué acusa EE. UU.?"])
    assert encoder.calls == 2 and np.array_equal(first[0], first[2])
    assert np.array_equal(first, encoder.encode_queries(["¿Qué acusa EE. UU.?", "¿Por qué?", "¿Qué acusa EE. UU.?"]))
    encoder.calls = 0
    cache.encode_queries(["¿Qué acusa EE. UU.?"])  # remembered, and now the most recent
    cache.encode_queries(["¿Y qué recibe a cambio?"])  # evicts "¿Por qué?"
    cache.encode_queries(["¿Qué acusa EE. UU.?", "¿Por qué?"])
    assert encoder.calls == 2
    assert cache.encode_queries([]).shape == (0, encoder.dim)
