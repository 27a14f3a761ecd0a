"""The terminal console (same conversation, plain text) and ``python -m bot``'s wiring."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

import index
from bot import __main__ as bot_main
from bot.console import run_console
from bot.feedback import FeedbackLog
from bot.settings import BotSettings
from index.errors import IndexNotFound
from tests.support.fake_engine import FakeEngine

SCRIPT = """\
¿Qué limita la ley de vivienda?
¿y cuándo?
#1
#2
#3

/fuentes abc
#1
/buscar inflación
😀
/nuevo
¿Quién ganó la Champions en Marte?
/estado
"""


def settings() -> BotSettings:
    return BotSettings(  # type: ignore[call-arg]
        _env_file=None, feedback_log=None, rate_limit_per_minute=1, allowed_ids=frozenset({5})
    )


def run(script: str, engine: FakeEngine | None = None, feedback: FeedbackLog | None = None) -> str:
    out = io.StringIO()
    code = run_console(engine or FakeEngine(), settings(), io.StringIO(script), out, feedback=feedback)
    assert code == 0
    return out.getvalue()


def test_console_transcript() -> None:
    engine = FakeEngine()
    text = run(SCRIPT, engine)
    blocks = re.split(r"(?m)^> ", text)[1:]
    assert blocks[0].startswith("¿Qué limita la ley de vivienda?\nLa norma limita la subida")
    assert "📰 El Gobierno aprueba la ley de vivienda" in blocks[0]
    assert "[1] Ver pasaje  [2] Más pasajes  [3] 👍  [4] 👎" in blocks[0]
    assert engine.asks[1].history[0].question == "¿Qué limita la ley de vivienda?"  # follow-up
    assert "**La norma limita" in blocks[2]  # #1: Ver pasaje, highlighted
    assert blocks[3].startswith("#2\nMás pasajes")
    assert "¡Gracias por tu opinión!" in blocks[4]
    assert "página 1 de 2" in blocks[5] and "página 2 de 2" in blocks[6]
    assert "Pasajes para «inflación»" in blocks[7]
    assert "Escríbeme la pregunta con palabras" in blocks[8]
    assert "empezamos de cero" in blocks[9]
    assert "No lo encuentro en los artículos." in blocks[10]
    assert "Preguntas: 3" in blocks[11] and "Latencia" not in blocks[11]
    # the console operator is neither rate limited nor subject to the allowlist
    assert "Vas muy rápido" not in text and "privado" not in text


def test_console_is_deterministic() -> None:
    assert run(SCRIPT) == run(SCRIPT)


def test_console_handles_weird_lines_and_engine_errors() -> None:
    engine = FakeEngine(fail_with=RuntimeError("boom"))
    text = run("ley de vivienda\n\x00\x1b[2J\u202e\n" + "x" * 5000 + "\n/ayuda\n", engine)
    assert text.count("Lo siento, algo ha fallado") == 3
    assert "\x1b" not in text and "\x00" not in text
    assert "/buscar" in text  # it went on after the errors


def test_console_writes_feedback(tmp_path: Path) -> None:
    run("ley de vivienda\n#3\n", feedback=FeedbackLog(tmp_path / "f.jsonl"))
    events = [json.loads(line)["event"] for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert events == ["question", "vote"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "ARTICLE_QA_INDEX_DIR", "ARTICLE_QA_FEEDBACK_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env, and var/ lands here
    return tmp_path


def test_main_without_token_falls_back_to_console(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Path] = []

    def fake_open(settings: BotSettings) -> FakeEngine:
        seen.append(settings.index_dir)
        return FakeEngine()

    monkeypatch.setattr(bot_main, "open_engine", fake_open)
    monkeypatch.setattr("sys.stdin", io.StringIO("¿Qué limita la ley de vivienda?\n"))
    assert bot_main.main(["--index", str(clean_env / "idx")]) == 0
    out, err = capsys.readouterr()
    assert "La norma limita" in out
    assert [line for line in err.splitlines() if "TELEGRAM_BOT_TOKEN" in line] == [
        "TELEGRAM_BOT_TOKEN is not set: running the console instead."
    ]
    assert seen == [clean_env / "idx"]


def test_open_engine_builds_a_missing_index(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    engine = FakeEngine()

    def fake_open(cls, settings, encoder=None):  # noqa: ANN001
        calls.append("open" if encoder is None else f"open with {encoder}")
        if len(calls) == 1:
            raise IndexNotFound("no index")
        return engine

    def fake_build(settings, articles=None, full=False, encoder=None, **kw):  # noqa: ANN001
        calls.append(f"build with {encoder}")
        return "report"

    monkeypatch.setattr(index.Engine, "open", classmethod(fake_open))
    monkeypatch.setattr(index, "build_index", fake_build)
    monkeypatch.setattr(index, "Encoder", lambda settings: "encoder")
    assert bot_main.open_engine(BotSettings(_env_file=None)) is engine  # type: ignore[call-arg]
    assert calls == ["open with encoder", "build with encoder", "open with encoder"]  # the model loads once


def test_main_reports_library_errors(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    def broken(settings: BotSettings) -> FakeEngine:
        raise index.IndexMismatch("built with another model: rebuild with `python -m index build --full`")

    monkeypatch.setattr(bot_main, "open_engine", broken)
    assert bot_main.main(["--console"]) == 2
    assert "rebuild with" in capsys.readouterr().err
