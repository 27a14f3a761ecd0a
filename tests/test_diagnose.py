"""scripts/diagnose_misses.py: what a miss looks like and how the misses are counted."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from index.engine import Engine
from index.evaluate import build_eval_index, load_squad
from index.search import Candidate, to_hit as _hit
from tests.support.encoder import FakeEncoder
from tests.test_evaluate import SQUAD

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "diagnose_misses.py"
spec = importlib.util.spec_from_file_location("diagnose_misses", SCRIPT)
diagnose_misses = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diagnose_misses)


class ScriptedEngine:
    """Returns the given hits in the given order, whatever the question."""

    def __init__(self, hits: list) -> None:
        self.hits = hits

    def search(self, question: str, top_k: int | None = None) -> list:
        return self.hits[:top_k]


def test_a_miss_records_the_gold_rank_and_which_signals_favour_the_wrong_passage(tmp_path: Path, fake_settings) -> None:
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    articles, questions = load_squad(path)
    settings = build_eval_index(fake_settings, articles, tmp_path / "work", encoder=FakeEncoder())
    stored = Engine.open(settings, FakeEncoder())._index()
    chunks = {c.article_id: c for c in stored.chunks(list(range(stored.vectors.ntotal)))}
    etna, paella = (_hit(Candidate(chunks[a].row, 1.0, 0.0, dense), chunks[a])
                    for a, dense in (("Volcanes#0", 0.2), ("Volcanes#1", 0.5)))
    question = questions[0]  # "¿Cuándo entró en erupción el Etna?", gold Volcanes#0
    groups = {q.article_id: q.group for q in questions}

    assert diagnose_misses.diagnose(ScriptedEngine([etna, paella]), stored, question, groups, 10) is None
    miss = diagnose_misses.diagnose(ScriptedEngine([paella, etna]), stored, question, groups, 10)
    assert miss["gold_rank"] == 2 and miss["same_article"] is True
    assert miss["wrong_wins"] == {"passage_share": False, "sentence_share": False, "cosine": True}
    lost = diagnose_misses.diagnose(ScriptedEngine([paella]), stored, question, groups, 10)
    assert lost["gold_rank"] is None and lost["wrong_wins"] == {}


def test_summary_shares_are_over_all_misses() -> None:
    misses = [{"same_article": True, "gold_rank": 2, "wrong_wins": {"cosine": True, "passage_share": True}},
              {"same_article": False, "gold_rank": 7, "wrong_wins": {"cosine": True, "passage_share": False}},
              {"same_article": True, "gold_rank": None, "wrong_wins": {}}]
    result = diagnose_misses.summary(misses, total=10)
    counts = {name: row["count"] for name, row in result["breakdown"].items()}
    assert result["recall@1"] == 0.7 and result["misses"] == 3
    assert counts["same Wikipedia article"] == 2
    assert counts["gold at rank 2-5"] == counts["gold at rank 6-10"] == counts["gold not in top 10"] == 1
    assert counts["wrong passage >= gold on cosine"] == 2
    assert counts["wrong passage >= gold on every signal"] == 1
    assert result["breakdown"]["wrong passage >= gold on every signal"]["share_of_misses"] == round(1 / 3, 3)
