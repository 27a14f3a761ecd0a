"""The storage tests on both backends, index folder and PostgreSQL, with the same assertions:
build, incremental rebuild, search, ask outcomes, reload, refusals, garbage collection, and a
killed build that leaves the served one. The PostgreSQL server is the session's (tests/support/postgres.py)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import psycopg
import pytest

from index.build import build_index
from index.engine import Engine
from index.errors import BuildLocked, IndexMismatch, IndexNotFound, NothingToIndex
from index.records import Turn
from index.settings import Settings
from index.storage import current_key, open_storage
from index.vectors import ivf_lists
from tests.support.corpus import write, write_three
from tests.support.encoder import SAMPLE, FakeEncoder, TokenFakeEncoder
from tests.support.kill import killed_at_random

BACKENDS = ["folder", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, fake_settings: Settings) -> Settings:
    """The test's settings on one backend (a fresh database per test for PostgreSQL)."""
    settings = fake_settings.model_copy(update={"embed_cache_max_texts": 0})
    if request.param == "postgres":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
    return settings


@pytest.fixture
def corpus(backend: Settings) -> Settings:
    folder = backend.articles_dir
    write_three(folder)
    return backend


def test_build_then_search_and_ask(corpus: Settings) -> None:
    report = build_index(corpus, encoder=FakeEncoder())
    assert report.full and sorted(report.added) == ["a", "b", "c"] and report.chunks >= 3
    engine = Engine.open(corpus, FakeEncoder())
    assert engine.info().articles == 3 and engine.info().chunks == report.chunks
    assert engine.search("misiles Corea")[0].article_id == "a"
    assert engine.search("paella azafrán")[0].article_id == "b"
    answer = engine.ask("¿Qué lleva la paella?")
    assert answer.answered and "arroz" in answer.answer
    assert [a.id for a in engine.list_articles(0, 10)] == sorted(["a", "b", "c"], key=lambda i: {"a": "Corea del Norte", "b": "Cocina", "c": "Fútbol"}[i])


def test_stories_are_listed_once_and_nothing_after_today(backend: Settings) -> None:
    """Two outlets' copies of one story list once, naming the other outlet; ``until`` drops
    what is dated after it, ``since`` what is dated before it; the counts follow."""
    import json

    story = ("Un incendio consumió la madrugada del martes decenas de locales del mercado central sin dejar "
             "víctimas, según informó Protección Civil. El fuego comenzó en un puesto de comida y se extendió "
             "por los pasillos techados. Los bomberos trabajaron cinco horas para controlar las llamas.")
    records = [
        {"id": "uno", "title": "Arde el mercado", "text": story, "date": "2024-03-01", "source": "Diario Uno"},
        {"id": "dos", "title": "Incendio en el mercado", "text": "Agencia. " + story, "date": "2024-03-02",
         "source": "Diario Dos"},
        {"id": "futuro", "title": "Fútbol", "text": "El equipo ganó el partido por dos goles en la final.",
         "date": "2024-05-01", "source": "Diario Uno"},
    ]
    (backend.articles_dir / "news.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                                    encoding="utf-8")
    build_index(backend, encoder=FakeEncoder())
    engine = Engine.open(backend, FakeEncoder())
    stored = engine._index()
    listed = stored.list_articles(0, 10)
    assert [a.id for a in listed] == ["futuro", "dos"]
    assert [a.source for a in listed[1].also_in] == ["Diario Uno"]
    assert [a.id for a in stored.list_articles(0, 10, "2024-03-31")] == ["dos"]
    assert (stored.count_listed(), stored.count_listed("2024-03-31")) == (2, 1)
    # ``since``: only what is dated from it on, compared as ISO text, on both backends alike.
    assert [a.id for a in stored.list_articles(0, 10, "2024-05-31", "2024-04-01")] == ["futuro"]
    assert [a.id for a in stored.list_articles(0, 10, "2024-03-31", "2024-03")] == ["dos"]
    assert (stored.count_listed("2024-05-31", "2024-03-03"), stored.count_listed("2024-12-31", "2024")) == (1, 2)
    assert engine.info().stories == 2 and engine.info().articles == 3


def test_incremental_rebuild_embeds_only_what_changed(corpus: Settings) -> None:
    first = FakeEncoder()
    build_index(corpus, encoder=first)
    write(corpus.articles_dir, "b.txt", "Cocina", "La paella lleva arroz, azafrán y conejo.")
    write(corpus.articles_dir, "d.txt", "Volcanes", "Un volcán entró en erupción en Islandia.")
    (corpus.articles_dir / "c.txt").unlink()
    second = FakeEncoder()
    report = build_index(corpus, encoder=second)
    assert not report.full
    assert (report.added, report.changed, report.removed, report.unchanged) == (["d"], ["b"], ["c"], ["a"])
    assert 0 < second.calls < first.calls + 4  # only b's and d's texts
    engine = Engine.open(corpus, FakeEncoder())
    assert engine.search("volcán Islandia")[0].article_id == "d"
    assert engine.search("misiles Corea")[0].article_id == "a"  # reused vectors still found
    assert engine.info().articles == 3
    third = FakeEncoder()
    assert build_index(corpus, encoder=third).unchanged == ["a", "b", "d"] and third.calls == 0


def _article_tokens(settings: Settings, article_id: str) -> dict[str, list]:
    """The stored token vectors of each sentence of an article, by the sentence's text."""
    stored = open_storage(settings)
    try:
        text = stored.article_text(article_id)
        rows = stored.sentences_in(article_id, 0, len(text))
        return {text[a:b]: t.tolist() for (_, a, b), t in zip(rows, stored.sentence_tokens([r for r, _, _ in rows]))}
    finally:
        stored.close()


def test_token_vectors_are_stored_and_kept_by_a_rebuild(corpus: Settings) -> None:
    encoder = TokenFakeEncoder()
    build_index(corpus, encoder=encoder)
    kept = _article_tokens(corpus, "a")
    assert kept and all(t == encoder.encode_documents_with_tokens([s])[1][0].tolist() for s, t in kept.items())
    write(corpus.articles_dir, "b.txt", "Cocina", "La paella lleva arroz, azafrán y conejo.")
    second = TokenFakeEncoder()
    report = build_index(corpus, encoder=second)
    assert not report.full and report.unchanged == ["a", "c"] and second.calls > 0
    assert _article_tokens(corpus, "a") == kept  # reused from the served build, not embedded again
    assert _article_tokens(corpus, "b")


def test_reload_follows_a_new_build(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    engine = Engine.open(corpus, FakeEncoder())
    assert not engine.reload_if_changed()
    before = current_key(corpus)
    write(corpus.articles_dir, "d.txt", "Volcanes", "Un volcán entró en erupción en Islandia.")
    build_index(corpus, encoder=FakeEncoder())
    assert current_key(corpus) != before
    assert engine.reload_if_changed() and engine.info().articles == 4
    assert engine.search("volcán Islandia")[0].article_id == "d"


def test_missing_index_and_model_mismatch_are_refused(corpus: Settings) -> None:
    with pytest.raises(IndexNotFound):
        open_storage(corpus)
    build_index(corpus, encoder=FakeEncoder())
    with pytest.raises(IndexMismatch, match="model"):
        open_storage(corpus.model_copy(update={"model": "another-model"}))


class NarrowEncoder(FakeEncoder):
    dim = 32


def test_another_vector_dimension_is_refused(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    with pytest.raises(IndexMismatch, match="dimension"):
        Engine.open(corpus, NarrowEncoder())


def test_nothing_to_index_keeps_the_served_build(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    served = current_key(corpus)
    empty = corpus.articles_dir.parent / "empty"
    empty.mkdir()
    with pytest.raises(NothingToIndex):
        build_index(corpus, articles=empty, encoder=FakeEncoder())
    assert current_key(corpus) == served


def test_old_builds_are_collected(corpus: Settings) -> None:
    for i in range(4):
        write(corpus.articles_dir, "x.txt", "Cambia", f"Versión número {i} del texto.")
        build_index(corpus, encoder=FakeEncoder())
    assert len(stored_builds(corpus)) == 2
    assert Engine.open(corpus, FakeEncoder()).search("versión texto")[0].article_id == "x"


def stored_builds(settings: Settings) -> list[str]:
    if settings.database_url:
        with psycopg.connect(settings.database_url) as conn:
            builds = [r[0] for r in conn.execute("SELECT id FROM aqa_builds")]
            schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'aqa_%'")]
            assert sorted(schemas) == sorted("aqa_" + b for b in builds)  # no schema left behind
            return builds
    return [p.name for p in (settings.index_dir / "builds").iterdir() if not p.name.startswith(".")]


def test_a_second_build_at_once_is_refused(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    if corpus.database_url:
        from index.pg_schema import BUILD_LOCK_KEY

        with psycopg.connect(corpus.database_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (BUILD_LOCK_KEY,))
            with pytest.raises(BuildLocked, match="another build"):
                build_index(corpus, encoder=FakeEncoder())
    else:
        from index import store

        with store.build_lock(corpus.index_dir):
            with pytest.raises(BuildLocked, match="another build"):
                build_index(corpus, encoder=FakeEncoder())
    build_index(corpus, encoder=FakeEncoder())  # free again


def test_killed_builds_never_lose_the_served_one(backend: Settings, tmp_path: Path) -> None:
    """SIGKILL a build process at random points, 8 times; the served build always answers."""
    articles = shutil.copytree(SAMPLE, tmp_path / "sample")
    settings = backend.model_copy(update={"articles_dir": articles})
    build_index(settings, encoder=FakeEncoder())
    worker = [sys.executable, str(Path(__file__).parent / "build_worker.py"), str(articles),
              str(settings.index_dir), "full", "fake", *([settings.database_url] if settings.database_url else [])]
    for _ in killed_at_random(worker, 8):
        answer = Engine.open(settings, FakeEncoder()).ask("¿De qué acusan los funcionarios de EE. UU. a Corea del Norte?")
        assert answer.answered and "artillería, misiles" in answer.answer
    report = build_index(settings, encoder=FakeEncoder())  # the next build cleans up after the killed ones
    assert report.unchanged and len(stored_builds(settings)) <= 2


SAMPLE_QUESTIONS = [
    "¿De qué acusan los funcionarios de EE. UU. a Corea del Norte?", "¿Quién ganó el partido?",
    "¿Qué dijo el presidente?", "¿Cuándo empezó la vacunación?", "¿Dónde ocurrió el accidente?",
    "¿Cuánto cuesta la vivienda?", "¿Por qué protestaron los agricultores?", "¿Qué es el coronavirus?",
    "¿Cuál es la capital de Mongolia?", "¿Quién es el entrenador?", "precio de la luz", "elecciones",
    "¿De qué trata la noticia sobre Putin?", "¿Qué pasó con Messi?",  # the story's lead (index.gist)
    "¿Es verdad que la vacuna del coronavirus esteriliza a las mujeres?",  # the verdict (index.verdict)
]


def test_ask_outcomes_agree_on_the_sample(fake_settings: Settings, pg_url: str) -> None:
    """The bundled sample on both backends: the same outcome, answer and passages for every question."""
    folder = fake_settings.model_copy(update={"articles_dir": SAMPLE, "embed_cache_max_texts": 0,
                                              "answer_match_weight": 0.2, "answer_match_peak_weight": 0.1})
    database = folder.model_copy(update={"database_url": pg_url})
    for settings in (folder, database):
        build_index(settings, encoder=TokenFakeEncoder())
    on_folder, on_database = Engine.open(folder, TokenFakeEncoder()), Engine.open(database, TokenFakeEncoder())
    answered = 0
    for question in SAMPLE_QUESTIONS:
        a, b = on_folder.ask(question), on_database.ask(question)
        assert (a.answered, a.answer) == (b.answered, b.answer), question
        assert [p.hit.chunk_id for p in a.passages] == [p.hit.chunk_id for p in b.passages], question
        x, y = on_folder.evidence(question), on_database.evidence(question)  # the token match included
        features = [[s.features[-2:] for s in getattr(e, "sentences", ())] for e in (x, y)]  # a verdict has none
        assert features[0] == features[1], question
        answered += a.answered
    assert answered >= 3
    lead = on_database.ask("¿De qué trata la noticia sobre Putin?")  # the first passage of its story, from the database
    first = on_database._index().article_chunks(lead.passages[0].hit.article_id)[0]
    assert lead.answered and first.text.startswith(lead.answer.rstrip("…")) and lead.passages[0].highlight
    history = [Turn(lead.question, lead.answer, (lead.passages[0].hit.article_id,))]
    more = [engine.ask("¿Qué más dice?", history=history) for engine in (on_folder, on_database)]
    assert more[0].answered and more[0].answer == more[1].answer and more[0].answer not in lead.answer
    verdict = on_database.ask(SAMPLE_QUESTIONS[-1])  # the headline of the story that checks the claim
    assert verdict.answer == "Es falso que la vacuna del coronavirus esterilice a las mujeres"
    lexical_ranks_the_same(on_folder._index(), on_database._index())


def lexical_ranks_the_same(folder, database) -> None:
    """BM25 on both backends: the same top rows in the same order, and bit-identical scores for
    them and for asked rows (repeated terms and unknown terms included)."""
    for question in [*SAMPLE_QUESTIONS, "corea corea del norte misiles", "palabraquenoexiste"]:
        terms = folder.analyzer.terms(question)
        assert terms == database.analyzer.terms(question)
        a, b = folder.lexical(terms, 20, rows=[0, 5, 17]), database.lexical(terms, 20, rows=[0, 5, 17])
        assert a.top.tolist() == b.top.tolist(), question
        assert a.scores == b.scores, question


def test_ivfflat_finds_what_exact_search_finds(fake_settings: Settings, pg_url: str) -> None:
    """Above database_exact_max the dense side is pgvector's IVFFlat index with the folder's list
    count, searched with ivf_nprobe lists: the query plan uses it, and it returns the exact top 10
    (64 of the sample's 69 lists are searched)."""
    exact = fake_settings.model_copy(update={"articles_dir": SAMPLE, "database_url": pg_url, "embed_cache_max_texts": 0})
    build_index(exact, encoder=FakeEncoder())
    stored = open_storage(exact)
    assert stored.manifest["vectors"]["index"] == "exact"
    exact_rows = [stored.dense_top(FakeEncoder().encode_queries([q])[0], 10)[0] for q in SAMPLE_QUESTIONS]
    approximate = exact.model_copy(update={"database_exact_max": 0})
    build_index(approximate, encoder=FakeEncoder(), full=True)
    stored = open_storage(approximate)
    n = stored.size
    assert stored.manifest["vectors"] == {"index": "ivfflat", "metric": "inner_product", "exact_max": 0,
                                          "lists": ivf_lists(n), "probes": min(ivf_lists(n), approximate.ivf_nprobe)}
    with psycopg.connect(pg_url) as conn:
        conn.execute("SET enable_seqscan = off")  # as PgIndex.dense_top does on a build with IVFFlat
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT row FROM aqa_{stored.build_id}.chunks ORDER BY embedding <#> %s::vector LIMIT 10",
            ("[" + ",".join(["0.125"] * FakeEncoder.dim) + "]",)))
    assert "Index Scan" in plan and "chunks_embedding_idx" in plan
    found = [stored.dense_top(FakeEncoder().encode_queries([q])[0], 10)[0] for q in SAMPLE_QUESTIONS]
    hits = sum(len(set(a) & set(b)) for a, b in zip(exact_rows, found))
    assert hits >= 0.95 * sum(len(a) for a in exact_rows)
