"""Evaluation on news questions written by reading the articles (eval/news_dev.jsonl).

Six kinds of item, each asked through ``Engine.ask`` as the bot asks it:
- answerable: the answer text must match the item's regex (a refusal is a miss); a refusal of
  one is a false "not found";
- not_in_article: about the article's own story, asking for a fact it does not give: it must
  not be answered as fact (``not_in_article`` is the right outcome, any refusal is not a fact);
- off_topic: nothing in the corpus is about it: it must be refused;
- followup: a question, then an elliptical follow-up asked with the first turn as history;
  right when the follow-up's answer matches its regex;
- topic: asks what a story is about ("¿De qué trata la noticia de…?", "¿Qué pasó con…?"): right
  when the answer shows the story's lead, its regex taken from the article's first sentence;
- claim: asks whether a claim is true ("¿Es verdad que…?"): of a story that checks it
  (``fact_check``), right when the answer states the story's verdict (its regex matches the
  verdict's words); of an ordinary report, when it states the fact; of nothing, when refused.
Each answerable question is also asked wrapped in noise (a greeting, markup, an emoji, a
mention): the outcome must not change.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from .engine import Engine
from .records import Answer, Turn

KINDS = ("answerable", "not_in_article", "off_topic", "followup", "topic", "claim")
# Wrappers a chat message really comes in; the question goes where {q} is.
NOISE = ("Hola, {q}", "<b>{q}</b>", "{q} 🙏", "@articleqa_bot {q} por favor", "buenas! me puedes decir {q}",
         "&laquo;{q}&raquo; gracias")


@dataclass(frozen=True)
class NewsItem:
    """One line of the news evaluation set (see eval/README.md for the schema)."""

    id: str
    kind: str
    split: str
    question: str
    article_id: str | None = None
    qtype: str | None = None
    style: str | None = None
    answer_regex: str | None = None
    followup_question: str | None = None
    followup_regex: str | None = None
    fact_check: bool = False  # a claim item whose story checks the claim and states a verdict

    @classmethod
    def from_json(cls, data: dict) -> "NewsItem":
        follow = data.get("followup") or {}
        return cls(data["id"], data["kind"], data["split"], data["question"], data.get("article_id"),
                   data.get("qtype"), data.get("style"), data.get("answer_regex"),
                   follow.get("question"), follow.get("answer_regex"), bool(data.get("fact_check")))


def load_news(path: Path, split: str = "all") -> list[NewsItem]:
    """The items of one split (tune, holdout or all), in file order."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = NewsItem.from_json(json.loads(line))
            if split in ("all", item.split):
                items.append(item)
    return items


def holds(answer: Answer, regex: str | None) -> bool:
    """Whether an answered question's text matches the gold regex (a refusal never does)."""
    return bool(regex) and answer.answered and re.search(regex, answer.answer, re.IGNORECASE) is not None


def turn_of(question: str, answer: Answer) -> Turn:
    """The history turn the bot keeps for an answer (bot.conversation does the same)."""
    ids = tuple(dict.fromkeys(p.hit.article_id for p in answer.passages if p.highlight))
    return Turn(question, answer.answer if answer.answered else "", ids)


def _top_article(answer: Answer) -> str | None:
    return answer.passages[0].hit.article_id if answer.passages else None


def score_item(engine: Engine, item: NewsItem, noise: bool = True) -> dict:
    """Ask one item (and its follow-up or its noisy variants) and record what came back."""
    answer = engine.ask(item.question)
    row = {"id": item.id, "kind": item.kind, "split": item.split, "qtype": item.qtype, "style": item.style,
           "question": item.question, "outcome": answer.outcome, "answer": answer.answer, "closest": answer.closest,
           "confidence": round(answer.confidence, 4), "top_article": _top_article(answer),
           "article_first": item.article_id is not None and _top_article(answer) == item.article_id,
           "right": _right(item, answer)}
    if item.kind == "claim":
        row["claim_of"] = "fact_check" if item.fact_check else "report" if item.article_id else "nothing"
    if item.kind == "followup":
        follow = engine.ask(item.followup_question or "", history=[turn_of(item.question, answer)])
        row.update(followup_outcome=follow.outcome, followup_answer=follow.answer,
                   followup_right=holds(follow, item.followup_regex))
    if noise and item.kind == "answerable":
        outcomes = [engine.ask(wrap.format(q=item.question)).outcome for wrap in NOISE]
        row["noise_flips"] = sum(o != answer.outcome for o in outcomes)
    return row


def _right(item: NewsItem, answer: Answer) -> bool:
    if item.kind in ("answerable", "followup", "topic"):
        return holds(answer, item.answer_regex)
    if item.kind == "claim" and item.article_id:  # the verdict's words, and from the story that checks it
        return holds(answer, item.answer_regex) and _top_article(answer) == item.article_id
    if item.kind == "not_in_article":
        return not answer.answered
    return answer.outcome == "off_topic" or not answer.answered


def _rate(rows: Iterable[dict], key: str) -> float:
    rows = list(rows)
    return round(sum(bool(r[key]) for r in rows) / max(1, len(rows)), 4)


def summarise_news(rows: list[dict]) -> dict:
    """Per kind and overall: the rates the targets speak of, plus the outcomes' counts."""
    by = {kind: [r for r in rows if r["kind"] == kind] for kind in KINDS}
    answerable = by["answerable"]
    out: dict = {"items": len(rows), "counts": {k: len(v) for k, v in by.items()}}
    out["answerable"] = {
        "answer_holds_gold": _rate(answerable, "right"),
        "false_not_found": round(sum(r["outcome"] != "answered" for r in answerable) / max(1, len(answerable)), 4),
        "wrong_answer": round(sum(r["outcome"] == "answered" and not r["right"] for r in answerable)
                              / max(1, len(answerable)), 4),
        "article_first": _rate(answerable, "article_first"),
        "by_style": {s: _rate([r for r in answerable if r["style"] == s], "right") for s in ("formal", "colloquial")},
        "by_qtype": {q: _rate([r for r in answerable if r["qtype"] == q], "right")
                     for q in sorted({r["qtype"] for r in answerable if r["qtype"]})},
        "noise_flip_rate": round(sum(r.get("noise_flips", 0) for r in answerable)
                                 / max(1, len(answerable) * len(NOISE)), 4),
    }
    out["not_in_article"] = {"not_answered_as_fact": _rate(by["not_in_article"], "right"),
                             "said_not_in_article": _share(by["not_in_article"], "not_in_article"),
                             "article_first": _rate(by["not_in_article"], "article_first")}
    out["off_topic"] = {"refused": _rate(by["off_topic"], "right"),
                        "said_off_topic": _share(by["off_topic"], "off_topic")}
    out["followup"] = {"first_right": _rate(by["followup"], "right"),
                       "followup_right": _rate(by["followup"], "followup_right")}
    topic = by["topic"]
    out["topic"] = {"answered_with_lead": _rate(topic, "right"), "article_first": _rate(topic, "article_first"),
                    "refused": round(sum(r["outcome"] != "answered" for r in topic) / max(1, len(topic)), 4)}
    claims = {of: [r for r in by["claim"] if r.get("claim_of") == of] for of in ("fact_check", "report", "nothing")}
    out["claim"] = {"verdict_stated": _rate(claims["fact_check"], "right"),
                    "report_answered": _rate(claims["report"], "right"),
                    "nothing_refused": _rate(claims["nothing"], "right")}
    out["outcomes"] = {kind: dict(Counter(r["outcome"] for r in v)) for kind, v in by.items()}
    return out


def _share(rows: list[dict], outcome: str) -> float:
    return round(sum(r["outcome"] == outcome for r in rows) / max(1, len(rows)), 4)


def run_news_eval(engine: Engine, items_path: Path, split: str, json_out: Path | None,
                  limit: int | None = None, noise: bool = True) -> dict:
    """Evaluate, print the summary as JSON, and write per-item rows with ``json_out``."""
    items = load_news(items_path, split)[:limit] if limit else load_news(items_path, split)
    started = time.monotonic()
    rows = [score_item(engine, item, noise) for item in tqdm(items, desc="news questions", unit="q")]
    metrics = summarise_news(rows)
    metrics.update({"file": str(items_path), "split": split,
                    "seconds": round(time.monotonic() - started, 1)})
    report(metrics, rows, json_out)
    return metrics


def report(metrics: dict, rows: list[dict], json_out: Path | None) -> None:
    """An evaluation's summary on stdout as JSON, and its per-item rows in ``json_out`` when given
    (the news and the date evaluations report alike)."""
    print(json.dumps(metrics, ensure_ascii=False, indent=1))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps({"metrics": metrics, "rows": rows}, ensure_ascii=False, indent=1),
                            encoding="utf-8")
