"""Pass 5: clusters as connected components of the verified pairs; pass 6: one representative per cluster.

Representative policy (deterministic, the first rule that separates two members decides):
1. fewer repair edits (stages "unicode", "spun", "spelling"): the copy that needed less fixing;
2. the longer text (more content survives);
3. the smaller document id.
History plays no part: the same documents give the same kept copies in a fresh store and in a
store with versions (a kept copy can change when a better copy arrives; README "Versions").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

REPAIR_STAGES = frozenset({"unicode", "spun", "spelling"})


def components(n: int, edges: np.ndarray | Iterable[tuple[int, int]]) -> np.ndarray:
    """The root (smallest member index) of each node's connected component.

    Connected components of the sparse graph (scipy.sparse.csgraph), so a million nodes and
    edges stay in arrays; the smallest index as root makes the result independent of edge order.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    e = np.asarray(edges if isinstance(edges, np.ndarray) else list(edges), dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(e), dtype=np.int32), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    _, first = np.unique(labels, return_index=True)  # first occurrence = smallest index
    return first[labels].astype(np.int64)


@dataclass(frozen=True, slots=True)
class Member:
    """What the keep policy looks at for one document."""

    id: str
    repairs: int
    length: int

    def rank(self) -> tuple[int, int, str]:
        return (self.repairs, -self.length, self.id)


def clusters(roots: np.ndarray) -> list[np.ndarray]:
    """Member indices of every component with at least two members, in order of their root."""
    order = np.argsort(roots, kind="stable")
    r = roots[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if r.size else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, r.size])
    big = sizes > 1  # singletons, most of a corpus, never become arrays of their own
    return [order[s : s + m] for s, m in zip(starts[big].tolist(), sizes[big].tolist())]


def representative(members: Sequence[int], info: Sequence[Member]) -> int:
    return min(members, key=lambda i: info[i].rank())
