"""Small numpy helpers shared by the columnar code (spun's per-file check, the dedup index)."""

from __future__ import annotations

import numpy as np


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[n] .. starts[n] + lengths[n] - 1`` of every n, one range after
    another (int64): the index that gathers rows of variable length stored back to back, or
    scatters them to their places, in one numpy operation instead of a loop over rows."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - before, lengths) + np.arange(total, dtype=np.int64)
