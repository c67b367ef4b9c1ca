"""The batch-level work units of the dedup passes, as top-level picklable functions.

Inputs and outputs are paths, small numbers and numpy arrays, so any ``map_fn`` (the builtin
``map``, a process pool, Dask or Prefect) can run them; with a cluster the work directory must
be on a filesystem the workers share.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .exact import exact_hashes, normalize_for_hash
from .lsh import band_keys, bucket_pairs, encode_pairs
from .minhash import MinHashParams, signatures
from .shingles import shingle_hashes


@dataclass(frozen=True, slots=True)
class SignatureJob:
    texts: Path  # JSON lines, one text per line
    out: Path  # where the (num_perm, n) signature array is saved (.npy)
    sets: Path  # where the sorted shingle sets are written, back to back (raw uint64)
    params: MinHashParams


@dataclass(frozen=True, slots=True)
class SignatureOut:
    signatures: Path
    hashes: np.ndarray  # exact-duplicate digests, one per text
    shingles: np.ndarray  # number of shingles (with repeats) per text; 0 = too short to sign
    sets: Path
    offsets: np.ndarray  # set boundaries in ``sets``, in items (texts + 1 values)


@dataclass(frozen=True, slots=True)
class BandJob:
    signatures: tuple[Path, ...]  # every batch's signature file, in row order
    bands: tuple[int, ...]
    rows_per_band: int
    active: np.ndarray  # bool per row: rows that take part in LSH
    max_all_pairs: int


def write_batch(path: Path, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for t in texts:
            fh.write(json.dumps(t, ensure_ascii=False))
            fh.write("\n")


def read_batch(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def signature_task(job: SignatureJob) -> SignatureOut:
    """Exact digests, MinHash signatures and sorted shingle sets (for verification) of one batch."""
    normalized = [normalize_for_hash(t) for t in read_batch(job.texts)]
    cache: dict[str, int] = {}
    shingles = [shingle_hashes(t, job.params.shingle_size, cache) for t in normalized]
    sizes = np.array([s.size for s in shingles], dtype=np.int64)
    sets = [np.unique(s) for s in shingles]
    del shingles
    np.save(job.out, signatures(sets, job.params))  # a set has the minima of its multiset
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([s.size for s in sets], out=offsets[1:])
    with open(job.sets, "wb") as fh:
        for s in sets:
            fh.write(s.tobytes())
    return SignatureOut(job.out, exact_hashes(normalized), sizes, job.sets, offsets)


def band_task(job: BandJob) -> np.ndarray:
    """Candidate pairs (encoded, see lsh.encode_pairs) from a group of bands."""
    arrays = [np.load(p, mmap_mode="r") for p in job.signatures]
    n = job.active.size
    index = np.flatnonzero(job.active)
    found = []
    for band in job.bands:
        lo, hi = band * job.rows_per_band, (band + 1) * job.rows_per_band
        rows = np.concatenate([np.asarray(a[lo:hi]) for a in arrays], axis=1)
        keys = band_keys(rows[:, index])
        found.append(encode_pairs(bucket_pairs(keys, index, job.max_all_pairs), n))
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
