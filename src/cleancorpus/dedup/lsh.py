"""Pass 3: LSH banding. Documents whose signatures agree on every row of some band are
candidate pairs. Each band is computed on its own, so bands can be spread over workers."""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def band_keys(rows: np.ndarray) -> np.ndarray:
    """One uint64 key per document from a (rows_per_band, n) uint32 slice of the signatures.

    One or two rows fit a key exactly; more are folded with a multiplicative hash, whose rare
    collisions only add candidates that verification then rejects.
    """
    r = rows.astype(np.uint64)
    if r.shape[0] == 1:
        return r[0]
    if r.shape[0] == 2:
        return (r[0] << np.uint64(32)) | r[1]
    key = np.zeros(r.shape[1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for row in r:
            key = (key ^ row) * _GOLDEN
            key ^= key >> np.uint64(29)
    return key


def bucket_pairs(keys: np.ndarray, index: np.ndarray, max_all_pairs: int) -> np.ndarray:
    """Candidate pairs (i < j, as an (m, 2) int64 array) among documents with equal keys.

    A bucket of up to ``max_all_pairs`` documents gives every pair; a bigger one (often a mass
    of near-identical pages) gives each member paired with the bucket's first document only,
    which still joins them all into one cluster without a quadratic number of checks.
    Grouping is one sort; buckets are expanded by size, so the work stays in numpy.
    """
    if keys.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.lexsort((index, keys))
    k, idx = keys[order], np.asarray(index, dtype=np.int64)[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, k.size])
    pairs = [np.zeros((0, 2), dtype=np.int64)]
    for m in np.unique(sizes[(sizes > 1) & (sizes <= max_all_pairs)]).tolist():
        s = starts[sizes == m][:, None]
        i, j = np.triu_indices(m, 1)
        pairs.append(np.stack([idx[s + i].ravel(), idx[s + j].ravel()], axis=1))
    big = sizes > max(max_all_pairs, 1)
    if big.any():
        bucket = np.repeat(np.arange(starts.size), sizes)
        members = np.flatnonzero(big[bucket] & (np.arange(k.size) != starts[bucket]))
        pairs.append(np.stack([idx[starts[bucket[members]]], idx[members]], axis=1))
    return np.concatenate(pairs)


def encode_pairs(pairs: np.ndarray, n: int) -> np.ndarray:
    """Pairs as sorted, distinct int64 codes ``i * n + j``: compact to ship and to merge."""
    return np.unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])


def decode_pairs(codes: np.ndarray, n: int) -> np.ndarray:
    return np.stack([codes // n, codes % n], axis=1)
