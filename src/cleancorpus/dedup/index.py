"""The dedup index kept with the store: each document's exact digest, shingle count, MinHash
signature and sorted shingle set, keyed by a digest of its text, one file per input file under
``<store>/_cache/dedup/<parameters>/`` (through fsspec: local or S3).

The signature pass is the part of dedup that reads and hashes every text; a run takes these
rows from the index for every document whose text is unchanged and hashes only the others, then
runs the band, verification and cluster passes over all rows as before. The rows are pure
functions of the text and the MinHash parameters, so a run that uses the index decides exactly
what a full pass decides. An input file's entry is rewritten only when its documents changed;
removed files' documents are not read, so they leave the dedup result.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

from ..arrays import ranges
from ..incremental import _Files, file_key
from .exact import HASH_DTYPE
from .minhash import MinHashParams


@dataclass
class FileMeta:
    """What the first dedup pass reads of an input file's documents, every spill line in order
    (before repeated ids are dropped), each with its line's digest: a document whose spill line
    is unchanged is not parsed again (its text's row comes from the index)."""

    lines: list[bytes]  # incremental.line_digest of each document's spill line
    ids: list[str]
    keys: list[bytes]  # text_key of each document's text
    repairs: list[int]
    lengths: list[int]


@dataclass
class Row:
    hash: bytes
    size: int
    signature: np.ndarray  # (num_perm,) uint32
    shingles: np.ndarray  # sorted unique uint64


@dataclass
class FileRows:
    """One input file's rows as the arrays its entry holds (no Python object per row): row
    ``i`` is ``hashes[i]``, ``sizes[i]``, ``sigs[:, i]`` and ``sets[offsets[i]:offsets[i + 1]]``;
    ``at`` gives a text key's row."""

    at: dict[bytes, int]
    hashes: np.ndarray
    sizes: np.ndarray
    sigs: np.ndarray  # (num_perm, n) uint32
    sets: np.ndarray  # uint64, every row's sorted shingle set one after another
    offsets: np.ndarray  # (n + 1,) int64

    def row(self, i: int) -> Row:
        return Row(bytes(self.hashes[i]), int(self.sizes[i]), self.sigs[:, i].copy(),
                   self.sets[self.offsets[i]:self.offsets[i + 1]].copy())

    def get(self, key: bytes) -> int | None:
        return self.at.get(key)

    def __len__(self) -> int:
        return len(self.at)


NO_ROWS = FileRows({}, np.zeros(0, HASH_DTYPE), np.zeros(0, np.int64), np.zeros((0, 0), np.uint32),
                   np.zeros(0, np.uint64), np.zeros(1, np.int64))


def gather_sets(sets: np.ndarray, offsets: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sets of rows ``idx`` one after another, and their offsets: one gather, no loop."""
    starts = offsets[idx]
    lengths = offsets[idx + 1] - starts
    out_off = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=out_off[1:])
    return sets[ranges(starts, lengths)], out_off


def index_dir(params: MinHashParams) -> str:
    fp = hashlib.sha256(repr((params.shingle_size, params.num_perm, params.seed, 1)).encode()).hexdigest()[:24]
    return f"dedup/{fp}"


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:16]


class DedupIndex:
    def __init__(self, root: str, params: MinHashParams, read: bool = True) -> None:
        self.files = _Files(root)
        self.params, self.read = params, read
        self.prefix = index_dir(params)
        self.reused = self.computed = 0
        self.pairs_reused = self.pairs_verified = 0
        self.unparsed = 0  # documents of files whose first-pass meta held (FileMeta)
        self._last: tuple[str, FileRows, FileMeta | None] | None = None

    def load(self, relpath: str) -> dict[bytes, Row]:
        got = self.load_file(relpath)[0]
        return {k: got.row(i) for k, i in got.at.items()}

    def peek_meta(self, relpath: str) -> FileMeta | None:
        return self.load_file(relpath)[1]

    def load_file(self, relpath: str) -> tuple[FileRows, FileMeta | None]:
        """The file's rows by text key, and what the driver's first pass read of its documents
        when the entry was written (None for an entry without it). The last file loaded is
        kept: the first pass asks for a file's meta, then for its rows."""
        if self._last is not None and self._last[0] == relpath:
            return self._last[1], self._last[2]
        got = self._load_file(relpath)
        self._last = (relpath, *got)
        return got

    def _load_file(self, relpath: str) -> tuple[FileRows, FileMeta | None]:
        if not self.read:
            return NO_ROWS, None
        data = self.files.read(f"{self.prefix}/{file_key(relpath)}.npz")
        if data is None:
            return NO_ROWS, None
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            if str(z["relpath"]) != relpath:
                return NO_ROWS, None
            keys, hashes, sizes, sigs, sets, offsets = (z["keys"], z["hashes"], z["sizes"], z["sigs"], z["sets"],
                                                        z["offsets"])
            n = len(keys)
            if (keys.shape != (n, 16) or keys.dtype != np.uint8 or sigs.shape != (self.params.num_perm, n) or hashes.shape[0] != n or sizes.shape[0] != n
                    or offsets.shape != (n + 1,) or offsets[-1] != sets.size or (n and offsets[0] != 0)
                    or (np.diff(offsets) < 0).any()):
                return NO_ROWS, None
            blob = keys.tobytes()
            rows = FileRows({blob[16 * i:16 * i + 16]: i for i in range(n)}, hashes, sizes.astype(np.int64, copy=False),
                            sigs, sets.astype(np.uint64, copy=False), offsets.astype(np.int64, copy=False))
            meta = None
            if "meta_lines" in z.files:
                k, ln = z["meta_keys"], z["meta_lines"]
                meta = FileMeta([ln[i].tobytes() for i in range(len(ln))], z["meta_ids"].tolist(),
                                [k[i].tobytes() for i in range(len(k))], z["meta_repairs"].tolist(),
                                z["meta_lengths"].tolist())
            return rows, meta
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never an error
            return NO_ROWS, None

    def save(self, relpath: str, keys: list[bytes], rows: list[Row], meta: FileMeta | None = None) -> None:
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([r.shingles.size for r in rows], out=offsets[1:])
        self.save_arrays(relpath, keys, np.array([r.hash for r in rows], dtype=HASH_DTYPE),
                         np.array([r.size for r in rows], dtype=np.int64),
                         (np.stack([r.signature for r in rows], axis=1) if rows
                          else np.zeros((self.params.num_perm, 0), np.uint32)),
                         np.concatenate([r.shingles for r in rows]) if rows else np.zeros(0, np.uint64), offsets, meta)

    def save_arrays(self, relpath: str, keys: list[bytes], hashes: np.ndarray, sizes: np.ndarray, sigs: np.ndarray,
                    sets: np.ndarray, offsets: np.ndarray, meta: FileMeta | None = None) -> None:
        """``save`` of rows given as ``FileRows``' arrays (row ``i``: ``hashes[i]``, ``sizes[i]``,
        ``sigs[:, i]``, ``sets[offsets[i]:offsets[i + 1]]``)."""
        extra = {} if meta is None else {
            "meta_lines": np.frombuffer(b"".join(meta.lines), dtype=np.uint8).reshape(len(meta.lines), 16),
            "meta_ids": np.array(meta.ids, dtype=str),
            "meta_keys": np.frombuffer(b"".join(meta.keys), dtype=np.uint8).reshape(len(meta.keys), 16),
            "meta_repairs": np.array(meta.repairs, dtype=np.int64), "meta_lengths": np.array(meta.lengths, dtype=np.int64)}
        buf = io.BytesIO()
        np.savez(buf, relpath=np.array(relpath),
                 keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16),
                 hashes=np.asarray(hashes, dtype=HASH_DTYPE), sizes=np.asarray(sizes, dtype=np.int64),
                 sigs=np.asarray(sigs, dtype=np.uint32), sets=np.asarray(sets, dtype=np.uint64),
                 offsets=np.asarray(offsets, dtype=np.int64), **extra)
        self.files.write(f"{self.prefix}/{file_key(relpath)}.npz", buf.getvalue())

    # -- verified candidate pairs: |A∩B| of two texts' shingle sets, by the two text keys. A
    # pure function of the two texts (and the parameters, in the directory name), so a pair of
    # unchanged texts is not verified again; the file holds the latest run's candidate pairs.
    def load_pair_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The pair keys ((m, 32) uint8 rows, ``pair_key``) and their overlaps (empty when missing or damaged)."""
        empty = np.zeros((0, 32), np.uint8), np.zeros(0, np.int64)
        if not self.read:
            return empty
        data = self.files.read(f"{self.prefix}/{PAIRS}")
        if data is None:
            return empty
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            keys, inter = z["keys"], z["inter"]
            if keys.ndim != 2 or keys.shape[1] != 32 or keys.shape[0] != inter.size or keys.dtype != np.uint8:
                return empty
            return np.ascontiguousarray(keys), np.asarray(inter, dtype=np.int64)
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never an error
            return empty

    def save_pairs(self, keys: list[bytes] | np.ndarray, inter: np.ndarray) -> None:
        buf = io.BytesIO()
        rows = keys if isinstance(keys, np.ndarray) else np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        np.savez(buf, keys=rows, inter=np.asarray(inter, dtype=np.int64))
        self.files.write(f"{self.prefix}/{PAIRS}", buf.getvalue())


PAIRS = "pairs.npz"  # not an input file's entry: kept by the sweep as long as the parameters are


def pair_key(a: bytes, b: bytes) -> bytes:
    return a + b if a <= b else b + a


def pair_keys(keys: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``pair_key`` of every pair of rows ((n, 16) uint8 text keys, (m, 2) row pairs): (m, 32) uint8."""
    a, b = keys[pairs[:, 0]], keys[pairs[:, 1]]
    diff = a != b
    first = diff.argmax(axis=1)  # the first differing byte decides, as bytes compare
    rows = np.arange(a.shape[0])
    a_first = ~diff.any(axis=1) | (a[rows, first] < b[rows, first])
    return np.ascontiguousarray(np.where(a_first[:, None], np.concatenate([a, b], axis=1), np.concatenate([b, a], axis=1)))


def lookup_pairs(stored: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The stored value of each wanted pair key ((m, 32) uint8 rows), -1 where none is stored."""
    out = np.full(wanted.shape[0], -1, dtype=np.int64)
    if not stored.shape[0] or not wanted.shape[0]:
        return out
    s = stored.view("S32").ravel()
    order = np.argsort(s, kind="stable")
    pos = np.searchsorted(s[order], wanted.view("S32").ravel()).clip(0, s.size - 1)
    at = order[pos]
    hit = (stored[at] == wanted).all(axis=1)  # byte for byte (fixed-width strings ignore trailing zeros)
    out[hit] = values[at[hit]]
    return out
