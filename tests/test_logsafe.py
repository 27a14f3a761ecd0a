"""What a message carries cannot forge or reorder a log line (index.logsafe)."""
from __future__ import annotations

import io
import logging
from pathlib import Path

from index.ingest import load_articles
from index.logsafe import FORMAT, SafeFormatter, escape, safe_id

FORGED = "evil\n2026-12-07 02:29:00,000 ERROR index: FORGED LINE"


def _log_with_safe_formatter(message: str, *args: object, exc: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(FORMAT))
    logger = logging.getLogger("test.logsafe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc:
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception(message, *args)
        else:
            logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_newline_in_a_message_cannot_start_a_forged_line() -> None:
    out = _log_with_safe_formatter("skipped %s", FORGED)
    assert out.count("\n") == 1 and out.rstrip("\n").endswith("evil\\n2026-12-07 02:29:00,000 ERROR index: FORGED LINE")


def test_bidi_and_control_characters_are_escaped() -> None:
    assert escape("a\u202eb\u2066c\rd\x1be") == "a\\u202eb\\u2066c\\rd\\x1be"
    assert escape("Señor Núñez — «hola»") == "Señor Núñez — «hola»"  # ordinary text untouched


def test_a_traceback_keeps_its_lines() -> None:
    out = _log_with_safe_formatter("failed on %s", "x\ny", exc=True)
    first, *rest = out.splitlines()
    assert first.endswith("failed on x\\ny") and any("ValueError: boom" in line for line in rest)


def test_ids_from_file_names_carry_no_control_or_bidi_characters(tmp_path: Path) -> None:
    name = f"{FORGED}\u202e.txt"
    (tmp_path / name).write_text("Título\nUn texto.\n", encoding="utf-8")
    first, again = load_articles(tmp_path).articles, load_articles(tmp_path).articles
    assert [a.id for a in first] == [safe_id(FORGED + "\u202e")] == [a.id for a in again]  # stable across builds
    assert "\n" not in first[0].id and "\u202e" not in first[0].id


def test_the_build_report_lists_a_skipped_file_on_one_line(tmp_path: Path, fake_settings) -> None:
    from index.build import build_index
    from tests.support.encoder import FakeEncoder

    (fake_settings.articles_dir / "ok.txt").write_text("Título\nUn texto.\n", encoding="utf-8")
    (fake_settings.articles_dir / f"{FORGED}.txt").write_text("", encoding="utf-8")
    summary = build_index(fake_settings, encoder=FakeEncoder()).summary()
    (skipped,) = [line for line in summary.splitlines() if line.startswith("skipped")]
    assert "evil\\n2026-12-07 02:29:00,000 ERROR index: FORGED LINE.txt" in skipped
    assert not any(line.startswith("2026-12-07") for line in summary.splitlines())
