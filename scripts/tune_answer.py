#!/usr/bin/env python
"""Learn the answer-sentence weights and calibrate the three outcomes on the tune halves.

Sentence choice: every candidate sentence of ``Engine.evidence`` is a row of features
(``index.answer.FEATURES``) labelled by whether it holds the gold answer (the item's regex on
the news set, a gold string on SQuAD-es); a logistic regression (scikit-learn) learns one
weight per feature from the tune halves of both sets, on pairs of a gold and another sentence of
the same question (pairwise ranking): only the order of a question's sentences is learned. The
regularisation is the one whose weights, fitted on four fifths of the questions (by article),
choose best on the fifth left out (five folds, both sets counted): in-sample top-1 rewards a fit
to the tune questions themselves.

Outcomes, calibrated on the news tune half with the learned weights:
- off-topic when the best sentence's passage holds less than ``refusal_min_coverage`` of the
  question's idf weight or the best sentence's topicality (``index.answer.topicality``: its score
  plus weighted coverage, cosine and passage cosine) is below ``refusal_threshold``. The three
  topicality weights come from a logistic regression telling the tune halves' answerable
  questions (news and SQuAD-es) from off-topic ones (the news set's own, and SQuAD-es questions
  asked of the news index, which no news article is about), scaled to the score's weight. The
  pair of thresholds refuses the most of the news set's own off-topic questions, then does best
  on the answerable questions kept (news and SQuAD-es, each counted) plus the other off-topic
  questions refused, while keeping at least KEEP_ANSWERABLE of the answerable news questions and
  of the SQuAD-es ones (a Wikipedia question shares more words with its paragraph, but a
  refusal of it is as wrong);
- not in the article when a question asks for a kind of answer (``index.kinds``) that no
  candidate sentence of the found story holds (a rule, not tuned), or the best sentence scores
  below ``not_in_article_threshold``: the threshold that says it for the most not-in-article
  questions the other rules answer, less the answerable ones it refuses (none, -inf, unless that
  nets a gain), while all the rules together still keep KEEP_ANSWERABLE of the answerable ones.
The holdout halves are never read here; report them with ``python -m index eval``.

    python scripts/tune_answer.py --news eval/news_dev.jsonl --news-index var/news-index \\
        --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json --qa-work var/eval-v1.1 \\
        --out var/results/tune-answer.json
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.answer import FEATURES, Evidence  # noqa: E402
from index.embedding import Encoder, QueryCache  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import build_eval_index, contains_any, load_squad, split_of  # noqa: E402
from index.news_eval import load_news, turn_of  # noqa: E402
from index.records import Turn  # noqa: E402
from index.settings import Settings  # noqa: E402

KEEP_ANSWERABLE = 0.95
# A hand-set weighting of four features, reported beside the learned ones for comparison.
PLAIN = {"lexical": 0.4, "dense": 0.4, "passage": 0.5, "kind": 0.1}


@dataclass
class Asked:
    """One question's candidate sentences: features, labels, and what the outcome rules read."""

    source: str  # news or squad
    kind: str  # answerable, not_in_article, off_topic
    features: np.ndarray
    labels: np.ndarray
    coverage: np.ndarray  # each sentence's passage's share of the question's idf weight (as the refusal reads it)
    # What scripts/try_answer_readers.py reads besides: the group the split and folds follow (the
    # article), the question, its sentences' texts, and the question's and sentences' vectors.
    group: str = ""
    question: str = ""
    texts: tuple[str, ...] = ()
    vector: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    # Whether the rules already say "not in the article" (``index.answer.not_stated``, as served).
    lacks: bool = False
    titles: tuple[str, ...] = ()  # each sentence's article title


def asked(engine: Engine, question: str, history: list[Turn], gold, source: str, kind: str,
          group: str = "") -> Asked | None:
    """The evidence for one question, labelled by ``gold`` (a regex or a tuple of strings)."""
    from index.answer import not_stated
    from index.coverage import passage_coverage

    evidence = engine.evidence(question, history)
    if not isinstance(evidence, Evidence) or not evidence.sentences:
        return None
    rows = np.array([s.features for s in evidence.sentences], dtype=np.float64)
    if isinstance(gold, str):
        labels = np.array([bool(re.search(gold, s.text, re.IGNORECASE)) for s in evidence.sentences])
    elif gold:
        labels = np.array([contains_any(s.text, gold) for s in evidence.sentences])
    else:
        labels = np.zeros(len(rows), dtype=bool)
    stored = engine._index()
    by_chunk = {s.chunk.row: s.chunk for s in evidence.sentences}
    asked_as = evidence.question  # cleaned as served (``Engine.evidence``)
    held = {row: max(passage_coverage(stored, q, chunk) for q in {asked_as, evidence.resolved})
            for row, chunk in by_chunk.items()}
    coverage = np.array([held[s.chunk.row] for s in evidence.sentences])
    # The tuning indexes are folders (``python -m index build``/``eval``): their sentence vectors read by row.
    vectors = np.asarray(stored.sentence_vectors[[s.row for s in evidence.sentences]], dtype=np.float32)
    return Asked(source, kind, rows, labels, coverage, group, asked_as, tuple(s.text for s in evidence.sentences),
                 engine.queries.encode_queries([asked_as])[0], vectors,
                 not_stated(asked_as, evidence.sentences),
                 tuple(s.chunk.title for s in evidence.sentences))


def news_rows(engine: Engine, path: Path) -> list[Asked]:
    out = []
    for item in load_news(path, "tune"):
        # A topic is answered with its story's lead (index.gist), a claim with its verdict
        # (index.verdict): neither by the sentence weights.
        if item.kind in ("topic", "claim"):
            continue
        kind = "answerable" if item.kind == "followup" else item.kind
        row = asked(engine, item.question, [], item.answer_regex, "news", kind, item.article_id)
        if row:
            out.append(row)
        if item.kind == "followup":
            first = engine.ask(item.question)
            row = asked(engine, item.followup_question or "", [turn_of(item.question, first)], item.followup_regex,
                        "news", "answerable", item.article_id)
            if row:
                out.append(row)
    return out


def squad_rows(engine: Engine, questions: list, kind: str) -> list[Asked]:
    rows = [asked(engine, q.text, [], q.answers, "squad", kind, q.group) for q in questions]
    return [r for r in rows if r]


def fit(rows: list[Asked], c: float, seed: int = 0) -> np.ndarray:
    """Weights that rank each question's gold sentences above its others: a logistic regression
    on the differences of (gold, other) feature pairs of the same question (pairwise ranking),
    so only the order within a question is learned, not how answerable the question is."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    x, y = [], []
    for r in rows:
        for p in np.flatnonzero(r.labels):
            for n in np.flatnonzero(~r.labels):
                sign = 1 if rng.random() < 0.5 else -1
                x.append(sign * (r.features[p] - r.features[n]))
                y.append(int(sign > 0))
    model = LogisticRegression(C=c, max_iter=5000, fit_intercept=False)
    model.fit(np.array(x), np.array(y))
    return model.coef_[0]


FOLDS = 5
REGULARISATIONS = (0.03, 0.1, 0.3, 1.0, 3.0)


def fold_of(row: Asked, folds: int = FOLDS) -> int:
    """The row's fold, by article as the tune/holdout split is: a story's questions stay together."""
    return zlib.crc32(row.group.encode()) % folds


def out_of_fold_top1(rows: list[Asked], c: float, folds: int = FOLDS) -> dict[str, float]:
    """Per set, the share of questions whose best sentence holds the gold answer, each fold's
    questions scored by weights fitted on the other folds."""
    weights = {f: fit([r for r in rows if fold_of(r, folds) != f], c) for f in range(folds)}
    held_out = {source: [r for r in rows if r.source == source] for source in ("news", "squad")}
    return {source: float(np.mean([r.labels[int(np.argmax(r.features @ weights[fold_of(r, folds)]))] for r in these]))
            if these else 0.0 for source, these in held_out.items()}


def chosen_fit(fits: list[dict]) -> dict:
    """The fit whose regularisation chose best out of fold, both sets counted (the first of equals)."""
    return max(fits, key=lambda r: r["news_top1_out_of_fold"] + r["squad_top1_out_of_fold"])


def top1(rows: list[Asked], w: np.ndarray) -> float:
    """Share of the questions whose best-scored sentence holds the gold answer."""
    return float(np.mean([r.labels[int(np.argmax(r.features @ w))] for r in rows])) if rows else 0.0


def best(rows: list[Asked], w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each question's best sentence score and its passage's coverage, under weights ``w``."""
    picks = [int(np.argmax(r.features @ w)) for r in rows]
    return (np.array([float(r.features[i] @ w) for r, i in zip(rows, picks)]),
            np.array([float(r.coverage[i]) for r, i in zip(rows, picks)]))


TOPICAL = ("coverage", "dense", "context")  # the topicality terms added to the score, as in index.answer.topicality


def topical_terms(rows: list[Asked], w: np.ndarray) -> np.ndarray:
    """Each question's best sentence's score, then its TOPICAL terms (one row per question)."""
    picks = [int(np.argmax(r.features @ w)) for r in rows]
    dense, context = FEATURES.index("dense"), FEATURES.index("context")
    return np.array([[float(r.features[i] @ w), float(r.coverage[i]), float(r.features[i, dense]),
                      float(r.features[i, context])] for r, i in zip(rows, picks)]).reshape(-1, 1 + len(TOPICAL))


def fit_topicality(answerable: list[Asked], off_topic: list[Asked], w: np.ndarray, c: float = 1.0) -> np.ndarray:
    """The TOPICAL terms' weights, relative to the score's: a logistic regression (on standardised
    terms) telling answerable questions from off-topic ones by their best sentence."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([topical_terms(answerable, w), topical_terms(off_topic, w)])
    y = np.r_[np.ones(len(answerable)), np.zeros(len(off_topic))]
    scale = x.std(axis=0)
    varying = scale > 1e-9  # a term that never changes tells nothing: weight 0
    model = LogisticRegression(C=c, max_iter=5000).fit(x[:, varying] / scale[varying], y)
    coef = np.zeros(x.shape[1])
    coef[varying] = model.coef_[0] / scale[varying]
    if coef[0] <= 0:
        raise ValueError("the best sentence's score does not tell answerable from off-topic questions here")
    return coef[1:] / coef[0]


def _share(flags: list) -> float:
    return float(np.mean(flags)) if len(flags) else 0.0


def calibrate(rows: list[Asked], w: np.ndarray, off_topic: list[Asked], topic: np.ndarray | None = None,
              other_answerable: list[Asked] = ()) -> dict:
    """The outcome thresholds (see module docstring) and what they give on the tune rows;
    ``topic`` holds the TOPICAL weights (none: the off-topic decision reads the score alone);
    ``other_answerable`` (SQuAD-es) must keep KEEP_ANSWERABLE too."""
    answerable = [r for r in rows if r.kind == "answerable"]
    missing = [r for r in rows if r.kind == "not_in_article"]
    news_off = [r for r in off_topic if r.source == "news"]
    other_off = [r for r in off_topic if r.source != "news"]

    def topical(group: list[Asked]) -> tuple[np.ndarray, np.ndarray]:
        if topic is None:
            return best(group, w)
        terms = topical_terms(group, w)  # the score, then the TOPICAL terms (coverage first)
        return terms[:, 0] + terms[:, 1:] @ topic, terms[:, 1]

    a_score, _ = best(answerable, w)
    a_topic, a_cov = topical(answerable)
    others = list(other_answerable)
    o_topic, o_cov = topical(others) if others else (np.zeros(0), np.zeros(0))
    grid = []
    for min_cov in (0.0, 0.2, 0.3, 0.4, 0.5):
        for share in (0.0, 0.01, 0.02, 0.03, 0.05):
            threshold = float(np.quantile(a_topic, share)) if share else float(a_topic.min()) - 1e-6
            kept = float(np.mean((a_cov >= min_cov) & (a_topic >= threshold)))
            other_kept = float(np.mean((o_cov >= min_cov) & (o_topic >= threshold))) if others else 1.0
            refused = [_share([(c < min_cov) | (sc < threshold) for sc, c in zip(*topical(group))])
                       for group in (news_off, other_off)]
            grid.append({"refusal_min_coverage": min_cov, "refusal_threshold": round(threshold, 4),
                         "answerable_kept": round(kept, 4), "squad_answerable_kept": round(other_kept, 4),
                         "news_off_topic_refused": round(refused[0], 4),
                         "squad_off_topic_refused": round(refused[1], 4)})
    eligible = [g for g in grid if min(g["answerable_kept"], g["squad_answerable_kept"]) >= KEEP_ANSWERABLE] or grid
    # The news set's own off-topic questions first; then the answerable questions kept on both
    # sets plus the other off-topic questions refused: a wrong refusal, which a reader forgives
    # least, counts on each set it happens in.
    chosen = max(eligible, key=lambda g: (g["news_off_topic_refused"], g["squad_off_topic_refused"]
                                          + g["answerable_kept"] + g["squad_answerable_kept"]))
    # Not in the article by score alone, beside the kind rule: the threshold that says it for the
    # most not-in-article questions the other rules answer, less the answerable ones it refuses,
    # while the answerable ones kept by all rules stay at least KEEP_ANSWERABLE.
    m_score, _ = best(missing, w)
    m_topic, m_cov = topical(missing)
    m_said = (m_cov < chosen["refusal_min_coverage"]) | (m_topic < chosen["refusal_threshold"]) | \
        np.array([r.lacks for r in missing], dtype=bool)
    kept_by_topic = (a_cov >= chosen["refusal_min_coverage"]) & (a_topic >= chosen["refusal_threshold"]) & \
        ~np.array([r.lacks for r in answerable], dtype=bool)
    trade = []
    above = a_score[kept_by_topic]
    for share in (0.0, 0.01, 0.02, 0.05, 0.1):
        if share and not len(above):
            continue
        threshold = float(np.quantile(above, share)) if share else float("-inf")
        kept = kept_by_topic & (a_score >= threshold)
        said = m_said | (m_score < threshold)
        trade.append({"not_in_article_threshold": round(threshold, 4),
                      "answerable_kept": round(float(np.mean(kept)), 4),
                      "not_in_article_caught": round(float(np.mean(said)), 4),
                      "net": int(said.sum() - m_said.sum() - (kept_by_topic.sum() - kept.sum()))})
    allowed = [t for t in trade if t["answerable_kept"] >= KEEP_ANSWERABLE] or trade[:1]
    return {"off_topic_grid": grid, "off_topic": chosen, "not_in_article_grid": trade,
            "not_in_article": max(allowed, key=lambda t: (t["net"], -t["not_in_article_threshold"]))}


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The news set, its corpus's index, the SQuAD-es file and its eval index."""
    parser.add_argument("--news", type=Path, required=True, help="eval/news_dev.jsonl")
    parser.add_argument("--news-index", type=Path, required=True, help="index of the news set's corpus")
    parser.add_argument("--qa", type=Path, required=True, help="SQuAD-es v1.1 file")
    parser.add_argument("--qa-work", type=Path, required=True, help="its eval index (python -m index eval --work)")


def open_sets(settings: Settings, news_index: Path, qa: Path, qa_work: Path) -> tuple[Engine, Engine, list]:
    """The news index's engine, the SQuAD-es index's engine (built in ``qa_work`` if missing) and
    its tune questions; one encoder for both, caching every question's vector."""
    encoder = QueryCache(Encoder(settings), max_size=None)
    news = Engine.open(settings.model_copy(update={"index_dir": news_index}), encoder)  # type: ignore[arg-type]
    articles, questions = load_squad(qa)
    squad = Engine.open(build_eval_index(settings, articles, qa_work), encoder)  # type: ignore[arg-type]
    return news, squad, [q for q in questions if split_of(q.group) == "tune"]


def write_report(path: Path | None, report: dict) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_arguments(parser)
    parser.add_argument("--sample", type=int, default=0, help="SQuAD-es tune questions (default: all of the half)")
    parser.add_argument("--out", type=Path, help="write the rows' summary and the chosen values here")
    args = parser.parse_args()
    settings = Settings()
    news, squad, tune = open_sets(settings, args.news_index, args.qa, args.qa_work)
    tune = random.Random(0).sample(tune, min(args.sample or len(tune), len(tune)))
    news_tune = news_rows(news, args.news)
    squad_tune = squad_rows(squad, tune, "answerable")
    off_topic = [r for r in news_tune if r.kind == "off_topic"] + squad_rows(news, tune[:300], "off_topic")
    plain = np.array([PLAIN.get(name, 0.0) for name in FEATURES])
    answerable_news = [r for r in news_tune if r.kind == "answerable"]
    report: dict = {"features": FEATURES, "plain": {"weights": plain.round(4).tolist(),
                    "news_top1": top1(answerable_news, plain), "squad_top1": top1(squad_tune, plain)},
                    "fits": []}
    for c in REGULARISATIONS:
        w = fit(answerable_news + squad_tune, c)
        held_out = out_of_fold_top1(answerable_news + squad_tune, c)
        row = {"C": c, "weights": w.round(4).tolist(), "news_top1": round(top1(answerable_news, w), 4),
               "squad_top1": round(top1(squad_tune, w), 4),
               "news_top1_out_of_fold": round(held_out["news"], 4),
               "squad_top1_out_of_fold": round(held_out["squad"], 4)}
        report["fits"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "weights"}), flush=True)
    best = chosen_fit(report["fits"])
    report["chosen_C"] = best["C"]
    w = np.array(best["weights"])
    report["chosen"] = {f"answer_{name}_weight": weight for name, weight in zip(FEATURES, best["weights"])}
    topic = fit_topicality(answerable_news + squad_tune, off_topic, w)
    report["chosen"].update({f"refusal_{name}_weight": round(float(v), 4) for name, v in zip(TOPICAL, topic)})
    report["outcomes_by_score_alone"] = calibrate(news_tune, w, off_topic, other_answerable=squad_tune)
    report["outcomes"] = calibrate(news_tune, w, off_topic, topic, other_answerable=squad_tune)
    print(json.dumps({"chosen": report["chosen"], "off_topic": report["outcomes"]["off_topic"],
                      "off_topic_by_score_alone": report["outcomes_by_score_alone"]["off_topic"],
                      "not_in_article": report["outcomes"]["not_in_article"]}, indent=1))
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
