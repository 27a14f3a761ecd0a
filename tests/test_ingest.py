"""Ingest: every format, normalisation, titles, ids, hashes, and every kind of bad input."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import unicodedata
from pathlib import Path

import pytest

from index.ingest import IngestResult, load_articles, quiet_trafilatura
from index.normalise import normalise_text, title_from_text

REPO_ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"
SEED_ID = "seed/putin-visita-corea-del-norte"
PARAGRAPH = "El Gobierno presentó hoy el presupuesto para el próximo año. La oposición lo rechazó."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def by_id(result: IngestResult) -> dict:
    return {a.id: a for a in result.articles}


def reasons(result: IngestResult) -> str:
    return " | ".join(s.describe() for s in result.skipped)


# --- normalisation -----------------------------------------------------------------------

def test_normalise_collapses_blanks_and_keeps_paragraphs() -> None:
    raw = "  Primer\t\t párrafo   aquí. \r\n\r\n\n   Segundo\u00a0 párrafo.\n \t \nTercero  "
    assert normalise_text(raw) == "Primer párrafo aquí.\nSegundo párrafo.\nTercero"


def test_normalise_composes_accents_and_drops_controls_and_bom() -> None:
    decomposed = "Jose\u0301 come\u0301 \x07pan\x00\ufeff"
    assert unicodedata.normalize("NFC", "José") != "Jose\u0301"
    assert normalise_text("\ufeff" + decomposed) == "José comé pan"


def test_lines_that_only_link_to_another_article_are_dropped(tmp_path: Path) -> None:
    """Found in the console: the seed's "Vea también …" line answered "¿Dónde?" with another story's headline."""
    raw = ("Putin visita Corea del Norte\nEl presidente ruso viajará a Pionyang.\n"
           "Vea también Corea del Norte Anuncia Nuevo Lanzamiento de Satélite Espía – Xi Jinping y Putin en Beijing\n"
           "Lee también: Los inversionistas no le creen\nTe puede interesar: Mujeres destacan\n"
           "Ve también la cooperación militar.\n")
    (tmp_path / "a.txt").write_text(raw, encoding="utf-8")
    (article,) = load_articles(tmp_path).articles
    assert article.text == "El presidente ruso viajará a Pionyang.\nVe también la cooperación militar."
    # A long line that starts so holds article text that lost its line breaks: it stays.
    long_line = "Lee también: " + "la economía creció y el empleo mejoró en todo el país. " * 4
    assert normalise_text(long_line) == long_line.strip()
    # A title is a title whatever its words.
    (tmp_path / "a.txt").write_text("Te puede interesar la ciencia\nTexto.\n", encoding="utf-8")
    assert load_articles(tmp_path).articles[0].title == "Te puede interesar la ciencia"


def test_title_from_text_cuts_long_first_sentence_at_a_word() -> None:
    long = "El presidente " + "muy " * 40 + "largo habló. Otra frase."
    title = title_from_text(long)
    assert len(title) <= 120 and title.endswith("…") and " muy…" in title
    assert title_from_text("Hola mundo. Segunda frase.") == "Hola mundo"
    assert title_from_text("EE. UU. acusa a Rusia de mentir. Y más.") == "EE. UU. acusa a Rusia de mentir"


# --- plain text and markdown --------------------------------------------------------------

def test_txt_short_first_line_is_title_and_leaves_body(tmp_path: Path) -> None:
    write(tmp_path / "nota.txt", f"Presupuesto 2025\n\n{PARAGRAPH}\n")
    (article,) = load_articles(tmp_path).articles
    assert article.title == "Presupuesto 2025"
    assert article.text == PARAGRAPH
    assert article.id == "nota" and article.path == "nota.txt"


def test_txt_lead_first_line_stays_in_body(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", f"{PARAGRAPH}\nOtro párrafo.")
    (article,) = load_articles(tmp_path).articles
    assert article.title == "El Gobierno presentó hoy el presupuesto para el próximo año"
    assert article.text.startswith(PARAGRAPH)


def test_txt_long_first_line_without_period_is_a_lead(tmp_path: Path) -> None:
    lead = "Una línea de entrada " + "muy " * 40 + "larga sin punto final"
    write(tmp_path / "a.txt", f"{lead}\nCuerpo.")
    (article,) = load_articles(tmp_path).articles
    assert article.text.startswith(lead)
    assert len(article.title) <= 120 and article.title.endswith("…")


def test_md_heading_marker_is_stripped(tmp_path: Path) -> None:
    write(tmp_path / "b.md", f"# Título en *markdown*\n\n{PARAGRAPH}\n\n## Sección\nMás texto.")
    (article,) = load_articles(tmp_path).articles
    assert article.title == "Título en *markdown*"
    assert article.text == f"{PARAGRAPH}\nSección\nMás texto."


# --- HTML ---------------------------------------------------------------------------------

def test_html_main_text_and_title(tmp_path: Path) -> None:
    paragraphs = [PARAGRAPH * 3, "Segundo párrafo con bastante texto para que cuente como cuerpo. " * 3]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (f"<!DOCTYPE html><html><head><title>Presupuesto aprobado</title></head><body>"
            f"<article><h1>Presupuesto aprobado</h1>{body}</article></body></html>")
    write(tmp_path / "web" / "pagina.html", html)
    (article,) = load_articles(tmp_path).articles
    assert article.id == "web/pagina"
    assert article.title == "Presupuesto aprobado"
    assert "\n" in article.text  # paragraph breaks kept
    assert PARAGRAPH in article.text and "<p>" not in article.text
    assert not article.text.startswith("Presupuesto aprobado")  # the <h1> is not repeated


def test_html_fragment_without_title_falls_back_to_stem(tmp_path: Path) -> None:
    write(tmp_path / "fragmento.htm", f"<p>{PARAGRAPH}</p><p>Otro párrafo más del artículo.</p>")
    (article,) = load_articles(tmp_path).articles
    assert article.title == "fragmento"
    assert PARAGRAPH in article.text


def test_html_with_no_body_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path / "vacio.html", "<html><head><title>Nada</title></head><body></body></html>")
    write(tmp_path / "ok.txt", f"Título\n{PARAGRAPH}")
    with caplog.at_level(logging.WARNING):
        result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["ok"]
    (skip,) = result.skipped
    assert skip.path.endswith("vacio.html") and "no text" in skip.reason
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "vacio.html" in warnings[0].getMessage()


# --- JSON and JSONL -----------------------------------------------------------------------

def test_json_object_and_list(tmp_path: Path) -> None:
    one = {"id": 7, "title": "Uno", "text": PARAGRAPH, "date": "2024-06-18", "url": "https://x.es/1",
           "source": "Diario", "topic": "ignored"}
    write(tmp_path / "one.json", json.dumps(one))
    write(tmp_path / "many.json", json.dumps([{"title": "A", "text": "Texto A."}, {"text": "Solo texto. Más."}]))
    write(tmp_path / "sin-id.json", json.dumps({"title": "Sin id", "text": "Texto."}))
    articles = by_id(load_articles(tmp_path))
    assert set(articles) == {"7", "many.json#1", "many.json#2", "sin-id"}
    first = articles["7"]
    assert (first.title, first.date, first.url, first.source) == ("Uno", "2024-06-18", "https://x.es/1", "Diario")
    assert articles["many.json#2"].title == "Solo texto"  # missing title: first sentence


def test_jsonl_malformed_line_among_good_ones(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = [{"id": f"n{i}", "title": f"T{i}", "text": f"Texto {i}."} for i in range(3)]
    lines = jsonl(good[0], good[1]) + '{"id": "roto", "text": \n' + jsonl(good[2])
    write(tmp_path / "news.jsonl", lines)
    with caplog.at_level(logging.WARNING):
        result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["n0", "n1", "n2"]
    (skip,) = result.skipped
    assert skip.line == 3 and "not valid JSON" in skip.reason
    assert "news.jsonl:3" in caplog.text


def test_a_very_deep_jsonl_line_is_skipped_and_the_next_lines_read(tmp_path: Path) -> None:
    good = [{"id": f"n{i}", "title": f"T{i}", "text": f"Texto {i}."} for i in range(2)]
    write(tmp_path / "news.jsonl", jsonl(good[0]) + "[" * 100_000 + "]" * 100_000 + "\n" + jsonl(good[1]))
    write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["n0", "n1"]
    got = {(Path(s.path).name, s.line): s.reason for s in result.skipped}
    assert "nested too deeply" in got[("news.jsonl", 2)] and "nested too deeply" in got[("deep.json", None)]


def test_json_bad_records_are_skipped_one_by_one(tmp_path: Path) -> None:
    lines = jsonl({"id": "ok", "text": "Bien."}, [1, 2], {"id": "sin-texto", "title": "x"},
                  {"id": "vacio", "text": "  \n "}, {"id": "num", "text": 5}, {"text": "Sin id."})
    write(tmp_path / "mix.jsonl", lines)
    write(tmp_path / "broken.json", '{"id": "x", "text": ')
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["ok", "mix.jsonl#6"]  # record order kept
    got = {(Path(s.path).name, s.line): s.reason for s in result.skipped}
    assert "malformed JSON" in got[("broken.json", 1)]
    assert "not a JSON object" in got[("mix.jsonl", 2)]
    assert "no 'text'" in got[("mix.jsonl", 3)]
    assert "empty text" in got[("mix.jsonl", 4)]
    assert "not a string" in got[("mix.jsonl", 5)]


def test_duplicate_ids_first_wins(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", jsonl({"id": "dup", "text": "Primero."}))
    write(tmp_path / "b.jsonl", jsonl({"id": "otro", "text": "Otro."}, {"id": "dup", "text": "Segundo."}))
    result = load_articles(tmp_path)
    assert by_id(result)["dup"].text == "Primero."
    (skip,) = result.skipped
    assert skip.path.endswith("b.jsonl") and skip.line == 2
    assert "duplicate id 'dup'" in skip.reason and "a.jsonl:1" in skip.reason


def test_repo_style_jsonl_loads_as_is(tmp_path: Path) -> None:
    record = {"id": "fakenews-v1-train-0004", "title": "UNAM capacitará a maestros", "text": PARAGRAPH,
              "date": None, "url": "http://www.eluniversal.com.mx/x", "source": "El Universal",
              "label": "true", "topic": "Educación", "numbers_masked": False}
    result = load_articles(write(tmp_path / "x.jsonl", jsonl(record)))
    (article,) = result.articles
    assert article.id == "fakenews-v1-train-0004" and article.date is None and not result.skipped


# --- encodings and binary -----------------------------------------------------------------

def test_latin1_and_cp1252_text_decoded(tmp_path: Path) -> None:
    write(tmp_path / "latin.txt", "Canción del año\nJosé y la niña comían piñas en Logroño.".encode("latin-1"))
    write(tmp_path / "win.txt", "Comillas\n“Hola”, dijo — el señor.".encode("cp1252"))
    articles = by_id(load_articles(tmp_path))
    assert articles["latin"].title == "Canción del año"
    assert articles["latin"].text == "José y la niña comían piñas en Logroño."
    assert articles["win"].text == "“Hola”, dijo — el señor."


def test_utf8_bom_stripped(tmp_path: Path) -> None:
    write(tmp_path / "bom.txt", b"\xef\xbb\xbfTitulo\nCuerpo del art\xc3\xadculo.")
    (article,) = load_articles(tmp_path).articles
    assert article.title == "Titulo" and article.text == "Cuerpo del artículo."
    write(tmp_path / "bom.jsonl", b"\xef\xbb\xbf" + jsonl({"id": "j", "text": "Hola."}).encode())
    assert "j" in by_id(load_articles(tmp_path))


def test_decomposed_accents_become_composed(tmp_path: Path) -> None:
    write(tmp_path / "nfd.txt", unicodedata.normalize("NFD", "Título\nEl café está en Perú."))
    (article,) = load_articles(tmp_path).articles
    assert article.title == "Título" and article.text == "El café está en Perú."
    assert unicodedata.is_normalized("NFC", article.text)


def test_binary_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "imagen.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(tmp_path / "ruido.txt", bytes([1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 65]) * 100)
    write(tmp_path / "ok.txt", f"Título\n{PARAGRAPH}")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["ok"]
    assert sorted(Path(s.path).name for s in result.skipped) == ["imagen.txt", "ruido.txt"]
    assert all("binary" in s.reason for s in result.skipped)


# --- empty, huge, unreadable --------------------------------------------------------------

def test_empty_and_whitespace_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "vacio.txt", "")
    write(tmp_path / "blancos.md", " \n\t\n  ")
    write(tmp_path / "vacio.jsonl", "")
    result = load_articles(tmp_path)
    assert not result.articles
    got = {Path(s.path).name: s.reason for s in result.skipped}
    assert got["vacio.txt"] == "empty file" and got["vacio.jsonl"] == "empty file"
    assert "whitespace" in got["blancos.md"]


def test_huge_file_skipped_rest_indexed(tmp_path: Path) -> None:
    line = "palabra " * 12 + "\n"
    write(tmp_path / "enorme.txt", "Título\n" + line * (20_000_000 // len(line)))
    assert (tmp_path / "enorme.txt").stat().st_size >= 19_000_000
    write(tmp_path / "ok.txt", f"Título\n{PARAGRAPH}")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["ok"]
    (skip,) = result.skipped
    assert skip.path.endswith("enorme.txt") and "limit" in skip.reason


def test_file_over_byte_limit_is_skipped_unread(tmp_path: Path) -> None:
    write(tmp_path / "grande.txt", "Título\n" + "x" * 5000)
    write(tmp_path / "ok.txt", "Título\nCorto.")
    result = load_articles(tmp_path, max_file_bytes=1000)
    assert [a.id for a in result.articles] == ["ok"]
    assert "bytes" in result.skipped[0].reason


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    locked = write(tmp_path / "cerrado.txt", f"Título\n{PARAGRAPH}")
    write(tmp_path / "ok.txt", f"Título\n{PARAGRAPH}")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running with privileges that read a chmod-000 file")
        result = load_articles(tmp_path)
    finally:
        locked.chmod(0o644)
    assert [a.id for a in result.articles] == ["ok"]
    assert "permission denied" in result.skipped[0].reason


def test_permission_error_is_skipped_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = write(tmp_path / "cerrado.txt", f"Título\n{PARAGRAPH}")
    write(tmp_path / "ok.txt", f"Título\n{PARAGRAPH}")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == locked.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["ok"]
    assert result.skipped[0].describe().endswith("cerrado.txt: permission denied: cannot read the file")


def test_utf16_file_with_bom_is_text_not_binary(tmp_path: Path) -> None:
    write(tmp_path / "windows.txt", "Título\nTexto en UTF-16.".encode("utf-16"))
    (article,) = load_articles(tmp_path).articles
    assert article.title == "Título" and article.text == "Texto en UTF-16."


def test_unsupported_single_file_is_reported(tmp_path: Path) -> None:
    result = load_articles(write(tmp_path / "hoja.csv", "a,b\n1,2\n"))
    assert not result.articles and "not an article file" in result.skipped[0].reason


# --- walking: symlinks, hidden files, other formats, order --------------------------------

def test_symlinks_outside_root_and_broken_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "fuera"
    write(outside / "secreto.txt", f"Secreto\n{PARAGRAPH}")
    root = tmp_path / "corpus"
    write(root / "ok.txt", f"Título\n{PARAGRAPH}")
    (root / "enlace.txt").symlink_to(outside / "secreto.txt")
    (root / "carpeta").symlink_to(outside, target_is_directory=True)
    (root / "roto.txt").symlink_to(root / "no-existe.txt")
    result = load_articles(root)
    assert [a.id for a in result.articles] == ["ok"]
    got = {Path(s.path).name: s.reason for s in result.skipped}
    assert "outside" in got["enlace.txt"] and "outside" in got["carpeta"]
    assert "broken symlink" in got["roto.txt"]


def test_symlinks_inside_root_load_each_file_once(tmp_path: Path) -> None:
    write(tmp_path / "z" / "nota.txt", f"Título\n{PARAGRAPH}")
    (tmp_path / "a-enlace.txt").symlink_to(tmp_path / "z" / "nota.txt")  # sorts first
    (tmp_path / "b-enlace.txt").symlink_to(tmp_path / "z" / "nota.txt")
    write(tmp_path / ".guardado" / "oculto.txt", f"Oculto\n{PARAGRAPH}")
    (tmp_path / "visible.txt").symlink_to(tmp_path / ".guardado" / "oculto.txt")
    (tmp_path / "carpeta").symlink_to(tmp_path / "z", target_is_directory=True)
    (tmp_path / "z" / "bucle").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "ciclo1.txt").symlink_to(tmp_path / "ciclo2.txt")
    (tmp_path / "ciclo2.txt").symlink_to(tmp_path / "ciclo1.txt")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["visible", "z/nota"]  # the real path wins
    got = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(got) == {"a-enlace.txt", "b-enlace.txt", "ciclo1.txt", "ciclo2.txt"}
    assert "same file as z/nota.txt" in got["a-enlace.txt"]
    assert "broken symlink" in got["ciclo1.txt"]


def test_hidden_and_other_formats_ignored_silently(tmp_path: Path) -> None:
    write(tmp_path / ".oculto.txt", "Oculto\nTexto.")
    write(tmp_path / ".git" / "x.txt", "Oculto\nTexto.")
    write(tmp_path / "foto.png", b"\x89PNG\x00")
    write(tmp_path / "README", "sin extensión")
    write(tmp_path / "ok.txt", "Título\nTexto.")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["ok"] and not result.skipped


def test_order_and_ids_are_stable(tmp_path: Path) -> None:
    for name in ["z.txt", "a/b.txt", "a-b.txt", "m/n/o.md"]:
        write(tmp_path / name, f"Título {name}\nTexto de {name}.")
    first, second = load_articles(tmp_path), load_articles(tmp_path)
    assert [a.id for a in first.articles] == ["a/b", "a-b", "m/n/o", "z"]
    assert first == second


def test_single_file_root_is_its_folder(tmp_path: Path) -> None:
    target = write(tmp_path / "sub" / "nota.txt", f"Título\n{PARAGRAPH}")
    (article,) = load_articles(target).articles
    assert article.id == "nota"


def test_missing_path_never_raises(tmp_path: Path) -> None:
    result = load_articles(tmp_path / "no-existe")
    assert not result.articles and "does not exist" in result.skipped[0].reason


# --- content hash -------------------------------------------------------------------------

def test_content_hash_tracks_content_only(tmp_path: Path) -> None:
    def hash_of(folder: str, text: str) -> str:
        write(tmp_path / folder / "n.txt", text)
        return load_articles(tmp_path / folder).articles[0].content_hash

    base = hash_of("a", f"Título\n{PARAGRAPH}")
    assert hash_of("b", f"Título\n{PARAGRAPH}") == base  # another place, same content
    assert hash_of("c", f"  Título \r\n\r\n{PARAGRAPH}  \n") == base  # only formatting differs
    assert hash_of("d", f"Título\n{PARAGRAPH} Cambio.") != base
    assert hash_of("e", f"Otro título\n{PARAGRAPH}") != base


# --- the repo's sample corpus -------------------------------------------------------------

def test_repo_sample_corpus_loads_cleanly() -> None:
    result = load_articles(REPO_ARTICLES)
    assert result.skipped == []
    articles = by_id(result)
    seed = articles[SEED_ID]
    assert "Funcionarios estadounidenses y surcoreanos han acusado" in seed.text
    assert seed.text.startswith("El presidente ruso, Vladímir Putin")  # the lead stays in the body
    assert len(seed.title) <= 120
    news = [a for a in result.articles if a.path and a.path.startswith("news_es/")]
    assert len(news) >= 20
    assert all(a.title and a.text and a.content_hash for a in news)
    assert sum(bool(a.date and a.url) for a in news) >= len(news) // 2


def test_trafilatura_warnings_are_left_out_while_it_extracts(caplog: pytest.LogCaptureFixture) -> None:
    """The build and the fetch report an empty page once, in their words; trafilatura's own
    warnings are dropped inside the block and pass again after it."""
    names = ("trafilatura.core", "trafilatura.utils", "trafilatura.main_extractor")
    with contextlib.ExitStack() as levels:  # an imported trafilatura sets its loggers' own levels
        for name in names:
            levels.enter_context(caplog.at_level(logging.DEBUG, logger=name))
        with quiet_trafilatura():
            for name in names:
                logging.getLogger(name).warning("empty page")
                logging.getLogger(name).info("extracting")
        logging.getLogger(names[0]).warning("after")
    messages = [r.getMessage() for r in caplog.records]
    assert "empty page" not in messages and messages.count("extracting") == 3 and "after" in messages
