"""The batch-level work units of the dedup passes, as top-level picklable functions.

Inputs and outputs are scratch locations (scratch.py: a local path or an ``s3://`` URL), small
numbers and numpy arrays, so any ``map_fn`` (the builtin ``map``, a process pool, Dask or
Prefect) can run them; with a cluster the work directory must be one the workers share (a
shared filesystem or an object-storage prefix).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
import numpy as np

from .. import scratch
from ..scratch import Location

from .exact import exact_hashes, normalize_for_hash
from .lsh import band_keys, bucket_pairs, encode_pairs
from .minhash import MinHashParams, signatures
from .shingles import shingle_hashes


@dataclass(frozen=True, slots=True)
class SignatureJob:
    texts: Location  # JSON lines, one text per line
    out: Location  # where the (num_perm, n) signature array is saved (.npy)
    sets: Location  # where the sorted shingle sets are written, back to back (raw uint64)
    params: MinHashParams


@dataclass(frozen=True, slots=True)
class SignatureOut:
    signatures: Location
    hashes: np.ndarray  # exact-duplicate digests, one per text
    shingles: np.ndarray  # number of shingles (with repeats) per text; 0 = too short to sign
    sets: Location
    offsets: np.ndarray  # set boundaries in ``sets``, in items (texts + 1 values)


@dataclass(frozen=True, slots=True)
class BandJob:
    signatures: tuple[Location, ...]  # every batch's signature file, in row order
    bands: tuple[int, ...]
    rows_per_band: int
    active: np.ndarray  # bool per row: rows that take part in LSH
    max_all_pairs: int


def write_batch(path: Location, texts: list[str]) -> None:
    with scratch.open_file(path, "w", encoding="utf-8") as fh:
        for t in texts:
            fh.write(json.dumps(t, ensure_ascii=False))
            fh.write("\n")


def read_batch(path: Location) -> list[str]:
    with scratch.open_file(path, "r", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def signature_task(job: SignatureJob) -> SignatureOut:
    """Exact digests, MinHash signatures and sorted shingle sets (for verification) of one batch."""
    normalized = [normalize_for_hash(t) for t in read_batch(job.texts)]
    cache: dict[str, int] = {}
    shingles = [shingle_hashes(t, job.params.shingle_size, cache) for t in normalized]
    sizes = np.array([s.size for s in shingles], dtype=np.int64)
    sets = [np.unique(s) for s in shingles]
    del shingles
    scratch.save_npy(job.out, signatures(sets, job.params))  # a set has the minima of its multiset
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([s.size for s in sets], out=offsets[1:])
    with scratch.open_file(job.sets, "wb") as fh:
        for s in sets:
            fh.write(s.tobytes())
    return SignatureOut(job.out, exact_hashes(normalized), sizes, job.sets, offsets)


def band_task(job: BandJob) -> np.ndarray:
    """Candidate pairs (encoded, see lsh.encode_pairs) from a group of bands."""
    n = job.active.size
    index = np.flatnonzero(job.active)
    found = []
    if not job.bands:
        return np.zeros(0, dtype=np.int64)
    # the group's signature rows, by byte range from each batch (a row of a (num_perm, n)
    # array is contiguous): what this task needs and no more, locally or on object storage
    first = min(job.bands) * job.rows_per_band
    last = (max(job.bands) + 1) * job.rows_per_band
    group = np.concatenate([scratch.npy_rows(p, first, last) for p in job.signatures], axis=1)
    for band in job.bands:
        lo, hi = band * job.rows_per_band - first, (band + 1) * job.rows_per_band - first
        rows = group[lo:hi]
        keys = band_keys(rows[:, index])
        found.append(encode_pairs(bucket_pairs(keys, index, job.max_all_pairs), n))
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
