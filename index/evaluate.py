"""SQuAD-format evaluation through the same build, search and answer code the bot uses.

Every paragraph becomes an article; every question goes through ``Engine.ask``. Metrics:
paragraph-level Recall@1/5/10 and MRR@10 (is the gold paragraph retrieved), passage-level
(is a gold answer string inside a returned passage), answer-sentence containment, and for
SQuAD 2.0 files the refusal precision/recall plus a threshold trade-off table.
"""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from .build import build_index
from .engine import Engine
from .records import Answer
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    article_id: str
    answers: tuple[str, ...]
    impossible: bool
    group: str  # the SQuAD article title; splits are made by group so no paragraph leaks


def split_of(group: str) -> str:
    """A stable half/half split by SQuAD article, for choosing parameters on one half only."""
    return "tune" if int(hashlib.sha256(group.encode()).hexdigest(), 16) % 2 == 0 else "holdout"


def load_squad(path: Path) -> tuple[list[dict], list[Question]]:
    """Articles (one per paragraph, as JSONL records) and the questions about them."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for doc in data:
        group = doc.get("title", "")
        for pi, para in enumerate(doc["paragraphs"]):
            aid = f"{group}#{pi}"
            articles.append({"id": aid, "title": group.replace("_", " "), "text": para["context"]})
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a["text"].strip()))
                questions.append(Question(qa["id"], qa["question"], aid, answers,
                                          bool(qa.get("is_impossible", False)), group))
    return articles, questions


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def contains_any(text: str, answers: Iterable[str]) -> bool:
    haystack = _norm(text)
    return any(_norm(a) in haystack for a in answers)


def first_rank(items: list[bool]) -> int | None:
    return next((i + 1 for i, ok in enumerate(items) if ok), None)


def score_question(q: Question, answer: Answer, k: int) -> dict:
    """Per-question facts: ranks of the gold paragraph and passage, containment, the outcome, and
    whether the closest sentence of a "not in the article" reply held the gold (a refusal it got wrong)."""
    ranked = sorted(answer.passages, key=lambda p: -p.hit.score)
    articles = list(dict.fromkeys(p.hit.article_id for p in ranked))[:k]
    return {
        "id": q.id,
        "impossible": q.impossible,
        "paragraph_rank": first_rank([a == q.article_id for a in articles]),
        "passage_rank": first_rank([contains_any(p.hit.text, q.answers) for p in ranked[:k]]) if q.answers else None,
        "answer_contains": bool(q.answers) and answer.answered and contains_any(answer.answer, q.answers),
        "answer_contains_any": bool(q.answers) and contains_any(answer.answer, q.answers),
        "answered": answer.answered,
        "outcome": answer.outcome,
        "closest_contains": bool(q.answers) and contains_any(answer.closest, q.answers),
        "confidence": answer.confidence,
    }


def _recall(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / max(1, len(ranks))


def _mrr(ranks: list[int | None], k: int) -> float:
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / max(1, len(ranks))


def summarise(rows: list[dict], k: int = 10) -> dict:
    answerable = [r for r in rows if not r["impossible"]]
    impossible = [r for r in rows if r["impossible"]]
    out: dict = {"questions": len(rows), "answerable": len(answerable), "unanswerable": len(impossible)}
    for level in ("paragraph", "passage"):
        ranks = [r[f"{level}_rank"] for r in answerable]
        out[level] = {f"recall@{n}": round(_recall(ranks, n), 4) for n in (1, 5, 10) if n <= k}
        out[level][f"mrr@{k}"] = round(_mrr(ranks, k), 4)
    total = max(1, len(answerable))
    out["answer_sentence_contains_gold"] = round(sum(r["answer_contains_any"] for r in answerable) / total, 4)
    out["answerable_answered"] = round(sum(r["answered"] for r in answerable) / max(1, len(answerable)), 4)
    answered = [r for r in answerable if r["answered"]]
    out["answer_contains_gold_when_answered"] = round(sum(r["answer_contains"] for r in answered) / max(1, len(answered)), 4)
    if impossible:
        refused = [r for r in rows if not r["answered"]]
        true_refusals = sum(1 for r in refused if r["impossible"])
        out["refusal"] = {
            "precision": round(true_refusals / max(1, len(refused)), 4),
            "recall": round(true_refusals / max(1, len(impossible)), 4),
        }
        out["tradeoff"] = tradeoff(rows)
    return out


def tradeoff(rows: list[dict], steps: int = 11) -> list[dict]:
    """For a range of refusal thresholds: answerable kept vs unanswerable refused."""
    confidences = sorted(r["confidence"] for r in rows)
    table = []
    for i in range(steps):
        t = confidences[min(len(confidences) - 1, int(i * (len(confidences) - 1) / (steps - 1)))]
        kept = [r["confidence"] >= t for r in rows if not r["impossible"]]
        refused = [r["confidence"] < t for r in rows if r["impossible"]]
        table.append({"threshold": round(t, 4), "answerable_kept": round(sum(kept) / max(1, len(kept)), 4),
                      "unanswerable_refused": round(sum(refused) / max(1, len(refused)), 4)})
    return table


def build_eval_index(settings: Settings, articles: list[dict], work: Path, encoder=None) -> Settings:
    """Write the paragraphs as one JSONL file and build (incrementally, if ``work`` is reused)."""
    work.mkdir(parents=True, exist_ok=True)
    source = work / "articles"
    source.mkdir(exist_ok=True)
    with open(source / "paragraphs.jsonl", "w", encoding="utf-8") as handle:
        for record in articles:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    settings = settings.model_copy(update={"index_dir": work / "index", "articles_dir": source})
    report = build_index(settings, encoder=encoder, progress=True)
    log.info("eval index: %s articles, %s chunks, %.1fs", report.articles, report.chunks, report.seconds)
    return settings


def evaluate(engine: Engine, questions: list[Question], k: int) -> list[dict]:
    return [score_question(q, engine.ask(q.text, top_k=k), k) for q in tqdm(questions, desc="questions", unit="q")]


def run_eval(settings: Settings, qa: Path, k: int, json_out: Path | None, limit: int | None,
             work: Path | None, split: str = "all") -> int:
    articles, questions = load_squad(qa)
    if split != "all":
        questions = [q for q in questions if split_of(q.group) == split]
    questions = questions[:limit] if limit else questions
    with tempfile.TemporaryDirectory(prefix="article-qa-eval-") as tmp:
        eval_settings = build_eval_index(settings, articles, work or Path(tmp))
        engine = Engine.open(eval_settings)
        started = time.monotonic()
        rows = evaluate(engine, questions, k)
        seconds = time.monotonic() - started
    metrics = summarise(rows, k)
    metrics.update({"file": str(qa), "split": split, "seconds_per_question": round(seconds / max(1, len(rows)), 4),
                    "settings": {k: v for k, v in settings.model_dump(mode="json").items()
                                 if k not in {"articles_dir", "index_dir", "database_url", "database_read_url"}}})
    print(json.dumps(metrics, ensure_ascii=False, indent=1))
    if json_out:
        json_out.write_text(json.dumps({"metrics": metrics, "rows": rows}, ensure_ascii=False), encoding="utf-8")
    return 0
