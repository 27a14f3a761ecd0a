"""How often a corpus's sentences say a date relative to their article's day, how many of those
``index.relative_dates`` reads, and whether its reading agrees with the date the text writes.

    python scripts/check_relative_dates.py --articles ../shared/data/news_es/true_news_unmasked.jsonl \
        [--articles ../shared/data/news_es/true_news.jsonl] [--json var/results/relative-dates.json]

Counts, over the articles (each id once; a folder or JSONL file as the index reads it): sentences
with a relative date, those in articles dated to the day, and those read (dated). Then the check:
where the text writes a weekday's date itself ("el pasado domingo, 13 de diciembre", "este viernes
26 de marzo"), the weekday words alone are read against the article's date and compared with the
day written. A disagreement is either the rule or an article's date that is not its publication
day; both are listed.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.ingest import load_articles
from index.relative_dates import relative_dates
from index.sentences import split_sentences
from index.wording import MONTHS

_WRITTEN = re.compile(r"\b((?:este|el pasado|el pr[oó]ximo) (?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|"
                      r"domingo)),? (\d{1,2})(?: de (" + "|".join(MONTHS) + r"))?\b", re.IGNORECASE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, action="append", required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    articles = {}
    for path in args.articles:
        for article in load_articles(path).articles:
            articles.setdefault(article.id, article)
    counts: Counter[str] = Counter()
    checked: list[dict] = []
    for article in articles.values():
        date = article.date or ""
        counts["articles"] += 1
        counts["articles dated to the day"] += len(date) >= 10
        for sentence in split_sentences(article.text):
            read = relative_dates(sentence.text, "2000-01-06")  # a Thursday: every "este <weekday>" reads
            if not read:
                continue
            counts["sentences with a relative date"] += 1
            counts["of them in articles dated to the day"] += len(date) >= 10
            counts["of them dated (read)"] += bool(relative_dates(sentence.text, date))
        checked += _written(article.id, date, article.text)
    agree = sum(c["agrees"] for c in checked)
    print(f"machine: {platform.machine()}, {platform.python_version()}")
    for key, value in counts.items():
        print(f"{key}: {value}")
    print(f"weekdays whose date the text writes: {len(checked)}, read: {sum(c['read'] != '' for c in checked)}, "
          f"agree: {agree}")
    for c in checked:
        if not c["agrees"]:
            print(f"  {c['article_id']} ({c['article_date']}): «{c['words']}» read {c['read'] or '-'}, "
                  f"written {c['written']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"counts": counts, "written": checked}, ensure_ascii=False, indent=1))
    return 0


def _written(article_id: str, date: str, text: str) -> list[dict]:
    """Each weekday written with its day number, read without it, against the number written."""
    out = []
    for m in _WRITTEN.finditer(text):
        if len(date) < 10:
            continue
        read = relative_dates(m.group(1), date)
        stands_for = read[0].stands_for if read else ""
        day = int(m.group(2))
        month = (m.group(3) or "").lower()
        agrees = bool(stands_for) and stands_for.split()[0] == str(day) and (not month or f" {month} " in stands_for)
        out.append({"article_id": article_id, "article_date": date, "words": m.group(0), "read": stands_for,
                    "written": f"{day}{' de ' + month if month else ''}", "agrees": agrees})
    return out


if __name__ == "__main__":
    sys.exit(main())
