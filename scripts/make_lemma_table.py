#!/usr/bin/env python
"""Regenerate index/data/lemmas-es.tsv.gz from spaCy's Spanish lemma lookup table.

The table (spacy-lookups-data, MIT licence) maps 491k Spanish word forms to their lemma. The
analyzer only needs the forms whose Snowball stem differs from their lemma's ("niega" ->
"negar": "nieg" vs "neg"); keeping just those, accent-folded, makes a ~1 MB file that loads
in a fraction of a second, where the full table costs the bot ~280 MB and 3 s at start.
A folded form whose accented variants have different lemmas ("esta"/"está") is left out.

    pip install spacy-lookups-data==1.0.5 && python scripts/make_lemma_table.py
"""
from __future__ import annotations

import gzip
import json
import sys
from importlib import metadata, resources
from pathlib import Path

import Stemmer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.lemmas import TABLE  # noqa: E402
from index.lexical import fold  # noqa: E402


def main() -> int:
    raw = json.loads(gzip.decompress((resources.files("spacy_lookups_data") / "data" / "es_lemma_lookup.json.gz").read_bytes()))
    lemma_of: dict[str, str | None] = {}
    for form, lemma in raw.items():
        key, value = fold(form), fold(lemma)
        if " " in key or " " in value or not key.isalpha() or not value.isalpha():
            continue
        lemma_of[key] = value if lemma_of.get(key, value) == value else None  # None: ambiguous
    stemmer = Stemmer.Stemmer("spanish")
    kept = sorted((k, v) for k, v in lemma_of.items()
                  if v is not None and k != v and stemmer.stemWord(k) != stemmer.stemWord(v))
    header = f"# form\tlemma; from spacy-lookups-data=={metadata.version('spacy-lookups-data')} (MIT), scripts/make_lemma_table.py\n"
    body = "".join(f"{k}\t{v}\n" for k, v in kept)
    TABLE.write_bytes(gzip.compress((header + body).encode("utf-8"), mtime=0))
    print(f"{len(raw)} forms read, {len(kept)} kept -> {TABLE} ({TABLE.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
