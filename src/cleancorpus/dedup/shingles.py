"""Word shingles as 64-bit hashes, identical in every process (no use of Python's salted hash)."""

from __future__ import annotations

import hashlib

import numpy as np

# distinct odd multipliers make the shingle hash depend on word order
_POSITION = np.array(
    [((0x9E3779B97F4A7C15 ^ (k * 0xD6E8FEB86659FD93)) & 0xFFFFFFFFFFFFFFFF) | 1 for k in range(64)],
    dtype=np.uint64,
)


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads the combined word hashes over all 64 bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def word_hashes(words: list[str], cache: dict[str, int] | None = None) -> np.ndarray:
    """``cache`` (word -> hash) lets a batch hash each distinct word once."""
    cache = {} if cache is None else cache
    for w in set(words).difference(cache):
        cache[w] = _word_hash(w)
    return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


def shingle_hashes(normalized: str, size: int, cache: dict[str, int] | None = None) -> np.ndarray:
    """Hashes of the word ``size``-grams of a normalized text (with repeats, unsorted).

    A text shorter than ``size`` words is one shingle of all its words; an empty text has none.
    """
    if size > len(_POSITION):
        raise ValueError(f"shingle size {size} is over the supported {len(_POSITION)}")
    wh = word_hashes(normalized.split(), cache)
    if wh.size == 0:
        return wh
    n = min(size, wh.size)
    with np.errstate(over="ignore"):
        acc = np.zeros(wh.size - n + 1, dtype=np.uint64)
        for k in range(n):
            acc += wh[k : wh.size - n + 1 + k] * _POSITION[k]
        return _mix(acc)


def shingle_set(normalized: str, size: int, cache: dict[str, int] | None = None) -> np.ndarray:
    """The distinct shingle hashes, sorted: what Jaccard and containment are measured on."""
    return np.unique(shingle_hashes(normalized, size, cache))
