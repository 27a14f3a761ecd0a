"""Building, incremental rebuilds, atomic switch-over, locking and validation of the index."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index import store
from index.build import build_index
from index.engine import Engine
from index.errors import BuildFailed, BuildLocked, IndexCorrupt, IndexMismatch, IndexNotFound, NothingToIndex
from index.settings import Settings
from tests.support.corpus import write, write_three
from tests.support.encoder import SAMPLE, FakeEncoder
from tests.support.kill import killed_at_random

SEED = "¿Qué acusa EE. UU.?"


@pytest.fixture
def corpus(fake_settings: Settings) -> Settings:
    folder = fake_settings.articles_dir
    write_three(folder)
    return fake_settings


def test_build_writes_plain_files_and_manifest(corpus: Settings, fake_encoder: FakeEncoder) -> None:
    report = build_index(corpus, encoder=fake_encoder)
    assert report.full and sorted(report.added) == ["a", "b", "c"] and report.chunks >= 3
    build = store.current_build(corpus.index_dir)
    assert build is not None and build == report.build_dir
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == {"name": FakeEncoder.name, "dimension": FakeEncoder.dim, "backend": "fake"}
    assert manifest["chunking"]["max_chars"] == corpus.chunk_max_chars
    assert set(manifest["articles"]) == {"a", "b", "c"}
    assert manifest["counts"]["chunks"] == report.chunks
    assert {"built_at", "versions", "files", "analyzer", "faiss"} <= set(manifest)
    assert not [p for p in build.rglob("*") if p.suffix in {".pkl", ".pickle"}]
    assert "summary" and "added 3" in report.summary()


def test_incremental_rebuild_embeds_only_what_changed(corpus: Settings) -> None:
    first = FakeEncoder()
    build_index(corpus, encoder=first)
    folder = corpus.articles_dir
    write(folder, "b.txt", "Cocina", "La tortilla lleva huevo y patata. Se cocina en una sartén.")
    (folder / "c.txt").unlink()
    write(folder, "d.txt", "Ciencia", "Un telescopio descubrió un planeta nuevo.")
    second = FakeEncoder()
    report = build_index(corpus, encoder=second)
    assert not report.full
    assert report.added == ["d"] and report.changed == ["b"] and report.removed == ["c"] and report.unchanged == ["a"]
    assert 0 < second.calls < first.calls + 2
    engine = Engine.open(corpus, FakeEncoder())
    ids = {h.article_id for h in engine.search("tortilla patata huevo planeta misiles", top_k=10)}
    assert ids == {"a", "b", "d"}
    # Unchanged articles kept exactly their vectors: a full rebuild gives the same search results.
    again = build_index(corpus, encoder=FakeEncoder(), full=True)
    assert again.full and again.full_reason == "--full requested"


def test_nothing_changed_embeds_nothing(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    enc = FakeEncoder()
    report = build_index(corpus, encoder=enc)
    assert enc.calls == 0 and report.embedded == 0 and len(report.unchanged) == 3


def test_chunking_change_forces_full_build(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    report = build_index(corpus.model_copy(update={"chunk_max_chars": 300}), encoder=FakeEncoder())
    assert report.full and "chunking" in report.full_reason


def test_index_built_before_lemmas_is_queried_without_them(corpus: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """Queries must be analysed as the chunks were: an older index keeps its own analysis."""
    report = build_index(corpus, encoder=FakeEncoder())
    assert store.StoredIndex.open(corpus.index_dir, corpus.model).analyzer.terms("niega") == ["neg"]
    manifest_path = report.build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["analyzer"]["lemmas"]
    manifest["analyzer"]["lemmas"] = "another-table"
    manifest_path.write_text(json.dumps(manifest))
    with caplog.at_level("WARNING", logger="index.store"):
        assert store.StoredIndex.open(corpus.index_dir, corpus.model).analyzer.terms("niega") == ["neg"]
    assert "another lemma table" in caplog.text
    del manifest["analyzer"]["lemmas"]
    manifest_path.write_text(json.dumps(manifest))
    assert store.StoredIndex.open(corpus.index_dir, corpus.model).analyzer.terms("niega") == ["nieg"]


def test_alias_parts_are_used_only_by_an_index_built_with_them(corpus: Settings) -> None:
    report = build_index(corpus, encoder=FakeEncoder())
    assert store.StoredIndex.open(corpus.index_dir, corpus.model).analyzer.alias_parts
    manifest_path = report.build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["analyzer"]["alias_parts"] is True
    del manifest["analyzer"]["alias_parts"]
    manifest_path.write_text(json.dumps(manifest))
    assert not store.StoredIndex.open(corpus.index_dir, corpus.model).analyzer.alias_parts


def test_model_change_forces_full_build_and_old_index_refuses_to_load(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    other = corpus.model_copy(update={"model": "another-model"})
    with pytest.raises(IndexMismatch, match="rebuild"):
        Engine.open(other, FakeEncoder())
    report = build_index(other, encoder=FakeEncoder())
    assert report.full


def test_format_version_mismatch_says_rebuild(corpus: Settings) -> None:
    report = build_index(corpus, encoder=FakeEncoder())
    manifest_path = report.build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="python -m index build --full"):
        Engine.open(corpus, FakeEncoder())


def test_missing_index_is_a_clear_error(fake_settings: Settings) -> None:
    with pytest.raises(IndexNotFound, match="python -m index build"):
        Engine.open(fake_settings, FakeEncoder())


def test_corrupt_file_is_detected_by_checksum(corpus: Settings) -> None:
    report = build_index(corpus, encoder=FakeEncoder())
    with open(report.build_dir / store.VECTORS, "r+b") as handle:
        handle.seek(60)
        handle.write(b"\x00garbage\x00")
    with pytest.raises(IndexCorrupt, match="checksum"):
        Engine.open(corpus, FakeEncoder())


def test_nothing_to_index_keeps_the_old_index(corpus: Settings) -> None:
    report = build_index(corpus, encoder=FakeEncoder())
    empty = corpus.articles_dir.parent / "empty"
    empty.mkdir()
    with pytest.raises(NothingToIndex):
        build_index(corpus, articles=empty, encoder=FakeEncoder())
    assert store.current_build(corpus.index_dir) == report.build_dir


def test_second_concurrent_build_is_refused(corpus: Settings) -> None:
    with store.build_lock(corpus.index_dir):
        with pytest.raises(BuildLocked, match="another build"):
            build_index(corpus, encoder=FakeEncoder())
    build_index(corpus, encoder=FakeEncoder())  # the lock is free again


def test_failed_write_leaves_old_index_serving(corpus: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    report = build_index(corpus, encoder=FakeEncoder())
    write(corpus.articles_dir, "d.txt", "Nuevo", "Un artículo nuevo sobre volcanes.")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("index.build.faiss.write_index", disk_full)
    with pytest.raises(BuildFailed, match="No space left on device"):  # the disk error, named in words
        build_index(corpus, encoder=FakeEncoder())
    monkeypatch.undo()
    assert store.current_build(corpus.index_dir) == report.build_dir
    assert not list((corpus.index_dir / "builds").glob(".tmp-*"))
    engine = Engine.open(corpus, FakeEncoder())
    assert engine.search("misiles Corea")[0].article_id == "a"


def test_old_builds_are_cleaned_up(corpus: Settings) -> None:
    for i in range(4):
        write(corpus.articles_dir, "x.txt", "Cambia", f"Versión número {i} del texto.")
        build_index(corpus, encoder=FakeEncoder())
    builds = [p for p in (corpus.index_dir / "builds").iterdir() if not p.name.startswith(".")]
    assert len(builds) == store.KEEP_BUILDS


def test_reload_switches_to_new_build_and_ignores_a_broken_one(corpus: Settings) -> None:
    build_index(corpus, encoder=FakeEncoder())
    engine = Engine.open(corpus, FakeEncoder())
    assert not engine.reload_if_changed()
    write(corpus.articles_dir, "d.txt", "Volcanes", "Un volcán entró en erupción en Islandia.")
    report = build_index(corpus, encoder=FakeEncoder())
    assert engine.reload_if_changed()
    assert engine.info().articles == 4
    # A build whose files are corrupt is not loaded; the engine keeps serving.
    broken = report.build_dir.parent / "20990101T000000-broken"
    shutil.copytree(report.build_dir, broken)
    (broken / store.METADATA).write_bytes(b"not sqlite")
    store.switch_current(corpus.index_dir, broken)
    assert not engine.reload_if_changed()
    assert engine._rejected == broken.resolve()
    assert not engine.reload_if_changed()  # not re-read on every periodic check
    assert engine.search("volcán Islandia")[0].article_id == "d"


def test_build_killed_at_random_moments_never_loses_the_index(tmp_path: Path, fake_settings: Settings) -> None:
    """SIGKILL a real build process at random points, 20 times; the served index always answers."""
    articles = shutil.copytree(SAMPLE, tmp_path / "corpus")
    index_dir = tmp_path / "index"
    settings = fake_settings.model_copy(update={"index_dir": index_dir, "articles_dir": articles})
    build_index(settings, encoder=FakeEncoder())
    worker = [sys.executable, str(Path(__file__).parent / "build_worker.py"), str(articles), str(index_dir), "full",
              "fake"]
    for _ in killed_at_random(worker, 20):
        engine = Engine.open(settings, FakeEncoder())
        # The fake encoder carries no meaning, so ask with the article's own words.
        answer = engine.ask("¿De qué acusan los funcionarios de EE. UU. a Corea del Norte?")
        assert answer.answered and "artillería, misiles" in answer.answer
    assert not os.path.exists(index_dir / ".current.tmp")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["folder", "postgres"])
def test_real_rebuild_killed_20_times_still_answers_the_seed_question(
        backend: str, sample_index: Settings, real_encoder, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The same with the real model and the seed question, on both backends: a build process (a
    full write of a new build, vectors reused) SIGKILLed at random moments never costs the
    served index. For PostgreSQL the sample is first built into a fresh database of the
    session's server, its vectors taken from the copied index's embedding cache."""
    index_dir = tmp_path / "index"
    shutil.copytree(sample_index.index_dir, index_dir, symlinks=True)
    settings = sample_index.model_copy(update={"index_dir": index_dir})
    if backend == "postgres":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
        assert build_index(settings, encoder=real_encoder).embedded == 0
    worker = [sys.executable, str(Path(__file__).parent / "build_worker.py"), str(SAMPLE), str(index_dir),
              "incremental", "real", *([settings.database_url] if settings.database_url else [])]
    for _ in killed_at_random(worker, 20, seed=99):
        answer = Engine.open(settings, real_encoder).ask(SEED)
        assert answer.answered and "artillería, misiles" in answer.answer


def test_chunk_sentence_table_lines_up_with_the_metadata(fake_settings: Settings) -> None:
    """chunk_sentences.npy must name exactly the sentences SQLite places inside each chunk."""
    settings = fake_settings.model_copy(update={"articles_dir": SAMPLE, "chunk_max_chars": 300})
    build_index(settings, encoder=FakeEncoder())
    stored = store.StoredIndex.open(settings.index_dir, settings.model)
    rows = list(range(stored.vectors.ntotal))
    assert stored.chunk_sentences.shape == (len(rows), 2)
    for row, chunk in zip(rows, stored.chunks(rows)):
        inside = [r for r, _, _ in stored.sentences_in(chunk.article_id, chunk.start, chunk.end)]
        first, end = stored.chunk_sentences[row]
        assert list(range(first, end)) == inside


def test_an_index_folder_that_cannot_be_written_is_one_clear_error(corpus: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    settings = corpus.model_copy(update={"index_dir": blocker / "index"})
    with pytest.raises(BuildFailed) as caught:
        build_index(settings, encoder=FakeEncoder())
    assert "cannot write the index in" in str(caught.value) and str(blocker / "index") in str(caught.value)


@pytest.mark.slow
def test_a_full_disk_during_a_build_is_one_line_and_keeps_the_served_index(corpus: Settings, tmp_path: Path) -> None:
    """The disk fills up mid-build (a file-size limit makes every large write fail, as ENOSPC
    does): `python -m index build` and the rebuild script print one line, exit 1, and the
    index built before is still the one served."""
    import resource

    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "ARTICLE_QA_INDEX_DIR": str(tmp_path / "index"),
           "ARTICLE_QA_ARTICLES_DIR": str(corpus.articles_dir)}
    first = subprocess.run([sys.executable, "-m", "index", "build"], env=env, capture_output=True, text=True,
                           timeout=600, check=False)
    assert first.returncode == 0, first.stderr
    served = store.current_build(tmp_path / "index")
    write(corpus.articles_dir, "d.txt", "Nueva", "Una noticia nueva que obliga a escribir una build nueva.")

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    repo = Path(__file__).resolve().parent.parent
    for command in ([sys.executable, "-m", "index", "build"], [sys.executable, str(repo / "scripts" / "rebuild_index.py")]):
        # No .pyc writes under the limit: a truncated one would break every later import of its module.
        proc = subprocess.run(command, env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, text=True,
                              timeout=600, check=False, preexec_fn=small_files, cwd=repo)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and "cannot write the index in" in proc.stderr
        assert len([line for line in proc.stderr.splitlines() if "ERROR" in line]) == 1
        assert store.current_build(tmp_path / "index") == served
