"""Near-duplicate articles: the same story in several copies is grouped into one story.

Two articles are one story when the Jaccard similarity of their sets of word shingles (runs
of ``SHINGLE_WORDS`` words of the normalised text) reaches ``Settings.duplicate_threshold``.
Candidates come from MinHash LSH (datasketch), so a build never compares all pairs; each
candidate pair is then checked with its exact Jaccard (cheap for one pair), and grouping is
transitive (union-find): A~B and B~C put A, B and C in one story.

Why shingles of normalised words: a wire copy in another outlet differs in its header,
footer and spelling of numbers ("24" or "*NUMBER*" in the masked corpus), not in its running
text; folding case, accents and every number to one token leaves only that running text.

Inside a story, members from one outlet (same source or host) or with the same title whose
texts are nearly the same (Jaccard at least ``SUPERSEDE_JACCARD``) are versions of one
article: only the newest is indexed, the older are *superseded*. Why the stricter bar: a
superseded text is not searched at all, so an older text with much of its own (two
paragraphs of one page sharing half their sentences) must stay. Members from other outlets,
and same-outlet members below the bar, all stay and name each other ("También en …"). The
story's id is its representative's article id: the newest member kept.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator, Sequence
from urllib.parse import urlsplit

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.hashfunc import sha1_hash32

from .records import AlsoIn, Article

SHINGLE_WORDS = 5  # words per shingle: long enough that common phrases rarely match by chance
NUM_PERM = 128  # MinHash permutations: a Jaccard estimate within about ±0.04 near 0.5
SEED = 1
SCHEME = "affine32"  # datasketch's permutation scheme (the default) the signatures are made with
SKETCH_VERSION = 1  # bump when words(), the shingles or the signature change: kept sketches then miss
# Versions of one article superseded only above this: the corpus' versions are at 0.90 and 0.98
# (eval/duplicate_pairs.jsonl), two distinct paragraphs of one SQuAD-es page sharing half their
# sentences at 0.69 (and both must stay searchable).
SUPERSEDE_JACCARD = 0.8
MAX_ALSO_IN = 3  # outlets named in "También en": a source line, not a list
# LSH tuned to miss few pairs (false positives are cheap: each candidate is checked exactly):
# at 0.55, 32 bands of 4: a pair at the threshold is a candidate with p = 0.95, 0.05 above it 0.99.
LSH_WEIGHTS = (0.05, 0.95)

_NUMBER = re.compile(r"\*number\*|\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+")
_NUMBER_RUN = re.compile(r"\b0(?:\W+0)*\b")  # "3:40", "1 200" or "*NUMBER*:*NUMBER*": one number


def _fold(text: str) -> str:
    """Casefolded, accents removed: "Árbol" and "arbol" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The text's words, folded, with every number (or the corpus' ``*NUMBER*`` mask) as one "0"."""
    return _WORD.findall(_NUMBER_RUN.sub("0", _NUMBER.sub(" 0 ", _fold(text))))


def shingle_hashes(text: str, size: int = SHINGLE_WORDS) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the text's word shingles (one shingle if it is shorter)."""
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    grams = {" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}
    return np.unique(np.fromiter((sha1_hash32(g.encode("utf-8")) for g in grams), dtype=np.uint32))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted sets of distinct hashes."""
    if not len(a) and not len(b):
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def _identity(value: int) -> int:
    """The shingles arrive already hashed (their hashes also give the exact Jaccard)."""
    return value


def minhashes(hashes: Sequence[np.ndarray]) -> list[MinHash]:
    """One MinHash per article, from its shingle hashes."""
    return list(MinHash.generator(hashes, num_perm=NUM_PERM, seed=SEED, hashfunc=_identity))


@dataclass(frozen=True)
class Sketch:
    """All that grouping needs of one text, so that it can be kept (``index.sketch_cache``) and
    the text not hashed again: the shingle hashes give a candidate pair's exact Jaccard, the
    MinHash signature the LSH candidates."""

    shingles: np.ndarray  # sorted distinct uint32 shingle hashes
    signature: np.ndarray  # NUM_PERM MinHash values (datasketch's SCHEME, uint32)


def sketch_texts(texts: Sequence[str]) -> list[Sketch]:
    """The sketch of each text: nearly all of grouping's cost (hashing every shingle in Python)."""
    hashes = [shingle_hashes(t) for t in texts]
    return [Sketch(h, m.hashvalues) for h, m in zip(hashes, minhashes(hashes))]


class _UnionFind:
    """Disjoint sets over 0..n-1; what makes the grouping transitive."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _all_one(n: int) -> list[int]:
    """Threshold 0: everything is one story (LSH cannot be tuned for 0)."""
    return [0] * n


def group_sketches(sketches: Sequence[Sketch], threshold: float) -> list[int]:
    """A group number per sketch (the smallest index in its group): texts whose shingle Jaccard
    reaches ``threshold``, found by MinHash LSH and checked exactly, grouped transitively.

    The groups are the connected parts of the graph of candidate pairs (sharing an LSH band)
    whose exact Jaccard reaches the threshold; a pair already in one group needs no check."""
    if threshold <= 0.0:
        return _all_one(len(sketches))
    sets = _UnionFind(len(sketches))
    if sketches:
        signatures = np.stack([s.signature for s in sketches])
        for bucket in _buckets(signatures, threshold):
            _join(bucket, sketches, sets, threshold)
    return [sets.find(i) for i in range(len(sketches))]


def _buckets(signatures: np.ndarray, threshold: float) -> Iterator[list[int]]:
    """The LSH buckets of more than one text: per band of ``rows`` signature values, the texts
    whose values in it are equal. The banding is datasketch's ``MinHashLSH`` optimum for the
    threshold and ``LSH_WEIGHTS``; the bands are grouped with numpy, at once for all texts,
    rather than by querying each signature in Python."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=LSH_WEIGHTS)
    for band in range(lsh.b):
        part = signatures[:, band * lsh.r : (band + 1) * lsh.r]
        _, inverse, counts = np.unique(part, axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        shared = np.flatnonzero(counts[inverse] > 1)
        if not len(shared):
            continue
        shared = shared[np.argsort(inverse[shared], kind="stable")]
        cuts = np.flatnonzero(np.diff(inverse[shared])) + 1
        for bucket in np.split(shared, cuts):
            yield bucket.tolist()


def _join(bucket: list[int], sketches: Sequence[Sketch], sets: _UnionFind, threshold: float) -> None:
    """Join the groups met in one bucket wherever one of their cross pairs is a copy: each two
    groups are checked pair by pair until one reaches the threshold (or none does)."""
    groups: dict[int, list[int]] = {}
    for i in bucket:
        groups.setdefault(sets.find(i), []).append(i)
    if len(groups) < 2:
        return
    members = list(groups.values())
    for x, first in enumerate(members):
        for second in members[x + 1 :]:
            if sets.find(first[0]) != sets.find(second[0]) and any(
                    jaccard(sketches[i].shingles, sketches[j].shingles) >= threshold
                    for i in first for j in second):
                sets.union(first[0], second[0])


def group_texts(texts: Sequence[str], threshold: float) -> list[int]:
    """``group_sketches`` of the texts, sketched here (a build passes kept sketches instead)."""
    return _all_one(len(texts)) if threshold <= 0.0 else group_sketches(sketch_texts(texts), threshold)


# --------------------------------------------------------------------------- stories and versions


def host(url: str | None) -> str | None:
    """The URL's host without "www.", or None."""
    if not url:
        return None
    try:
        name = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return name.removeprefix("www.") if name else None


def outlet_name(source: str | None, url: str | None) -> str | None:
    """How an outlet is named to the reader: its source, else its URL's host."""
    return (source or "").strip() or host(url)


def same_version(a: Article, b: Article) -> bool:
    """Same outlet (source or host) or same title: two versions of one article, not two outlets."""
    if a.source and b.source and _fold(a.source).strip() == _fold(b.source).strip():
        return True
    if host(a.url) and host(a.url) == host(b.url):
        return True
    return bool(a.title) and " ".join(words(a.title)) == " ".join(words(b.title))


@dataclass(frozen=True)
class Stories:
    """The build's grouping: each indexed article's story and the versions it superseded."""

    story: dict[str, str]  # indexed article id -> story id (the representative's article id)
    superseded: dict[str, str]  # older version's id -> id of the newer version indexed instead

    def members(self) -> dict[str, list[str]]:
        """Story id -> its indexed articles, only for stories of several."""
        out: dict[str, list[str]] = {}
        for aid, story in self.story.items():
            out.setdefault(story, []).append(aid)
        return {s: m for s, m in out.items() if len(m) > 1}


def _newest_first(members: list[int], articles: Sequence[Article]) -> list[int]:
    """Newest first: by date (an undated article counts as oldest), then the later in build
    order (the later file, or the later line of one file)."""
    return sorted(members, key=lambda i: (articles[i].date or "", i), reverse=True)


def _versions(members: list[int], articles: Sequence[Article],
              sketches: Sequence[Sketch]) -> tuple[list[int], dict[int, int]]:
    """The members kept (newest first) and, for each superseded member, the member kept instead."""
    kept: list[int] = []
    superseded: dict[int, int] = {}

    def version(a: int, b: int) -> bool:
        return same_version(articles[a], articles[b]) and \
            jaccard(sketches[a].shingles, sketches[b].shingles) >= SUPERSEDE_JACCARD

    for i in _newest_first(members, articles):
        newer = next((k for k in kept if version(k, i)), None)
        if newer is None:
            newer = next((superseded_by for old, superseded_by in superseded.items() if version(old, i)), None)
        if newer is None:
            kept.append(i)
        else:
            superseded[i] = newer
    return kept, superseded


def find_stories(articles: Sequence[Article], threshold: float,
                 sketches: Sequence[Sketch] | None = None) -> Stories:
    """Group the build's articles into stories and pick the version of each article to index.
    ``sketches``: the sketches of the articles' texts, in order, when the build kept them."""
    sketches = sketch_texts([a.text for a in articles]) if sketches is None else sketches
    roots = group_sketches(sketches, threshold)
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        groups.setdefault(root, []).append(i)
    story: dict[str, str] = {}
    superseded: dict[str, str] = {}
    for members in groups.values():
        kept, older = _versions(members, articles, sketches)
        for i in kept:
            story[articles[i].id] = articles[kept[0]].id
        superseded.update({articles[i].id: articles[k].id for i, k in older.items()})
    return Stories(story, superseded)


def also_in_of(rows: Sequence[tuple[str, str, str | None, str | None]]) -> dict[str, tuple[AlsoIn, ...]]:
    """For each article of a story of several, the story's other outlets: named once, never the
    article's own, at most ``MAX_ALSO_IN``. ``rows`` are (id, story, source, url) of those
    articles, each story's representative first (how both stores read them)."""
    stories: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for aid, story, source, url in rows:
        stories.setdefault(story, []).append((aid, outlet_name(source, url), url))
    out: dict[str, tuple[AlsoIn, ...]] = {}
    for members in stories.values():
        for aid, own, _ in members:
            named: dict[str, AlsoIn] = {}
            for other, name, url in members:
                if other != aid and name and name != own and name not in named:
                    named[name] = AlsoIn(name, url)
            out[aid] = tuple(named.values())[:MAX_ALSO_IN]
    return out
