"""The dedup driver: runs the passes in order over documents it reads once from a factory.

Pass 1 (read) streams the documents into batch files and keeps a few numbers per document;
the signature pass (exact digests, MinHash, sorted shingle sets written to the work directory)
and the band pass (LSH candidates) go through ``map_fn``; verification reads the shingle sets
back pair block by pair block; clusters and representatives are computed on arrays. Nothing holds
all texts or all shingle sets at once: per document only a few numbers, its id and its signature.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from array import array
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np

from ..config import DedupConfig
from ..document import Document
from .cluster import REPAIR_STAGES, Member, clusters, components, representative
from .exact import exact_groups
from .lsh import decode_pairs
from .minhash import MinHashParams
from .records import DedupResult, Duplicate
from .tasks import BandJob, SignatureJob, SignatureOut, band_task, signature_task, write_batch
from .verify import PairScores, ShingleStore, Thresholds, VerifyJob, score_pairs, verify_task

T = TypeVar("T")
R = TypeVar("R")
MapFn = Callable[[Callable[[T], R], list[T]], list[R]]
Factory = Callable[[], Iterable[Document]]


class DedupError(RuntimeError):
    pass


def serial_map(fn: Callable[[T], R], items: list[T]) -> list[R]:
    return list(map(fn, items))


def find_duplicates(
    docs: Factory,
    config: DedupConfig,
    map_fn: MapFn | None = None,
    workdir: str | Path | None = None,
    batch_size: int = 5000,
    bands_per_task: int = 8,
    pairs_per_task: int = 1 << 18,
) -> DedupResult:
    """Exact and near duplicates among ``docs()`` (called once). The result depends on these
    documents and the configuration only, never on an earlier version: a version id (a hash of
    inputs, configuration and code) names one content in every store (see README "Versions").

    ``map_fn`` runs the signature, band and verification passes (default: in this process); the
    result does not depend on it, nor on ``batch_size``/``bands_per_task``/``pairs_per_task``. Scratch files (text batches,
    signatures, shingle sets: about 8 bytes per shingle) go under ``workdir``, which ``map_fn``'s
    workers must be able to read and write (a shared filesystem when they run on other machines).
    """
    if not config.enabled:
        return DedupResult()
    if min(batch_size, bands_per_task, pairs_per_task) < 1:
        raise ValueError("batch_size, bands_per_task and pairs_per_task must be at least 1")
    with _scratch(workdir) as work:
        return _Run(docs, config, map_fn or serial_map, work, (batch_size, bands_per_task, pairs_per_task)).go()


@contextmanager
def _scratch(workdir: str | Path | None) -> Iterator[Path]:
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="dedup-", dir=workdir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def unique_documents(docs: Factory) -> Iterator[Document]:
    """The documents, a repeated id counted once (same id = same document)."""
    seen: set[str] = set()
    for doc in docs():
        if doc.id not in seen:
            seen.add(doc.id)
            yield doc


class _Info:
    """The keep policy's numbers for every document: arrays, not a million Python records."""

    def __init__(self, ids: list[str], repairs: np.ndarray, length: np.ndarray) -> None:
        self.ids, self.repairs, self.length = ids, repairs, length

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Member:
        return Member(self.ids[i], int(self.repairs[i]), int(self.length[i]))


def merge_codes(found: list[np.ndarray]) -> np.ndarray:
    """Sorted distinct pair codes from the band tasks' sorted lists: one in-place sort, no copies
    beyond the concatenation (``found`` is emptied so its arrays can be freed)."""
    if not found:
        return np.zeros(0, dtype=np.int64)
    codes = np.concatenate(found).astype(np.int64, copy=False)
    found.clear()
    codes.sort()
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if codes.size else codes


class _Run:
    def __init__(self, docs, config: DedupConfig, map_fn: MapFn, work: Path,
                 sizes: tuple[int, int, int]) -> None:
        self.docs, self.config, self.map_fn = docs, config, map_fn
        self.work, (self.batch_size, self.bands_per_task, self.pairs_per_task) = work, sizes
        self.accept = Thresholds(config.jaccard_threshold, config.containment_threshold,
                                 config.containment_min_shingles)
        self.timings: dict[str, float] = {}

    def go(self) -> DedupResult:
        jobs = self._timed("read", self._read)
        outs = self._timed("signatures", lambda: self._signatures(jobs))
        n = len(self.info)
        leaders = exact_groups(np.concatenate([o.hashes for o in outs])) if outs else np.zeros(0, np.int64)
        sizes = np.concatenate([o.shingles for o in outs]) if outs else np.zeros(0, np.int64)
        active = (leaders == np.arange(n)) & (sizes > 0)
        codes = self._timed("bands", lambda: self._bands([o.signatures for o in outs], active))
        accepted, scores = self._timed("verify", lambda: self._verify(outs, codes))
        with ShingleStore([o.sets for o in outs], [o.offsets for o in outs]) as store:
            t0 = time.perf_counter()
            roots = components(n, self._edges(leaders, accepted))
            result = self._select(roots, leaders, accepted, scores, store)
            self.timings["clusters"] = time.perf_counter() - t0
        result.stats.update(documents=n,
                            too_short=int(((sizes == 0) & (leaders == np.arange(n))).sum()),
                            candidate_pairs=int(codes.size), verified_pairs=int(accepted.size))
        result.timings = self.timings
        return result

    def _timed(self, name: str, fn: Callable[[], R]) -> R:
        t0 = time.perf_counter()
        out = fn()
        self.timings[name] = time.perf_counter() - t0
        return out

    # -- pass 1: batch files and the per-document numbers the keep policy needs
    def _read(self) -> list[SignatureJob]:
        params = MinHashParams(self.config.shingle_size, self.config.num_perm, self.config.seed)
        jobs: list[SignatureJob] = []
        batch: list[str] = []
        ids: list[str] = []
        repairs, length = array("q"), array("q")

        def flush() -> None:
            k = len(jobs)
            path = self.work / f"batch-{k:06d}.jsonl"
            write_batch(path, batch)
            jobs.append(SignatureJob(path, self.work / f"sig-{k:06d}.npy", self.work / f"sets-{k:06d}.u64", params))
            batch.clear()

        for doc in unique_documents(self.docs):
            ids.append(doc.id)
            repairs.append(sum(1 for e in doc.edits if e.stage in REPAIR_STAGES))
            length.append(len(doc.text))
            batch.append(doc.text)
            if len(batch) >= self.batch_size:
                flush()
        if batch:
            flush()
        self.info = _Info(ids, np.asarray(repairs, dtype=np.int64), np.asarray(length, dtype=np.int64))
        return jobs

    # -- pass 2: exact digests, signatures and shingle sets, spread over map_fn
    def _signatures(self, jobs: list[SignatureJob]) -> list[SignatureOut]:
        outs = list(self.map_fn(signature_task, jobs)) if jobs else []
        if len(outs) != len(jobs):
            raise DedupError(f"map_fn returned {len(outs)} results for {len(jobs)} signature batches")
        for job in jobs:  # the texts are not read again
            job.texts.unlink(missing_ok=True)
        return outs

    # -- pass 3: LSH bands, spread over map_fn in groups
    def _bands(self, sig_paths: list[Path], active: np.ndarray) -> np.ndarray:
        c = self.config
        groups = [tuple(range(b, min(b + self.bands_per_task, c.bands))) for b in range(0, c.bands, self.bands_per_task)]
        jobs = [BandJob(tuple(sig_paths), g, c.num_perm // c.bands, active, c.max_bucket_all_pairs) for g in groups]
        found = list(self.map_fn(band_task, jobs)) if sig_paths else []
        if sig_paths and len(found) != len(jobs):
            raise DedupError(f"map_fn returned {len(found)} results for {len(jobs)} band groups")
        return merge_codes(found)

    # -- pass 4: the candidates on their shingle sets, in slices over map_fn
    def _verify(self, outs: list[SignatureOut], codes: np.ndarray) -> tuple[np.ndarray, PairScores]:
        files, offsets = tuple(o.sets for o in outs), tuple(o.offsets for o in outs)
        jobs = [VerifyJob(files, offsets, codes[lo : lo + self.pairs_per_task], self.accept)
                for lo in range(0, codes.size, self.pairs_per_task)]
        found = list(self.map_fn(verify_task, jobs)) if jobs else []
        if len(found) != len(jobs):
            raise DedupError(f"map_fn returned {len(found)} results for {len(jobs)} verification slices")
        if not found:
            return np.zeros(0, dtype=np.int64), PairScores.concat([])
        return np.concatenate([f[0] for f in found]), PairScores.concat([f[1] for f in found])

    # -- passes 5 and 6: clusters, representatives, and the similarity to the representative
    def _edges(self, leaders: np.ndarray, accepted: np.ndarray) -> np.ndarray:
        n = leaders.size
        copies = np.flatnonzero(leaders != np.arange(n))
        return np.concatenate([np.stack([copies, leaders[copies]], axis=1), decode_pairs(accepted, n)])

    def _select(self, roots: np.ndarray, leaders: np.ndarray, accepted: np.ndarray, scores: PairScores,
                store: ShingleStore) -> DedupResult:
        groups = clusters(roots)
        dropped, kept = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for members in groups:
            rep = representative(members.tolist(), self.info)
            m = members[members != rep]
            dropped.append(m)
            kept.append(np.full(m.size, rep, dtype=np.int64))
        m, rep = np.concatenate(dropped), np.concatenate(kept)
        jac, con, small = self._direct_scores(leaders[m], leaders[rep], accepted, scores, store)
        result = DedupResult()
        ids, c = self.info.ids, self.config
        for k, (a, b) in enumerate(zip(m.tolist(), rep.tolist())):
            sim, reason = _explain(c, leaders[a] == leaders[b], jac[k], con[k], small[k])
            result.duplicates[ids[a]] = Duplicate(ids[a], ids[b], sim, reason)
        exact = leaders[m] == leaders[rep]
        result.stats = {"exact_duplicates": int(exact.sum()), "near_duplicates": int((~exact).sum()),
                        "duplicate_clusters": len(groups)}
        return result

    def _direct_scores(self, a: np.ndarray, b: np.ndarray, accepted: np.ndarray, scores: PairScores,
                       store: ShingleStore) -> tuple[list[float], list[float], list[int]]:
        """Scores of each (member, representative) leader pair: from verification when it accepted
        the pair, else (linked only through other members, or a candidate it rejected) measured
        now on the stored shingle sets."""
        n = len(self.info)
        near = a != b
        keys = np.minimum(a, b) * n + np.maximum(a, b)
        pos = np.searchsorted(accepted, keys).clip(0, max(accepted.size - 1, 0))
        found = near & (accepted[pos] == keys) if accepted.size else np.zeros(keys.size, dtype=bool)
        jac, con, small = np.zeros(keys.size), np.zeros(keys.size), np.zeros(keys.size, dtype=np.int64)
        jac[found], con[found], small[found] = (scores.jaccard[pos[found]], scores.containment[pos[found]],
                                                scores.smaller[pos[found]])
        missing = near & ~found
        if missing.any():
            todo, back = np.unique(keys[missing], return_inverse=True)
            s = self._timed("verify_links", lambda: score_pairs(store, decode_pairs(todo, n)))
            jac[missing], con[missing], small[missing] = s.jaccard[back], s.containment[back], s.smaller[back]
        return jac.tolist(), con.tolist(), small.tolist()


def _explain(c: DedupConfig, exact: bool, jac: float, con: float, smaller: int) -> tuple[float, str]:
    if exact:
        return 1.0, f"exact duplicate (same normalized text)"
    gram = f"word {c.shingle_size}-gram"
    if jac >= c.jaccard_threshold:
        return jac, f"near duplicate: {gram} Jaccard {jac:.3f} >= {c.jaccard_threshold}"
    if con >= c.containment_threshold and smaller >= c.containment_min_shingles:
        return con, (f"near duplicate: {gram} containment {con:.3f} >= {c.containment_threshold} "
                     f"(Jaccard {jac:.3f})")
    return con, (f"near duplicate through other members of its cluster: {gram} containment {con:.3f}, "
                 f"Jaccard {jac:.3f} with the kept copy")
