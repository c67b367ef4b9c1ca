"""Exact arithmetic on corpus statistics, so that a run updates the stored total of a corpus
stage's statistics by the groups of files that changed instead of merging every group again.

The statistics of the corpus stages are integer counts (and, for spun, one sketch per document):
adding a group's statistics to a total and taking them out again are exact, so the total kept
from the previous run, less the groups that changed or left, plus the groups that are new, is
the statistics a merge of every group gives (``merge_stats``), as a value. Two things a merge
fixes that arithmetic might not, and how they are kept:

- the order of a Counter's keys: nothing the stages do with their fitted counts depends on it
  (lookups and integer sums only);
- the order of spun's sketches, sorted by document id with ties in group order: after an
  update they are sorted again, and a total holding two sketches of one id is declared not
  exact (``exact``): the run then merges every group (incremental.merged_total's fallback).

A statistics type this module does not know has no arithmetic: its stage always merges.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np


def supported(stats: Any) -> bool:
    return type(stats).__name__ in _OPS


def update(total: Any, minus: list[Any], plus: list[Any]) -> Any:
    """``total`` without the ``minus`` parts' documents (which it holds) and with the ``plus``
    parts' (may change ``total`` in place): one pass over spun's sketches, not one per part."""
    name = type(total).__name__
    if name == "SpunStats":
        return _update_spun(total, minus, plus)
    for part in minus:
        total = subtract(total, part)
    for part in plus:
        total = add(total, part)
    return total


def add(total: Any, part: Any) -> Any:
    """``total`` with ``part``'s documents added (may change ``total`` in place)."""
    return _OPS[type(total).__name__][0](total, part)


def subtract(total: Any, part: Any) -> Any:
    """``total`` without ``part``'s documents, which it holds (may change ``total`` in place).
    Raises ValueError when ``total`` does not hold them (a count would go below zero)."""
    return _OPS[type(total).__name__][1](total, part)


def exact(total: Any) -> bool:
    """Whether ``total`` after an update is what a merge of its groups gives."""
    return _OPS[type(total).__name__][2](total)


def _add_counter(total: Counter, part: Counter) -> None:
    get = total.get
    for k, v in part.items():
        total[k] = get(k, 0) + v


def _sub_counter(total: Counter, part: Counter) -> None:
    for k, v in part.items():
        n = total.get(k, 0) - v
        if n > 0:
            total[k] = n
        elif n == 0:
            del total[k]  # a merge holds no zero counts
        else:
            raise ValueError(f"the total does not hold the part's count of {k!r}")


def _pivot_fields(total: Any, part: Any) -> list[tuple[Counter, Counter]]:
    if total.pivots != part.pivots:
        raise ValueError("counts restricted to different pivot words")
    return [(getattr(total, f), getattr(part, f)) for f in total.COUNTERS]


# -- spelling: WordCounts(counts, words)
def _add_words(total: Any, part: Any) -> Any:
    _add_counter(total.counts, part.counts)
    total.words += part.words
    return total


def _sub_words(total: Any, part: Any) -> Any:
    _sub_counter(total.counts, part.counts)
    total.words -= part.words
    if total.words < 0:
        raise ValueError("the total does not hold the part's words")
    return total


# -- boilerplate: KeyCounts(sorted unique uint64 keys, uint32 counts)
def _add_keys(total: Any, part: Any) -> Any:
    return type(total).merged([total, part])


def _sub_keys(total: Any, part: Any) -> Any:
    if not len(part.keys):
        return total
    at = np.searchsorted(total.keys, part.keys)
    if at.size and (int(at.max()) >= len(total.keys) or not np.array_equal(total.keys[at], part.keys)):
        raise ValueError("the total does not hold the part's keys")
    counts = total.counts.astype(np.int64)
    counts[at] -= part.counts.astype(np.int64)
    if counts.size and int(counts.min()) < 0:
        raise ValueError("the total does not hold the part's counts")
    keep = counts > 0
    return type(total)(total.keys[keep], counts[keep].astype(np.uint32))


# -- spun: SpunStats(counts, names, sketches, trigrams)
def _add_spun(total: Any, part: Any) -> Any:
    return _update_spun(total, [], [part])


def _sub_spun(total: Any, part: Any) -> Any:
    return _update_spun(total, [part], [])


def _update_spun(total: Any, minus: list[Any], plus: list[Any]) -> Any:
    for part in [*minus, *plus]:
        if (total.trigrams is None) != (part.trigrams is None):
            raise ValueError("spun statistics fitted with and without trigrams")
    for parts, apply in ((minus, _sub_counter), (plus, _add_counter)):  # all out, then all in
        for part in parts:
            for t, p in _pivot_fields(total.counts, part.counts):
                apply(t, p)
            if total.trigrams is not None:
                for t, p in _pivot_fields(total.trigrams, part.trigrams):
                    apply(t, p)
            apply(total.names, part.names)
    if minus:
        gone: dict[str, Any] = {}
        for part in minus:
            for k in part.sketches:
                if k.doc_id in gone:
                    raise ValueError("the part(s) taken out hold two sketches of one document id")
                gone[k.doc_id] = k
        kept = []
        for k in total.sketches:
            if k.doc_id in gone:
                if gone.pop(k.doc_id) != k:
                    raise ValueError(f"the total's sketch of {k.doc_id!r} is not the part's")
            else:
                kept.append(k)
        if gone:
            raise ValueError("the total does not hold the sketches of the part(s) taken out")
        total.sketches = kept
    if plus:
        for part in plus:
            total.sketches.extend(part.sketches)
        total.sketches.sort(key=lambda k: k.doc_id)
    return total


def _exact_spun(total: Any) -> bool:
    s = total.sketches
    return all(s[i].doc_id != s[i + 1].doc_id for i in range(len(s) - 1))


_OPS = {
    "WordCounts": (_add_words, _sub_words, lambda t: True),
    "KeyCounts": (_add_keys, _sub_keys, lambda t: True),
    "SpunStats": (_add_spun, _sub_spun, _exact_spun),
}
