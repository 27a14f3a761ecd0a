#!/usr/bin/env python
"""Try a learned "does the found story state it?" classifier for the not-in-article outcome.

The served rules say "not in the article" when the question asks for a kind of answer no
sentence of the found story holds, or the best sentence says the fact is unknown
(``index.answer.not_stated``); a threshold on the best
sentence's score separates nothing more on the news tune half (docs/evaluation.md). This
script measures whether more evidence does: a classifier over what the answer layer knows of
a question (its best and second scores, the best sentence's twelve features and its passage's
share of the question's words, how many sentences of the story hold the asked kind), learned
from SQuAD-es v2.0's tune half (questions written against a paragraph that does not answer
them, beside answerable ones) and from the news tune half (its not-in-article questions).

Both read only tune halves: news questions are scored out of fold (five folds by article).
Reported, on the news tune half, how many not-in-article questions are not answered as fact
and how many answerable ones are still answered, for the served rules alone and with the
classifier refusing as well below thresholds that give up 1, 2, 5 and 10 % of the answerable.

    python scripts/try_answerability.py --news eval/news_dev.jsonl --news-index var/news-index \\
        --qa2 ../shared/data/squad_es_dev/squad_es-v2.0-dev-small.noxquad.json --qa2-work var/eval-v2.0 \\
        --out var/results/answerability.json
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from index.answer import AnswerWeights, FEATURES  # noqa: E402
from index.news_eval import load_news  # noqa: E402
from index.settings import Settings  # noqa: E402
from tune_answer import Asked, asked, open_sets, write_report  # noqa: E402

_KIND, _FOCUS_VALUE = FEATURES.index("kind"), FEATURES.index("focus_value")
COSTS = (0.01, 0.02, 0.05, 0.10)


def question_features(row: Asked, w: np.ndarray) -> np.ndarray:
    """What the answer layer knows of a question, as one row: its candidates are ordered by the
    served score, as ``score_sentences`` returns them."""
    scores = row.features @ w
    order = np.argsort(-scores)
    best = order[0]
    second = scores[order[1]] if len(order) > 1 else scores[best] - 1.0
    story = row.features[:, _KIND]
    return np.concatenate([[scores[best], scores[best] - second, float(np.mean(scores[order[:3]])), row.coverage[best],
                            float(story.sum()), float(row.features[:, _FOCUS_VALUE].sum()), float(len(scores))],
                           row.features[best]])


def fold_of(row: Asked, folds: int = 5) -> int:
    return zlib.crc32(row.group.encode()) % folds


def classifier():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=200, random_state=0)


def trade_off(news: list[tuple[Asked, str]], p_answerable: np.ndarray) -> list[dict]:
    """Served rules, then the classifier refusing too below thresholds costing COSTS of the
    answerable questions the rules answer."""
    answerable = np.array([r.kind == "answerable" for r, _ in news])
    missing = np.array([r.kind == "not_in_article" for r, _ in news])
    served = np.array([outcome == "answered" for _, outcome in news])
    rows = [{"rule": "served", "answerable_answered": round(float(served[answerable].mean()), 4),
             "not_in_article_not_answered": round(float(1 - served[missing].mean()), 4)}]
    kept_scores = np.sort(p_answerable[served & answerable])
    for cost in COSTS:
        threshold = float(np.quantile(kept_scores, cost))
        answered = served & (p_answerable > threshold)
        rows.append({"rule": f"served + classifier (gives up {cost:.0%})", "threshold": round(threshold, 4),
                     "answerable_answered": round(float(answered[answerable].mean()), 4),
                     "not_in_article_not_answered": round(float(1 - answered[missing].mean()), 4)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=Path, required=True, help="eval/news_dev.jsonl")
    parser.add_argument("--news-index", type=Path, required=True, help="index of the news set's corpus")
    parser.add_argument("--qa2", type=Path, required=True, help="SQuAD-es v2.0 file")
    parser.add_argument("--qa2-work", type=Path, required=True, help="its eval index (python -m index eval --work)")
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args()
    settings = Settings()
    news_engine, squad_engine, tune = open_sets(settings, args.news_index, args.qa2, args.qa2_work)
    w = AnswerWeights.of(settings).vector()
    news: list[tuple[Asked, str]] = []
    for item in load_news(args.news, "tune"):
        if item.kind in ("answerable", "not_in_article"):
            row = asked(news_engine, item.question, [], item.answer_regex, "news", item.kind, item.article_id)
            if row:
                news.append((row, news_engine.ask(item.question).outcome))
    squad = [asked(squad_engine, q.text, [], q.answers, "squad", "not_in_article" if q.impossible else "answerable",
                   q.group) for q in tune]
    squad = [r for r in squad if r]
    x_squad = np.array([question_features(r, w) for r in squad])
    y_squad = np.array([r.kind == "answerable" for r in squad])
    x_news = np.array([question_features(r, w) for r, _ in news])
    y_news = np.array([r.kind == "answerable" for r, _ in news])
    from sklearn.metrics import roc_auc_score

    squad_only = classifier().fit(x_squad, y_squad).predict_proba(x_news)[:, 1]
    both = np.zeros(len(news))
    for f in range(5):
        test = np.array([fold_of(r) == f for r, _ in news])
        model = classifier().fit(np.vstack([x_squad, x_news[~test]]), np.concatenate([y_squad, y_news[~test]]))
        both[test] = model.predict_proba(x_news[test])[:, 1]
    report = {"questions": {"news_answerable": int(y_news.sum()), "news_not_in_article": int((~y_news).sum()),
                            "squad_answerable": int(y_squad.sum()), "squad_impossible": int((~y_squad).sum())},
              "auc_news": {"best_score": round(float(roc_auc_score(y_news, x_news[:, 0])), 4),
                           "trained_on_squad": round(float(roc_auc_score(y_news, squad_only)), 4),
                           "trained_on_both_out_of_fold": round(float(roc_auc_score(y_news, both)), 4)},
              "trained_on_squad": trade_off(news, squad_only),
              "trained_on_both_out_of_fold": trade_off(news, both)}
    print(json.dumps(report, indent=1))
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
