"""Check the news evaluation set ``eval/news_dev.jsonl`` against the corpus it was written from.

    python scripts/check_news_dev.py --corpus ../shared/data/news_es/true_news_unmasked.jsonl eval/news_dev.jsonl

Checks, for every item: the schema (keys, kinds, qtypes, styles, splits, which fields are null
for which kind); that its article exists in the corpus; that ``answer_sentence`` occurs verbatim
in the article's text (after collapsing runs of whitespace); that ``answer_regex`` compiles and
matches ``answer_sentence`` case-insensitively (the follow-up's too); ids unique; every item of
one article in the same split; the minimum count of each kind. For ``topic`` items (what is the
story about; answered with its lead): qtype ``tema``, ``answer_sentence`` is the article's first
sentence (the text begins with it), ``answer_regex`` matches nothing of the article after it, one
topic item per article, on an article that also has other items, and enough of them in each
split. For ``claim`` items (is a claim true?): qtype ``verdad``, one more key, ``fact_check``;
with an article, ``answer_sentence`` occurs in its text or is its title; without one (nothing is
about the claim), the answer fields are null. Prints a summary table and exits non-zero when
anything fails.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

KEYS = ("id", "kind", "split", "article_id", "question", "qtype", "style",
        "answer_sentence", "answer_regex", "missing", "followup")
CLAIM_KEYS = (*KEYS, "fact_check")
FOLLOWUP_KEYS = ("question", "qtype", "answer_sentence", "answer_regex")
KINDS = ("answerable", "not_in_article", "off_topic", "followup", "topic", "claim")
SPLITS = ("tune", "holdout")
QTYPES = ("quien", "que", "cuando", "donde", "cuanto", "cuantos", "por_que", "como", "cual")
TOPIC_QTYPE = "tema"  # the qtype of every topic item, and of no other
CLAIM_QTYPE = "verdad"  # the qtype of every claim item, and of no other
STYLES = ("formal", "colloquial")
MINIMUM = {"answerable": 130, "not_in_article": 55, "off_topic": 22, "followup": 32, "topic": 40, "claim": 100}
MINIMUM_PER_SPLIT = {"topic": 18, "claim": 40}


def collapse(text: str) -> str:
    """Runs of whitespace (newlines included) as one space, ends stripped."""
    return re.sub(r"\s+", " ", text).strip()


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _check_answer(where: str, sentence, regex, text: str | None, errors: list[str]) -> None:
    if not isinstance(sentence, str) or not sentence.strip():
        errors.append(f"{where}: answer_sentence missing")
        return
    if text is not None and collapse(sentence) not in text:
        errors.append(f"{where}: answer_sentence not found verbatim in the article")
    if not isinstance(regex, str) or not regex:
        errors.append(f"{where}: answer_regex missing")
        return
    try:
        pattern = re.compile(regex, re.IGNORECASE)
    except re.error as exc:
        errors.append(f"{where}: answer_regex does not compile ({exc})")
        return
    if not pattern.search(sentence):
        errors.append(f"{where}: answer_regex {regex!r} does not match answer_sentence")


def check(items: list[dict], corpus: dict[str, str], titles: dict[str, str] | None = None) -> list[str]:
    """Every problem found, as one line each; empty when the set is sound (``titles``: the
    articles' titles, where a claim's verdict may be stated)."""
    titles = titles or {}
    errors: list[str] = []
    ids = Counter(item.get("id") for item in items)
    errors += [f"{i}: duplicate id" for i, n in ids.items() if n > 1]
    split_of: dict[str, set[str]] = defaultdict(set)
    for item in items:
        where = item.get("id", "?")
        keys = CLAIM_KEYS if item.get("kind") == "claim" else KEYS
        if tuple(item) != keys:
            errors.append(f"{where}: keys {list(item)} differ from the schema {list(keys)}")
            continue
        kind = item["kind"]
        if kind not in KINDS:
            errors.append(f"{where}: unknown kind {kind!r}")
            continue
        if item["split"] not in SPLITS:
            errors.append(f"{where}: unknown split {item['split']!r}")
        special = {"topic": TOPIC_QTYPE, "claim": CLAIM_QTYPE}
        if kind in special:
            if item["qtype"] != special[kind]:
                errors.append(f"{where}: a {kind} item's qtype must be {special[kind]!r}")
        elif item["qtype"] not in QTYPES:
            errors.append(f"{where}: unknown qtype {item['qtype']!r}")
        if item["style"] not in STYLES:
            errors.append(f"{where}: unknown style {item['style']!r}")
        if not isinstance(item["question"], str) or not item["question"].strip():
            errors.append(f"{where}: empty question")
        article = item["article_id"]
        if kind == "claim":
            _check_claim(where, item, corpus.get(article) if article else None, titles.get(article), errors)
            if article is not None:
                split_of[article].add(item["split"])
            continue
        if kind == "off_topic":
            if article is not None:
                errors.append(f"{where}: off_topic item with an article_id")
        else:
            if article not in corpus:
                errors.append(f"{where}: article_id {article!r} not in the corpus")
            split_of[article].add(item["split"])
        text = corpus.get(article) if article else None
        if kind in ("answerable", "followup", "topic"):
            _check_answer(where, item["answer_sentence"], item["answer_regex"], text, errors)
            if item["missing"] is not None:
                errors.append(f"{where}: missing must be null for {kind}")
            if kind == "topic" and text is not None:
                _check_lead(where, item["answer_sentence"], item["answer_regex"], text, errors)
        else:
            if item["answer_sentence"] is not None or item["answer_regex"] is not None:
                errors.append(f"{where}: answer fields must be null for {kind}")
            if kind == "not_in_article" and not (isinstance(item["missing"], str) and item["missing"].strip()):
                errors.append(f"{where}: not_in_article item without 'missing'")
            if kind == "off_topic" and item["missing"] is not None:
                errors.append(f"{where}: missing must be null for off_topic")
        follow = item["followup"]
        if kind == "followup":
            if not isinstance(follow, dict) or tuple(follow) != FOLLOWUP_KEYS:
                errors.append(f"{where}: followup must be an object with keys {list(FOLLOWUP_KEYS)}")
            else:
                if follow["qtype"] not in QTYPES:
                    errors.append(f"{where}: unknown follow-up qtype {follow['qtype']!r}")
                if not isinstance(follow["question"], str) or not follow["question"].strip():
                    errors.append(f"{where}: empty follow-up question")
                _check_answer(f"{where} (follow-up)", follow["answer_sentence"], follow["answer_regex"], text, errors)
        elif follow is not None:
            errors.append(f"{where}: followup must be null for {kind}")
    errors += [f"article {a}: items in both splits" for a, s in split_of.items() if len(s) > 1]
    kinds = Counter(item.get("kind") for item in items)
    errors += [f"only {kinds[k]} {k} items, at least {n} wanted" for k, n in MINIMUM.items() if kinds[k] < n]
    per_split = Counter((item.get("kind"), item.get("split")) for item in items)
    errors += [f"only {per_split[(k, s)]} {k} items in {s}, at least {n} wanted"
               for k, n in MINIMUM_PER_SPLIT.items() for s in SPLITS if per_split[(k, s)] < n]
    topics = Counter(item.get("article_id") for item in items if item.get("kind") == "topic")
    errors += [f"article {a}: {n} topic items, one wanted" for a, n in topics.items() if n > 1]
    others = {item.get("article_id") for item in items if item.get("kind") != "topic"}
    errors += [f"article {a}: a topic item on an article with no other item" for a in topics if a not in others]
    return errors


def _check_claim(where: str, item: dict, text: str | None, title: str | None, errors: list[str]) -> None:
    """A claim's verdict (or, of an ordinary report, its fact) is in the article's text or is its
    title, and its regex matches it; a claim nothing is about has no answer; no claim item has a
    ``missing`` or a ``followup``."""
    if item["missing"] is not None or item["followup"] is not None:
        errors.append(f"{where}: missing and followup must be null for claim")
    if not isinstance(item["fact_check"], bool):
        errors.append(f"{where}: fact_check must be true or false")
    if item["article_id"] is None:
        if item["answer_sentence"] is not None or item["answer_regex"] is not None or item["fact_check"]:
            errors.append(f"{where}: a claim with no article has no answer and checks nothing")
        return
    if text is None:
        errors.append(f"{where}: article_id {item['article_id']!r} not in the corpus")
        return
    in_title = title is not None and collapse(item["answer_sentence"] or "") == collapse(title)
    _check_answer(where, item["answer_sentence"], item["answer_regex"], None if in_title else text, errors)


def _check_lead(where: str, sentence, regex, text: str, errors: list[str]) -> None:
    """A topic item's sentence is the article's lead, and its regex matches nothing after the lead."""
    if not isinstance(sentence, str) or not isinstance(regex, str):
        return
    lead = collapse(sentence)
    if not text.startswith(lead):
        errors.append(f"{where}: answer_sentence is not the article's first sentence")
        return
    try:
        later = re.search(regex, text[len(lead):], re.IGNORECASE)
    except re.error:
        return
    if later:
        errors.append(f"{where}: answer_regex also matches after the lead ({later.group()!r})")


def summary(items: list[dict]) -> str:
    """Counts per kind and split, articles per split, styles and question kinds."""
    by = Counter((item["kind"], item["split"]) for item in items)
    rows = [f"{'kind':<16}{'tune':>7}{'holdout':>9}{'total':>7}"]
    for kind in KINDS:
        tune, hold = by[(kind, "tune")], by[(kind, "holdout")]
        rows.append(f"{kind:<16}{tune:>7}{hold:>9}{tune + hold:>7}")
    tune = sum(by[(k, "tune")] for k in KINDS)
    hold = sum(by[(k, "holdout")] for k in KINDS)
    rows.append(f"{'all':<16}{tune:>7}{hold:>9}{tune + hold:>7}")
    articles = {s: {i["article_id"] for i in items if i["split"] == s and i["article_id"]} for s in SPLITS}
    rows.append(f"{'articles':<16}{len(articles['tune']):>7}{len(articles['holdout']):>9}"
                f"{len(articles['tune'] | articles['holdout']):>7}")
    rows.append("")
    for kind in ("answerable", "topic", "claim"):
        asked = [i for i in items if i["kind"] == kind]
        colloquial = sum(i["style"] == "colloquial" for i in asked)
        rows.append(f"{kind} phrased colloquially: {colloquial}/{len(asked)}"
                    f" ({colloquial / max(len(asked), 1):.0%})")
    qtypes = Counter(i["qtype"] for i in items)
    qtypes.update(i["followup"]["qtype"] for i in items if i["kind"] == "followup")
    rows.append("question kinds (follow-ups included): "
                + ", ".join(f"{q} {qtypes[q]}" for q in (*QTYPES, TOPIC_QTYPE, CLAIM_QTYPE)))
    claims = [i for i in items if i["kind"] == "claim"]
    rows.append("claims: " + ", ".join(f"{label} {n}" for label, n in (
        ("of stories that check them", sum(i["fact_check"] for i in claims)),
        ("of ordinary reports", sum(bool(i["article_id"]) and not i["fact_check"] for i in claims)),
        ("of nothing in the corpus", sum(i["article_id"] is None for i in claims)))))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_file", type=Path, help="the evaluation set, e.g. eval/news_dev.jsonl")
    parser.add_argument("--corpus", type=Path, required=True, help="the JSONL corpus the items were written from")
    args = parser.parse_args(argv)
    rows = read_jsonl(args.corpus)
    corpus = {row["id"]: collapse(row["text"]) for row in rows}
    titles = {row["id"]: row.get("title") or "" for row in rows}
    items = read_jsonl(args.eval_file)
    errors = check(items, corpus, titles)
    if not any(e.endswith("differ from the schema") or "unknown" in e for e in errors):
        print(summary(items))
    for line in errors:
        print(f"ERROR {line}", file=sys.stderr)
    print(f"\n{len(items)} items, {len(errors)} problems", file=sys.stderr if errors else sys.stdout)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
