"""Spanish lexical analysis (folding, aliases, stopwords, stemming) and the BM25 index.

Folding before stemming keeps questions typed without accents ("acusacion") on the same
stem as the article's "acusación". Aliases are rewritten to one canonical token on both
sides, so "EE. UU." in a question meets "estadounidenses" in an article.
"""
from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_SPANISH

BUNDLED_ALIASES = Path(__file__).parent / "data" / "aliases.tsv"
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase and strip accents (ñ becomes n), so typing without accents still matches."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded word tokens; one-letter words are kept (bm25s' default tokenizer drops them)."""
    return _WORD.findall(fold(text))


def parse_aliases(text: str) -> dict[tuple[str, ...], str]:
    """Parse the alias TSV into {folded word sequence: canonical token}."""
    table: dict[tuple[str, ...], str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "\t" not in line:
            continue
        canonical, variants = line.split("\t", 1)
        token = "_".join(words(canonical))
        for variant in variants.split("|"):
            key = tuple(words(variant))
            if key:
                table[key] = token
    return table


def read_alias_text(extra: Path | None = None) -> str:
    """The bundled table plus the operator's own file (later lines win)."""
    text = BUNDLED_ALIASES.read_text(encoding="utf-8")
    if extra is not None:
        text += "\n" + Path(extra).read_text(encoding="utf-8")
    return text


# bm25s' Spanish list holds "fue", "estuvo", "habia" and "donde", but not the lemmas the lemma
# table maps other forms of them to ("iba" -> "ir", "sido" -> "ser"), nor "cuánto": "¿Dónde iba
# a ser?" had the terms "ir" and "ser" and read as a question naming its subject.
EXTRA_STOPWORDS = frozenset("ser ir haber cuanto cuanta cuantos cuantas cuales".split())


class Analyzer:
    """Text -> BM25 terms. Thread-safe: each thread gets its own Snowball stemmer."""

    def __init__(self, alias_text: str, lemmas: Mapping[str, str] | None = None, alias_parts: bool = False) -> None:
        """``lemmas`` (folded form -> folded lemma, see lemmas.py) is applied before stemming;
        None keeps the analysis of indexes built without it. ``alias_parts``: see document_terms
        (False keeps the analysis of indexes built before it)."""
        self.alias_text = alias_text
        self.lemmas = lemmas or {}
        self.alias_parts = alias_parts
        self.aliases = parse_aliases(alias_text)
        self._canonical = set(self.aliases.values())
        self._max_alias = max((len(k) for k in self.aliases), default=1)
        self.stopwords = frozenset(fold(w) for w in STOPWORDS_SPANISH) | EXTRA_STOPWORDS
        self._local = threading.local()

    @property
    def fingerprint(self) -> str:
        """Identifies the analysis, so an index records which one built it."""
        return hashlib.sha256(self.alias_text.encode("utf-8")).hexdigest()[:16]

    def _stemmer(self) -> Stemmer.Stemmer:
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = self._local.stemmer = Stemmer.Stemmer("spanish")
        return stemmer

    def _apply_aliases(self, tokens: list[str], parts: bool = False) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self._max_alias, len(tokens) - i), 0, -1):
                canonical = self.aliases.get(tuple(tokens[i : i + size]))
                if canonical:
                    out.append(canonical)
                    if parts and size > 1:  # "corea", "norte" of "Corea del Norte"; not "ee", "uu"
                        out.extend(t for t in tokens[i : i + size] if len(t) > 2)
                    i += size
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def terms(self, text: str) -> list[str]:
        """Folded, alias-rewritten, stopword-free, stemmed terms of a question."""
        return self._analyse(text, parts=False)

    def document_terms(self, text: str) -> list[str]:
        """The terms of article text: as a question's, plus the words of a multi-word alias
        beside its canonical token, so "putin corea" meets "Corea del Norte". A question keeps
        the canonical token alone, so "Corea del Norte" still meets "norcoreanos" fully."""
        return self._analyse(text, parts=self.alias_parts)

    def _analyse(self, text: str, parts: bool) -> list[str]:
        tokens = self._apply_aliases(words(text), parts)
        kept = [t for t in tokens if t not in self.stopwords]
        if self.lemmas:  # "sido" -> "ser" is a stopword too, hence the second filter
            kept = [t if t in self._canonical else self.lemmas.get(t, t) for t in kept]
            kept = [t for t in kept if t not in self.stopwords]
        stemmer = self._stemmer()
        return [t if t in self._canonical else stemmer.stemWord(t) for t in kept]


class Bm25Index:
    """bm25s over pre-analysed terms; saved as plain numpy/JSON files (no pickle)."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self._bm25 = retriever
        indptr = retriever.scores["indptr"]
        self._df = np.diff(np.asarray(indptr))
        self.num_docs = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, corpus_terms: Sequence[list[str]]) -> "Bm25Index":
        retriever = bm25s.BM25(method="lucene")
        # An empty document must still occupy its row so rows stay aligned with FAISS ids.
        retriever.index([terms or [""] for terms in corpus_terms], show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> "Bm25Index":
        return cls(bm25s.BM25.load(str(directory), mmap=mmap, allow_pickle=False))

    def scores(self, terms: Iterable[str]) -> np.ndarray:
        """BM25 score of every document; all zeros when no term is known."""
        ids = self._bm25.get_tokens_ids([t for t in terms if t])
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        return self._bm25.get_scores_from_ids(ids)

    def idf(self, terms: Iterable[str], unknown_factor: float = 1.0) -> dict[str, float]:
        """Inverse document frequency of each term; a term no article uses gets the rarest
        weight times ``unknown_factor`` (above 1 when its absence should weigh more)."""
        vocab = self._bm25.vocab_dict
        n = max(self.num_docs, 1)
        out = {}
        for term in terms:
            df = int(self._df[vocab[term]]) if term in vocab else 0
            weight = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
            out[term] = weight if term in vocab else weight * unknown_factor
        return out
