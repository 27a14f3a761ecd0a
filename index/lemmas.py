"""Spanish word form -> lemma for the analyzer (index/data/lemmas-es.tsv.gz).

Snowball stems regular endings but not irregular verbs: "niega" and "negado" stem to "nieg"
and "neg", "murió" and "morir" to "muri" and "mor", so a question asked with one form misses a
sentence written with the other. Mapping such words to their lemma before stemming joins them
(measured on the SQuAD-es development sets, docs/evaluation.md). The table is derived from spaCy's lookup
table by scripts/make_lemma_table.py and holds only the forms where the lemma changes the stem;
keys and lemmas are accent-folded like every term, since questions are often typed without accents.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "lemmas-es.tsv.gz"


@lru_cache(maxsize=1)
def spanish_lemmas() -> dict[str, str]:
    """Read once per process: every index the bot opens or reloads shares the (immutable) table."""
    lines = gzip.decompress(TABLE.read_bytes()).decode("utf-8").splitlines()
    return dict(line.split("\t", 1) for line in lines if line and not line.startswith("#"))


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Which table analysed an index, recorded in its manifest."""
    return hashlib.sha256(TABLE.read_bytes()).hexdigest()[:16]
