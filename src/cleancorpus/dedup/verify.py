"""Pass 4: verify candidate pairs on their real shingle sets (Jaccard and containment).

The documents are streamed once more in index order; a document's shingle set is kept only
until its last partner has gone by, so memory follows the candidates, not the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .exact import normalize_for_hash
from .shingles import shingle_set


_MAX_CACHED_WORDS = 500_000


@dataclass(frozen=True, slots=True)
class PairScores:
    """Per pair: Jaccard |A∩B|/|A∪B|, containment |A∩B|/min(|A|,|B|), and min(|A|,|B|)."""

    jaccard: np.ndarray
    containment: np.ndarray
    smaller: np.ndarray


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


def verify_pairs(stream: Iterable[tuple[int, str]], pairs: np.ndarray, shingle_size: int) -> PairScores:
    """Score ``pairs`` ((m, 2) int64, i < j) on the texts of ``stream`` ((index, text), ascending)."""
    m = len(pairs)
    jac, con, small = np.zeros(m), np.zeros(m), np.zeros(m, dtype=np.int64)
    if m == 0:
        return PairScores(jac, con, small)
    by_second = np.lexsort((pairs[:, 0], pairs[:, 1]))
    seconds = pairs[by_second, 1]
    last_use: dict[int, int] = {}
    for i, j in pairs.tolist():
        last_use[i] = max(last_use.get(i, -1), j)
    needed = set(last_use) | set(seconds.tolist())
    kept: dict[int, np.ndarray] = {}
    expires: dict[int, list[int]] = {}
    words: dict[str, int] = {}
    for idx, text in stream:
        if idx not in needed:
            continue
        if len(words) > _MAX_CACHED_WORDS:  # bounded: a corpus vocabulary can be huge
            words.clear()
        s = shingle_set(normalize_for_hash(text), shingle_size, words)
        lo, hi = np.searchsorted(seconds, [idx, idx + 1])
        for p in by_second[lo:hi].tolist():
            jac[p], con[p], small[p] = similarity(kept[int(pairs[p, 0])], s)
        for gone in expires.pop(idx, ()):
            del kept[gone]
        if last_use.get(idx, -1) > idx:
            kept[idx] = s
            expires.setdefault(last_use[idx], []).append(idx)
    return PairScores(jac, con, small)
