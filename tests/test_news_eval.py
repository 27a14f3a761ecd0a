"""The news evaluation: every kind of item scored through the engine (fake encoder, tiny corpus)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.__main__ import _parser
from index.build import build_index
from index.engine import Engine
from index.news_eval import load_news, run_news_eval
from index.settings import Settings
from tests.support.encoder import FakeEncoder
from tests.test_outcomes import SEED_TEXT

ITEMS = [
    {"id": "a1", "kind": "answerable", "split": "tune", "article_id": "seed", "qtype": "que", "style": "formal",
     "question": "¿Qué acusan los funcionarios estadounidenses a Corea del Norte?", "answer_regex": "artiller[ií]a",
     "answer_sentence": "x", "missing": None, "followup": None},
    {"id": "a2", "kind": "answerable", "split": "holdout", "article_id": "cocina", "qtype": "que", "style": "colloquial",
     "question": "que lleva la paella valenciana", "answer_regex": "arroz", "answer_sentence": "x", "missing": None,
     "followup": None},
    {"id": "m1", "kind": "not_in_article", "split": "tune", "article_id": "seed", "qtype": "cuantos", "style": "formal",
     "question": "¿Cuántos misiles ha enviado Corea del Norte a Rusia?", "answer_regex": None, "answer_sentence": None,
     "missing": "el número de misiles", "followup": None},
    {"id": "o1", "kind": "off_topic", "split": "tune", "article_id": None, "qtype": "cual", "style": "formal",
     "question": "¿Cuál es la capital de Mongolia?", "answer_regex": None, "answer_sentence": None, "missing": None,
     "followup": None},
    {"id": "f1", "kind": "followup", "split": "tune", "article_id": "seed", "qtype": "que", "style": "formal",
     "question": "¿Qué acusan los funcionarios estadounidenses a Corea del Norte?", "answer_regex": "artiller[ií]a",
     "answer_sentence": "x", "missing": None,
     "followup": {"question": "¿Y qué recibe a cambio?", "qtype": "que", "answer_sentence": "x",
                  "answer_regex": "tecnolog[ií]as militares"}},
    {"id": "t1", "kind": "topic", "split": "tune", "article_id": "seed", "qtype": "tema", "style": "colloquial",
     "question": "de que trata la noticia de putin", "answer_regex": "viajar[aá] a Pionyang", "answer_sentence": "x",
     "missing": None, "followup": None},
]


@pytest.fixture
def setup(fake_settings: Settings, tmp_path: Path) -> tuple[Engine, Path]:
    (fake_settings.articles_dir / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
    (fake_settings.articles_dir / "cocina.txt").write_text(
        "Recetas\nLa paella valenciana lleva arroz, pollo y azafrán. Se cocina a fuego lento.\n", encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    settings = fake_settings.model_copy(update={"refusal_threshold": 0.7, "refusal_min_coverage": 0.2})
    items = tmp_path / "news.jsonl"
    items.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in ITEMS), encoding="utf-8")
    return Engine.open(settings, FakeEncoder()), items


def test_every_kind_is_scored_and_summarised(setup: tuple[Engine, Path], tmp_path: Path) -> None:
    engine, items = setup
    out = tmp_path / "rows.json"
    metrics = run_news_eval(engine, items, "all", out)
    assert metrics["counts"] == {"answerable": 2, "not_in_article": 1, "off_topic": 1, "followup": 1, "topic": 1,
                                 "claim": 0}
    assert metrics["answerable"]["answer_holds_gold"] == 1.0 and metrics["answerable"]["false_not_found"] == 0.0
    assert metrics["not_in_article"]["not_answered_as_fact"] == 1.0
    assert metrics["not_in_article"]["said_not_in_article"] == 1.0
    assert metrics["off_topic"]["refused"] == 1.0
    assert metrics["followup"] == {"first_right": 1.0, "followup_right": 1.0}
    assert metrics["answerable"]["noise_flip_rate"] == 0.0
    assert metrics["topic"] == {"answered_with_lead": 1.0, "article_first": 1.0, "refused": 0.0}
    rows = {r["id"]: r for r in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    assert rows["m1"]["outcome"] == "not_in_article" and "misiles" in rows["m1"]["closest"]
    assert rows["f1"]["followup_right"] and "tecnologías" in rows["f1"]["followup_answer"]


def test_a_wrong_answer_is_a_miss_and_a_refusal_a_false_not_found(setup: tuple[Engine, Path], tmp_path: Path) -> None:
    engine, items = setup
    wrong = [dict(ITEMS[0], answer_regex="nada de esto"), dict(ITEMS[1], question="¿Cuál es la capital de Mongolia?")]
    items.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in wrong), encoding="utf-8")
    metrics = run_news_eval(engine, items, "all", None, noise=False)
    assert metrics["answerable"]["answer_holds_gold"] == 0.0
    assert metrics["answerable"]["false_not_found"] == 0.5 and metrics["answerable"]["wrong_answer"] == 0.5


def test_splits_are_read_apart(setup: tuple[Engine, Path]) -> None:
    _, items = setup
    assert [i.id for i in load_news(items, "holdout")] == ["a2"]
    assert len(load_news(items, "tune")) == 5 and len(load_news(items, "all")) == 6


def test_the_cli_takes_a_news_file_or_a_squad_file_not_both() -> None:
    args = _parser().parse_args(["eval", "--news", "eval/news_dev.jsonl", "--split", "holdout", "--index", "x"])
    assert args.news == Path("eval/news_dev.jsonl") and args.qa is None
    with pytest.raises(SystemExit):
        _parser().parse_args(["eval", "--news", "a", "--qa", "b"])


CLAIMS = [
    {"id": "c1", "kind": "claim", "split": "tune", "article_id": "bulo", "question":
     "¿Es verdad que la vacuna esteriliza a las mujeres?", "qtype": "verdad", "style": "formal",
     "answer_sentence": "x", "answer_regex": "es falso", "missing": None, "followup": None, "fact_check": True},
    {"id": "c2", "kind": "claim", "split": "tune", "article_id": "seed", "question":
     "es cierto q los funcionarios estadounidenses acusan a corea del norte?", "qtype": "verdad",
     "style": "colloquial", "answer_sentence": "x", "answer_regex": "artiller[ií]a", "missing": None,
     "followup": None, "fact_check": False},
    {"id": "c3", "kind": "claim", "split": "holdout", "article_id": None, "question":
     "¿Es verdad que la capital de Mongolia se mudó?", "qtype": "verdad", "style": "formal",
     "answer_sentence": None, "answer_regex": None, "missing": None, "followup": None, "fact_check": False},
]


def test_claims_are_scored_by_what_their_story_is(setup: tuple[Engine, Path], fake_settings: Settings) -> None:
    """A story that checks the claim must give its verdict; an ordinary report, the fact; nothing, a refusal."""
    engine, items = setup
    (fake_settings.articles_dir / "bulo.txt").write_text(
        "Es falso que la vacuna esterilice a las mujeres\nUn video afirma que la vacuna esteriliza a las mujeres.\n",
        encoding="utf-8")
    build_index(fake_settings, encoder=FakeEncoder())
    engine = Engine.open(engine.settings, FakeEncoder())
    items.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in CLAIMS), encoding="utf-8")
    metrics = run_news_eval(engine, items, "all", None, noise=False)
    assert metrics["counts"]["claim"] == 3
    assert metrics["claim"] == {"verdict_stated": 1.0, "report_answered": 1.0, "nothing_refused": 1.0}
    wrong = [dict(CLAIMS[0], article_id="seed")]  # the verdict's words from another story do not count
    items.write_text(json.dumps(wrong[0], ensure_ascii=False) + "\n", encoding="utf-8")
    assert run_news_eval(engine, items, "all", None, noise=False)["claim"]["verdict_stated"] == 0.0
