"""Pass 5: clusters by union-find; pass 6: one representative per cluster.

Representative policy (deterministic, the first rule that separates two members decides):
1. a document already in the previous stored version (so a kept document stays kept);
2. fewer repair edits (stages "unicode", "spun", "spelling"): the copy that needed less fixing;
3. the longer text (more content survives);
4. the smaller document id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

REPAIR_STAGES = frozenset({"unicode", "spun", "spelling"})


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving keeps later finds short
            x = int(parent[x])
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller index becomes the root: the result does not depend on edge order
            self.parent[max(ra, rb)] = min(ra, rb)

    def roots(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(self.parent.size)], dtype=np.int64)


def components(n: int, edges: Iterable[tuple[int, int]]) -> np.ndarray:
    """The root (smallest member index) of each node's connected component."""
    uf = UnionFind(n)
    for a, b in edges:
        uf.union(a, b)
    return uf.roots()


@dataclass(frozen=True, slots=True)
class Member:
    """What the keep policy looks at for one document."""

    id: str
    in_previous: bool
    repairs: int
    length: int

    def rank(self) -> tuple[bool, int, int, str]:
        return (not self.in_previous, self.repairs, -self.length, self.id)


def clusters(roots: np.ndarray) -> list[np.ndarray]:
    """Member indices of every component with at least two members, in order of their root."""
    order = np.argsort(roots, kind="stable")
    r = roots[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    groups = np.split(order, starts[1:])
    return [g for g in groups if g.size > 1]


def representative(members: Sequence[int], info: Sequence[Member]) -> int:
    return min(members, key=lambda i: info[i].rank())
