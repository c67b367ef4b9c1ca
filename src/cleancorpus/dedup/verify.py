"""Pass 4: verify candidate pairs on their real shingle sets (Jaccard and containment).

The signature pass already computes every document's shingles; it writes each batch's sorted
shingle sets to a flat file in the work directory (tasks.signature_task). Verification reads the
two sets of a pair back by byte range through a small LRU cache, one block of pairs at a
time, and keeps only the accepted pairs' scores. Memory is bounded by the block and the cache,
whatever the corpus size and however far apart the two documents of a pair are; no second read
of the documents is needed. (Ranged reads rather than a memory map: a mapped file's pages count
as resident memory once touched, and verification touches most of them. When the work directory
is an object-storage prefix (scratch.py), each process reads a local copy of every sets file it
needs, downloaded once: random reads of a few KiB are too many round trips as ranged GETs.)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import scratch
from ..scratch import Location
from .lsh import decode_pairs

_ITEM = np.dtype(np.uint64).itemsize
PAIR_BLOCK = 1 << 16  # pairs decoded and scored at once (a few MiB of temporaries)
CACHE_BYTES = 64 << 20  # shingle sets kept between pairs; a pair's first member repeats in sorted order


@dataclass(frozen=True, slots=True)
class PairScores:
    """Per pair: Jaccard |A∩B|/|A∪B|, containment |A∩B|/min(|A|,|B|), and min(|A|,|B|)."""

    jaccard: np.ndarray
    containment: np.ndarray
    smaller: np.ndarray

    @staticmethod
    def concat(parts: Sequence["PairScores"]) -> "PairScores":
        if not parts:
            return PairScores(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
        return PairScores(np.concatenate([p.jaccard for p in parts]), np.concatenate([p.containment for p in parts]),
                          np.concatenate([p.smaller for p in parts]))

    def take(self, mask: np.ndarray) -> "PairScores":
        return PairScores(self.jaccard[mask], self.containment[mask], self.smaller[mask])


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """|A∩B| of two sorted sets: a binary search of the smaller in the larger (no merge sort)."""
    if a.size > b.size:
        a, b = b, a
    pos = np.searchsorted(b, a)
    pos[pos == b.size] = 0
    return int(np.count_nonzero(b[pos] == a))


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """(Jaccard, containment in the smaller set, size of the smaller set) of two sorted sets."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0, 0
    inter = overlap(a, b)
    return inter / (a.size + b.size - inter), inter / min(a.size, b.size), min(a.size, b.size)


class ShingleStore:
    """Random access to the sorted shingle sets the signature pass wrote, one file per batch.

    ``offsets[k]`` holds batch k's set boundaries (in items, size = documents + 1); documents are
    numbered across batches in order. The files must be readable here: with workers on other
    machines the work directory has to be shared (a shared filesystem or an ``s3://`` prefix).
    """

    def __init__(self, files: Sequence[Location], offsets: Sequence[np.ndarray], cache_bytes: int = CACHE_BYTES) -> None:
        counts = np.array([o.size - 1 for o in offsets], dtype=np.int64)
        self.files = list(files)
        self.batch = np.repeat(np.arange(len(offsets), dtype=np.int32), counts)
        self.start = np.concatenate([o[:-1] for o in offsets]) if offsets else np.zeros(0, np.int64)
        self.stop = np.concatenate([o[1:] for o in offsets]) if offsets else np.zeros(0, np.int64)
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.cache_bytes, self.cached = cache_bytes, 0
        self.handles: dict[int, Any] = {}  # open local files, by batch

    def __len__(self) -> int:
        return self.start.size

    def get(self, idx: int) -> np.ndarray:
        hit = self.cache.get(idx)
        if hit is not None:
            self.cache.move_to_end(idx)
            return hit
        s = self._read(idx)
        self.cache[idx] = s
        self.cached += s.nbytes
        while self.cached > self.cache_bytes and len(self.cache) > 1:
            self.cached -= self.cache.popitem(last=False)[1].nbytes
        return s

    def _read(self, idx: int) -> np.ndarray:
        k = int(self.batch[idx])
        start, stop = int(self.start[idx]) * _ITEM, int(self.stop[idx]) * _ITEM
        fh = self.handles.get(k)
        if fh is None:  # one open file per batch (a local copy of a remote one), read like os.pread
            fh = self.handles[k] = open(scratch.local_copy(self.files[k]), "rb", buffering=0)
        fh.seek(start)
        data = fh.read(stop - start)
        if len(data) != stop - start:
            raise OSError(f"{self.files[k]}: shingle file shorter than its offsets (truncated?)")
        return np.frombuffer(data, dtype=np.uint64)

    def close(self) -> None:
        for fh in self.handles.values():
            fh.close()
        self.handles.clear()
        self.cache.clear()
        self.cached = 0

    def __enter__(self) -> "ShingleStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def score_pairs(store: ShingleStore, pairs: np.ndarray) -> PairScores:
    """Scores of ``pairs`` ((m, 2) document indices); best in sorted order, for the cache."""
    rows = [similarity(store.get(i), store.get(j)) for i, j in pairs.tolist()]
    if not rows:
        return PairScores.concat([])
    jac, con, small = zip(*rows)
    return PairScores(np.array(jac), np.array(con), np.array(small, dtype=np.int64))


def verify_codes(
    store: ShingleStore, codes: np.ndarray, accept: Callable[[PairScores], np.ndarray] | None, block: int = PAIR_BLOCK
) -> tuple[np.ndarray, PairScores]:
    """The accepted pairs among ``codes`` (sorted pair codes, see lsh.encode_pairs) and their
    scores (``accept`` None: every pair). Pairs are decoded and scored one block at a time;
    rejected ones are not kept."""
    n = len(store)
    kept: list[np.ndarray] = []
    scores: list[PairScores] = []
    for lo in range(0, codes.size, block):
        part = codes[lo : lo + block]
        s = score_pairs(store, decode_pairs(part, n))
        ok = accept(s) if accept is not None else np.ones(part.size, dtype=bool)
        kept.append(part[ok])
        scores.append(s.take(ok))
    return (np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)), PairScores.concat(scores)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a verified pair counts as a duplicate (see config.DedupConfig)."""

    jaccard: float
    containment: float
    containment_min_shingles: int

    def __call__(self, s: PairScores) -> np.ndarray:
        return (s.jaccard >= self.jaccard) | (
            (s.containment >= self.containment) & (s.smaller >= self.containment_min_shingles)
        )


@dataclass(frozen=True, slots=True)
class VerifyJob:
    """One slice of the sorted candidate codes, verified against the shingle files (which the
    worker must be able to read: a shared filesystem or object storage for workers on other
    machines)."""

    files: tuple[Location, ...]
    offsets: tuple[np.ndarray, ...]
    codes: np.ndarray
    accept: Thresholds | None  # None: every pair's scores (to be remembered: dedup/index.py)


def verify_task(job: VerifyJob) -> tuple[np.ndarray, PairScores]:
    """Accepted codes of the slice and their scores (a top-level function, for any map_fn)."""
    with ShingleStore(job.files, job.offsets) as store:
        return verify_codes(store, job.codes, job.accept)


def scores_from_overlaps(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> PairScores:
    """What ``similarity`` gives for pairs of sorted sets of these sizes and overlaps (the same
    expressions, on Python ints: the same floats)."""
    i, a, b = (np.asarray(x, dtype=np.int64) for x in (inter, size_a, size_b))
    if not i.size:
        return PairScores.concat([])
    if max(int(a.max()), int(b.max())) >= 1 << 52:  # beyond exact float64 integers: Python's division
        rows = [(0.0, 0.0, 0) if x == 0 or y == 0 else (k / (x + y - k), k / min(x, y), min(x, y))
                for k, x, y in zip(i.tolist(), a.tolist(), b.tolist())]
        jac, con, small = zip(*rows)
        return PairScores(np.array(jac), np.array(con), np.array(small, dtype=np.int64))
    # int / int in Python is the correctly rounded quotient; so is float64 division of two
    # integers float64 holds exactly: the same floats, a pair at a time or all at once
    empty = (a == 0) | (b == 0)
    small = np.where(empty, 0, np.minimum(a, b))
    union = np.where(empty, 1, a + b - i)
    jac = np.where(empty, 0.0, i.astype(np.float64) / union.astype(np.float64))
    con = np.where(empty, 0.0, i.astype(np.float64) / np.maximum(small, 1).astype(np.float64))
    return PairScores(jac, con, small.astype(np.int64))


def overlaps_of(scores: PairScores) -> np.ndarray:
    """|A∩B| of scored pairs: containment x smaller, exactly (an integer ratio's product)."""
    return np.rint(scores.containment * scores.smaller).astype(np.int64)
