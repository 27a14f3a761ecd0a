"""The bundled sample built with the real model: the questions the product is judged by."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from index.kinds import kind_match
from index.engine import Engine
from index.records import Turn
from index.settings import Settings

pytestmark = pytest.mark.slow
ACCUSATION = "artillería, misiles"


def test_seed_passage_in_top3_for_the_seed_question(sample_engine: Engine) -> None:
    hits = sample_engine.search("¿Qué acusa EE. UU.?", top_k=3)
    assert any(ACCUSATION in h.text for h in hits)


@pytest.mark.parametrize("question", [
    "¿Qué acusa EE. UU.?",
    "que acusan los estadounidenses a corea del norte",
    "QUE ACUSA EEUU",
    "Que acusa Estados Unidos",
])
def test_accusation_question_variants(sample_engine: Engine, question: str) -> None:
    answer = sample_engine.ask(question)
    assert answer.answered and ACCUSATION in answer.answer
    assert answer.passages[0].hit.article_id == "seed/putin-visita-corea-del-norte"


def test_half_an_emoji_in_the_question_still_gets_the_answer(sample_engine: Engine) -> None:
    """Telegram JSON can carry a lone surrogate; the real encoder must not choke on it."""
    answer = sample_engine.ask("¿Qué acusa \ud83d EE. UU.?")
    assert answer.answered and ACCUSATION in answer.answer


def test_keyword_query_meets_a_multi_word_alias(sample_engine: Engine) -> None:
    """"corea" alone was refused: the alias had turned every "Corea del Norte" into one token."""
    answer = sample_engine.ask("putin corea")
    assert answer.answered and answer.passages[0].hit.article_id == "seed/putin-visita-corea-del-norte"


def test_what_pyongyang_gets(sample_engine: Engine) -> None:
    answer = sample_engine.ask("¿Qué recibe Pionyang a cambio?")
    assert answer.answered and "tecnologías militares clave" in answer.answer


def test_followup_after_the_seed_question(sample_engine: Engine) -> None:
    first = sample_engine.ask("¿Qué acusa EE. UU.?")
    turn = Turn(first.question, first.answer, (first.passages[0].hit.article_id,))
    follow = sample_engine.ask("¿Y qué recibe a cambio?", history=[turn])
    assert follow.answered and "tecnologías militares clave" in follow.answer


def _turn(answer) -> Turn:
    """The turn the bot keeps: the question, the answer when there was one, the articles it came from."""
    return Turn(answer.question, answer.answer if answer.answered else "",
                tuple(dict.fromkeys(p.hit.article_id for p in answer.passages if p.highlight)))


def test_followup_after_a_bare_why_keeps_the_story(sample_engine: Engine) -> None:
    """Found in the console: after "¿Por qué?", "¿Y qué recibe a cambio?" was answered from a
    story about the climate, because only the previous turn's words were borrowed."""
    history: list[Turn] = []
    for question in ("¿Qué acusa EE. UU.?", "¿Por qué?"):
        history.append(_turn(sample_engine.ask(question, history=history)))
    follow = sample_engine.ask("¿Y qué recibe a cambio?", history=history)
    assert follow.answered and "tecnologías militares clave" in follow.answer
    assert follow.passages[0].hit.article_id == "seed/putin-visita-corea-del-norte"


def test_followup_is_answered_inside_its_story_by_its_own_words(sample_engine: Engine) -> None:
    """Found in the console: "¿Y cuándo será la visita?" was answered with the accusation's
    neighbour ("No obstante…"), and "¿quién lo dijo?" with a "dijo" from another article."""
    seed = "seed/putin-visita-corea-del-norte"
    history = [_turn(sample_engine.ask("¿Qué acusa EE. UU.?"))]
    when = sample_engine.ask("¿Y cuándo será la visita?", history=history)
    assert when.answered and "martes" in when.answer and when.passages[0].hit.article_id == seed
    who = sample_engine.ask("¿quién lo dijo?", history=history)
    assert {p.hit.article_id for p in who.passages if p.highlight} <= {seed}


def test_followup_that_asks_only_for_a_kind_is_answered_from_its_story(sample_engine: Engine) -> None:
    """Found in the console: after the accusation, "¿quién lo dijo?", "¿Por qué?" and "¿Cuándo?"
    were refused, as none names a word of its own; the story they follow holds each answer."""
    seed = "seed/putin-visita-corea-del-norte"
    history = [_turn(sample_engine.ask("¿Qué acusa EE. UU.?"))]
    expected = {"¿quién lo dijo?": "Funcionarios estadounidenses y surcoreanos",
                "¿Por qué?": "para prolongar el conflicto en Ucrania"}
    for question, words in expected.items():
        answer = sample_engine.ask(question, history=history)
        assert answer.answered and words in answer.answer, question
        assert {p.hit.article_id for p in answer.passages if p.highlight} == {seed}, question
    # The story has two dates ("el martes", "septiembre del año pasado"); either is of the story.
    when = sample_engine.ask("¿Cuándo?", history=history)
    assert when.answered and kind_match("date", when.answer, "¿Cuándo?")
    assert {p.hit.article_id for p in when.passages if p.highlight} == {seed}


def test_a_bare_followup_asks_about_what_was_just_said(sample_engine: Engine) -> None:
    """Found in the console: "¿Cuándo?" after the letter's price got the date of a book (1952)
    the article also names; the last answer's words find the sale and its date."""
    history = [_turn(sample_engine.ask("¿Cuánto costó la carta de Einstein?"))]
    assert "millones de dólares" in history[0].answer
    when = sample_engine.ask("¿Cuándo?", history=history)
    assert when.answered and "4 de diciembre" in when.answer


def test_one_word_question_about_another_story_leaves_the_thread(sample_engine: Engine) -> None:
    """Found in the console: "¿Dónde estuvo el youtuber?" names one word, so it reads as a
    follow-up, but only another story holds that word: it must be answered from that story."""
    history = [_turn(sample_engine.ask("que dijo julieta fierro de la astronomia"))]
    answer = sample_engine.ask("¿Dónde estuvo el youtuber?", history=history)
    assert answer.answered and "youtuber" in answer.passages[0].hit.title.lower()


def test_new_topic_after_a_refused_question_is_answered_on_its_own(sample_engine: Engine) -> None:
    """A conversation moves on: the earlier question must not sink the new one (found in the console)."""
    first = sample_engine.ask("¿Cuándo ocurrió el terremoto?")
    turn = Turn(first.question, first.answer, tuple(p.hit.article_id for p in first.passages[:3]))
    answer = sample_engine.ask("¿Qué es la carabela portuguesa?", history=[turn])
    assert answer.resolved_query == "¿Qué es la carabela portuguesa?"
    assert answer.answered and "carabela" in answer.passages[0].hit.title.lower()


def test_source_metadata_for_news_articles(sample_engine: Engine) -> None:
    info = sample_engine.info()
    assert info.articles >= 21 and info.chunks > info.articles
    listed = sample_engine.list_articles(0, 50)
    dated = [a.date for a in listed if a.date]
    assert dated == sorted(dated, reverse=True)  # newest first
    assert any(a.url for a in listed)


def _cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "ARTICLE_QA_INDEX_DIR": str(settings.index_dir)}
    return subprocess.run([sys.executable, "-m", "index", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_cli_search_json_reads_stdin_one_line_each(sample_index: Settings) -> None:
    proc = _cli(sample_index, "search", "--json", "--top-k", "3", stdin="¿Qué acusa EE. UU.?\n\nhola\n")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["¿Qué acusa EE. UU.?", "", "hola"]
    results = lines[0]["results"]
    assert 1 <= len(results) <= 3
    assert set(results[0]) == {"article_id", "chunk_id", "title", "text", "score", "url", "source", "date", "also_in"}
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert any(ACCUSATION in r["text"] for r in results)


def test_cli_ask_json(sample_index: Settings) -> None:
    proc = _cli(sample_index, "ask", "--json", "¿Qué recibe Pionyang a cambio?")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["answered"] and "tecnologías militares" in data["answer"]
    assert data["passages"][0]["article_id"] == "seed/putin-visita-corea-del-norte"
    assert data["passages"][0]["highlight"]


def test_cli_missing_index_is_one_clear_line(tmp_path) -> None:
    settings = Settings(_env_file=None, index_dir=tmp_path / "none")
    proc = _cli(settings, "search", "hola")
    assert proc.returncode == 1
    assert "no index at" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("question", ["¿Cuál es la capital de Mongolia?", "hola", "receta de paella"])
def test_off_topic_questions_are_refused_politely(sample_engine: Engine, question: str) -> None:
    answer = sample_engine.ask(question)
    assert not answer.answered and answer.answer == "" and answer.closest_titles


def test_first_passage_does_not_depend_on_how_many_are_shown(sample_index: Settings, real_encoder) -> None:
    """The re-ranking runs over a fixed pool: a passage it lifts to the top leads for top_k=1 as for 10.

    The question is one where the re-ranking does move a passage to the top (checked first, so
    the test cannot pass vacuously): before the fixed pool, top_k=1 re-ranked nothing.
    """
    question = "¿Qué pasa con la picadura de la carabela portuguesa?"
    engine = Engine.open(sample_index, real_encoder)
    unranked = Engine.open(sample_index.model_copy(update={"rerank_weight": 0.0}), real_encoder)
    lifted = engine.search(question, top_k=10)[0].chunk_id
    assert lifted != unranked.search(question, top_k=10)[0].chunk_id
    assert engine.search(question, top_k=1)[0].chunk_id == lifted
    shown = [h.chunk_id for h in engine.search(question, top_k=10)]
    assert [h.chunk_id for h in engine.search(question, top_k=30)][:10] == shown
    assert engine.ask(question, top_k=1).passages[0].hit.chunk_id == lifted


@pytest.mark.parametrize(("question", "outcome"), [
    ("¿Qué acusa EE. UU.?", "answered"),
    ("¿Cuántos misiles ha enviado Corea del Norte a Rusia?", "not_in_article"),
    ("¿Cuál es la capital de Mongolia?", "off_topic"),
])
def test_the_three_outcomes_on_the_sample(sample_engine: Engine, question: str, outcome: str) -> None:
    """The seed story speaks of missiles but gives no number: that is said, not answered with the accusation."""
    answer = sample_engine.ask(question)
    assert answer.outcome == outcome and answer.answered is (outcome == "answered")
    if outcome == "not_in_article":
        assert answer.answer == "" and ACCUSATION in answer.closest
        assert answer.passages[0].hit.article_id == "seed/putin-visita-corea-del-norte"
    if outcome == "off_topic":
        assert answer.closest == "" and answer.closest_titles


@pytest.mark.parametrize("noisy", ["Hola, ¿qué acusa EE. UU.? 🙏", "<b>¿Qué acusa EE. UU.?</b>",
                                   "@articleqa_bot qué acusa EE. UU. por favor", "buenas! me puedes decir q acusa EE. UU.?"])
def test_noise_around_the_seed_question_does_not_change_its_answer(sample_engine: Engine, noisy: str) -> None:
    answer = sample_engine.ask(noisy)
    assert answer.answered and ACCUSATION in answer.answer


def test_cli_ask_json_gives_one_valid_line_per_input_line_even_for_invalid_utf8(sample_index: Settings) -> None:
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "ARTICLE_QA_INDEX_DIR": str(sample_index.index_dir)}
    batch = "¿Qué acusa EE. UU.?\n".encode() + b"caf\xe9 con \xff leche\n" + "¿Qué recibe Pionyang?\n".encode()
    proc = subprocess.run([sys.executable, "-m", "index", "ask", "--json"], input=batch, capture_output=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]  # strict: valid UTF-8
    assert len(lines) == 3 and lines[0]["answered"] and lines[2]["question"] == "¿Qué recibe Pionyang?"
    assert lines[1] == {"question": "caf\\xe9 con \\xff leche", "error": "the line is not valid UTF-8"}


def test_cli_stops_quietly_when_its_reader_leaves(sample_index: Settings) -> None:
    """`ask --json … | head -1`: no BrokenPipeError traceback."""
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "ARTICLE_QA_INDEX_DIR": str(sample_index.index_dir)}
    questions = "".join(f"¿Qué acusa EE. UU.? {i}\n" for i in range(50))
    proc = subprocess.run(f"{sys.executable} -m index ask --json | head -1", shell=True, input=questions,
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert len(proc.stdout.splitlines()) == 1 and json.loads(proc.stdout)["question"].startswith("¿Qué acusa")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
