"""The dense vector index: exact search up to a size threshold, IVF-Flat above it.

The encoder returns L2-normalised vectors, so the inner product of two of them *is* their
cosine similarity: every index here uses ``METRIC_INNER_PRODUCT`` (and ``retrieve`` fuses the
scores as cosines).

Why IVF-Flat and not HNSW above the threshold (scripts/bench_scale.py --sweep, 2 shared cores,
one FAISS thread, top-100 as ``retrieve`` asks, 200 real MiniLM question vectors against replicated
news chunk vectors; recall@10 against exact search):

=========  ===========  ======================================  =====================================
chunks     exact p50    IVF-Flat nprobe 64: build, p50, R@10    HNSW M 32 efC 80 ef 256: build, p50, R@10
=========  ===========  ======================================  =====================================
100,000    6.7 ms       14 s, 0.43 ms, 0.993                    13 s, 0.37 ms, 0.882
200,000    10.6 ms      27 s, 0.65 ms, 0.994                    28 s, 0.37 ms, 0.723
500,000    34 ms        66 s, 1.00 ms, 0.995                    40 s, 0.56 ms, 0.504
1,000,000  64 ms        57 s, 1.38 ms, 1.000                    95 s, 0.60 ms, 0.375
=========  ===========  ======================================  =====================================

HNSW is as fast but its recall collapses on this corpus, which is made of many near-duplicate
chunks (the perturbed copies; whether it would on distinct articles was not measured), while
IVF's lists keep near-duplicates together. The threshold between exact and IVF is
``settings.flat_index_max`` (where exact search passes ~10 ms p50).

HNSW's graph also costs ~260 MB more RAM at 1M (64 level-0 links per vector) while IVF-Flat
adds only its ids and the direct map (16 bytes per vector). Both store the full vectors, so
``reconstruct(row)`` -- which ``search.retrieve`` needs for rows found only by BM25 -- returns
the exact stored vector; IVF needs ``make_direct_map()`` for that, which is built here and
saved with the index by ``faiss.write_index``.

Threads: the build uses every core (``omp_set_num_threads(os.cpu_count())`` around the
training and adding, restored afterwards); queries use one FAISS thread each, set by
``Engine`` (``faiss.omp_set_num_threads(settings.threads)``).
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from typing import Iterator

import faiss
import numpy as np

FLAT = "flat_ip"
IVF = "ivf_flat_ip"
HNSW = "hnsw_flat_ip"  # written by earlier versions above the threshold; still served

IVF_LISTS_PER_SQRT_N = 4  # nlist = 4 * sqrt(n): ~1,000 lists at 60k, 4,000 at 1M
IVF_TRAIN_PER_LIST = 64  # k-means training points per list (faiss warns below 39, samples above 256)
IVF_SEED = 1234  # training sample and k-means initialisation, so a rebuild gives the same index
DEFAULT_EF_SEARCH = 128  # for HNSW indexes whose manifest does not record efSearch


@contextmanager
def _all_cores() -> Iterator[None]:
    """Build with every core, then give back the caller's FAISS thread count (one per query)."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def ivf_lists(n: int) -> int:
    return max(1, min(n, int(round(IVF_LISTS_PER_SQRT_N * math.sqrt(n)))))


def make_vector_index(vectors: np.ndarray, settings) -> tuple[faiss.Index, dict]:
    """The FAISS index over ``vectors`` (normalised, row i = chunk row i) and its manifest info.

    Exact ``IndexFlatIP`` up to ``settings.flat_index_max`` vectors, ``IndexIVFFlat`` (inner
    product, with a direct map for ``reconstruct``) above it. The info dict goes into
    manifest["faiss"] and is what ``tune_for_search`` reads back at load.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # no copy when already float32
    n, dim = vectors.shape
    with _all_cores():
        if n <= settings.flat_index_max:
            index = faiss.IndexFlatIP(dim)
            index.add(vectors)
            return index, {"type": FLAT, "metric": "inner_product"}
        nlist = ivf_lists(n)
        train_points = min(n, IVF_TRAIN_PER_LIST * nlist)
        rows = np.sort(np.random.default_rng(IVF_SEED).choice(n, train_points, replace=False))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = IVF_SEED
        index.train(vectors[rows])
        del rows
        index.add(vectors)
        index.make_direct_map()  # reconstruct(row) for rows found only by BM25
    nprobe = min(nlist, int(settings.ivf_nprobe))
    info = {"type": IVF, "metric": "inner_product", "nlist": nlist, "nprobe": nprobe,
            "train_points": train_points, "seed": IVF_SEED}
    tune_for_search(index, info)
    return index, info


def tune_for_search(index: faiss.Index, info: dict) -> None:
    """Set the search-time parameters recorded in the manifest (nprobe, efSearch) on a loaded index.

    A flat index has none. An IVF index read without its direct map gets one, so that
    ``reconstruct`` keeps working.
    """
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = int(info.get("nprobe", ivf.nprobe))
        if ivf.direct_map.type == faiss.DirectMap.NoMap:
            ivf.make_direct_map()
    elif hasattr(index, "hnsw"):
        index.hnsw.efSearch = int(info.get("ef_search", DEFAULT_EF_SEARCH))
