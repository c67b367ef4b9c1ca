"""Compact, mergeable counts of 64-bit keys (digests), for corpus statistics.

A Python ``Counter`` spends about 100 bytes on each distinct key; these sorted numpy arrays
spend 12 (an 8-byte key and a 4-byte count), so a corpus fit that must remember every distinct
line holds ten times more before it runs out of memory. Merging is exact and
order-independent (sorted keys, summed counts), so statistics counted per shard add up to the
statistics of the whole stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

# keys buffered as Python ints before they are folded into the arrays: bounds the buffer
BUFFER_KEYS = 1 << 18


@dataclass
class KeyCounts:
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))  # sorted, unique
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))

    @classmethod
    def of(cls, keys: Iterable[int]) -> "KeyCounts":
        arr = np.fromiter(keys, dtype=np.uint64)
        uniq, counts = np.unique(arr, return_counts=True)
        return cls(uniq, counts.astype(np.uint32))

    @classmethod
    def merged(cls, parts: Sequence["KeyCounts"]) -> "KeyCounts":
        parts = [p for p in parts if len(p.keys)]
        if not parts:
            return cls()
        if len(parts) == 1:
            return cls(parts[0].keys.copy(), parts[0].counts.copy())
        keys = np.concatenate([p.keys for p in parts])
        counts = np.concatenate([p.counts for p in parts]).astype(np.uint64)
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        total = np.add.reduceat(counts, starts)
        if total.size and int(total.max()) > np.iinfo(np.uint32).max:
            raise OverflowError("a key was counted more than 2**32 times")
        return cls(keys[starts], total.astype(np.uint32))

    def at_least(self, n: int) -> np.ndarray:
        return self.keys[self.counts >= n]

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.counts.nbytes)


class KeyCounter:
    """Accumulates keys into a KeyCounts, folding a bounded buffer in as it fills."""

    def __init__(self) -> None:
        self.total = KeyCounts()
        self._buffer: list[int] = []

    def update(self, keys: Iterable[int]) -> None:
        self._buffer.extend(keys)
        if len(self._buffer) >= BUFFER_KEYS:
            self._fold()

    def result(self) -> KeyCounts:
        self._fold()
        return self.total

    def _fold(self) -> None:
        if self._buffer:
            self.total = KeyCounts.merged([self.total, KeyCounts.of(self._buffer)])
            self._buffer = []
