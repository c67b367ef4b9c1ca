"""The dedup driver: runs the passes in order over documents it reads twice from a factory.

Pass 1 (read) streams the documents into batch files and keeps a few numbers per document;
the signature pass (exact digests + MinHash) and the band pass (LSH candidates) go through
``map_fn``; verification streams the documents a second time; clusters and representatives
are computed on small arrays. Nothing holds all texts at once.
"""

from __future__ import annotations

import shutil
import tempfile
import time
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
from .verify import PairScores, verify_pairs

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
    previous: Factory | None = None,
    map_fn: MapFn | None = None,
    workdir: str | Path | None = None,
    batch_size: int = 5000,
    bands_per_task: int = 8,
) -> DedupResult:
    """Exact and near duplicates among ``docs()`` and against ``previous()`` (the last stored
    version). Both factories must yield the same documents in the same order on every call.

    ``map_fn`` runs the signature and band passes (default: in this process); the result does not
    depend on it, nor on ``batch_size``/``bands_per_task``. Scratch files go under ``workdir``.
    """
    if not config.enabled:
        return DedupResult()
    if batch_size < 1 or bands_per_task < 1:
        raise ValueError("batch_size and bands_per_task must be at least 1")
    with _scratch(workdir) as work:
        return _Run(docs, previous, config, map_fn or serial_map, work, batch_size, bands_per_task).go()


@contextmanager
def _scratch(workdir: str | Path | None) -> Iterator[Path]:
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="dedup-", dir=workdir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def unique_documents(
    docs: Factory, previous: Factory | None, on_same_id: Callable[[str], None] | None = None
) -> Iterator[tuple[Document, bool]]:
    """(document, is_previous): the new documents, then the previous version's documents whose
    id is not among them (same id = same document, reported to ``on_same_id``). A repeated id
    counts once."""
    seen: set[str] = set()
    for doc in docs():
        if doc.id not in seen:
            seen.add(doc.id)
            yield doc, False
    if previous is not None:
        for doc in previous():
            if doc.id not in seen:
                seen.add(doc.id)
                yield doc, True
            elif on_same_id is not None:
                on_same_id(doc.id)


class _Run:
    def __init__(self, docs, previous, config: DedupConfig, map_fn: MapFn, work: Path,
                 batch_size: int, bands_per_task: int) -> None:
        self.docs, self.previous, self.config, self.map_fn = docs, previous, config, map_fn
        self.work, self.batch_size, self.bands_per_task = work, batch_size, bands_per_task
        self.info: list[Member] = []
        self.is_new: list[bool] = []
        self.timings: dict[str, float] = {}

    def go(self) -> DedupResult:
        jobs = self._timed("read", self._read)
        outs: list[SignatureOut] = self._timed("signatures", lambda: self.map_fn(signature_task, jobs))
        n = len(self.info)
        leaders = exact_groups(np.concatenate([o.hashes for o in outs])) if outs else np.zeros(0, np.int64)
        sizes = np.concatenate([o.shingles for o in outs]) if outs else np.zeros(0, np.int64)
        active = (leaders == np.arange(n)) & (sizes > 0)
        pairs = self._timed("bands", lambda: self._bands([o.signatures for o in outs], active))
        scores = self._timed("verify", lambda: self._verify(pairs))
        accepted = self._accepted(scores)
        t0 = time.perf_counter()
        edges = [(int(i), int(leaders[i])) for i in np.flatnonzero(leaders != np.arange(n))]
        edges += [tuple(p) for p in pairs[accepted].tolist()]
        result = self._select(components(n, edges), leaders, pairs, scores)
        self.timings["clusters"] = time.perf_counter() - t0
        result.stats.update(documents=sum(self.is_new), previous_documents=n - sum(self.is_new),
                            too_short=int(((sizes == 0) & (leaders == np.arange(n))).sum()),
                            candidate_pairs=len(pairs), verified_pairs=int(accepted.sum()))
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
        kept_before: set[str] = set()

        def flush() -> None:
            k = len(jobs)
            path = self.work / f"batch-{k:06d}.jsonl"
            write_batch(path, batch)
            jobs.append(SignatureJob(path, self.work / f"sig-{k:06d}.npy", params))
            batch.clear()

        for doc, is_prev in unique_documents(self.docs, self.previous, kept_before.add):
            repairs = sum(1 for e in doc.edits if e.stage in REPAIR_STAGES)
            self.info.append(Member(doc.id, is_prev, repairs, len(doc.text)))
            self.is_new.append(not is_prev)
            batch.append(doc.text)
            if len(batch) >= self.batch_size:
                flush()
        if batch:
            flush()
        # a new document whose id was in the previous version is that (kept) document
        for i, m in enumerate(self.info):
            if m.id in kept_before:
                self.info[i] = Member(m.id, True, m.repairs, m.length)
        return jobs

    # -- pass 3: LSH bands, spread over map_fn in groups
    def _bands(self, sig_paths: list[Path], active: np.ndarray) -> np.ndarray:
        c = self.config
        groups = [tuple(range(b, min(b + self.bands_per_task, c.bands))) for b in range(0, c.bands, self.bands_per_task)]
        jobs = [BandJob(tuple(sig_paths), g, c.num_perm // c.bands, active, c.max_bucket_all_pairs) for g in groups]
        found = self.map_fn(band_task, jobs) if sig_paths else []
        codes = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        return decode_pairs(codes, active.size)

    # -- pass 4: real shingle sets, second stream over the documents
    def _verify(self, pairs: np.ndarray) -> PairScores:
        return verify_pairs(self._texts(), pairs, self.config.shingle_size)

    def _texts(self) -> Iterator[tuple[int, str]]:
        count = 0
        for idx, (doc, _) in enumerate(unique_documents(self.docs, self.previous)):
            if idx >= len(self.info) or doc.id != self.info[idx].id:
                raise DedupError("the documents changed between two dedup passes; they must be re-readable")
            count += 1
            yield idx, doc.text
        if count != len(self.info):
            raise DedupError("fewer documents on the second dedup pass than on the first")

    def _accepted(self, s: PairScores) -> np.ndarray:
        c = self.config
        return (s.jaccard >= c.jaccard_threshold) | (
            (s.containment >= c.containment_threshold) & (s.smaller >= c.containment_min_shingles)
        )

    # -- passes 5 and 6: clusters, representatives, and the similarity to the representative
    def _select(self, roots: np.ndarray, leaders: np.ndarray, pairs: np.ndarray, scores: PairScores) -> DedupResult:
        result = DedupResult()
        links: list[tuple[int, int]] = []  # (member, representative)
        n_clusters = 0
        for members in clusters(roots):
            rep = representative(members.tolist(), self.info)
            n_clusters += 1
            links += [(int(m), rep) for m in members.tolist() if m != rep and self.is_new[m]]
        direct = self._direct_scores(links, leaders, pairs, scores)
        exact = near = of_previous = 0
        for m, rep in links:
            sim, reason = self._explain(m, rep, leaders, direct)
            result.duplicates[self.info[m].id] = Duplicate(self.info[m].id, self.info[rep].id, sim, reason)
            exact += leaders[m] == leaders[rep]
            near += leaders[m] != leaders[rep]
            of_previous += not self.is_new[rep]
        result.stats = {"exact_duplicates": int(exact), "near_duplicates": int(near),
                        "duplicates_of_previous": int(of_previous), "duplicate_clusters": n_clusters}
        return result

    def _direct_scores(self, links, leaders, pairs: np.ndarray, scores: PairScores) -> dict:
        """Scores of each (member, representative) leader pair, measuring the ones that were only
        linked through other members with one more, targeted stream over the documents."""
        out: dict[tuple[int, int], tuple[float, float, int]] = {}
        missing = set()
        n = len(self.info)
        codes = pairs[:, 0] * n + pairs[:, 1]  # sorted: pairs come from sorted distinct codes
        for m, rep in links:
            key = tuple(sorted((int(leaders[m]), int(leaders[rep]))))
            if key[0] == key[1] or key in out:
                continue
            k = int(np.searchsorted(codes, key[0] * n + key[1]))
            if k == codes.size or codes[k] != key[0] * n + key[1]:
                missing.add(key)
            else:
                out[key] = (float(scores.jaccard[k]), float(scores.containment[k]), int(scores.smaller[k]))
        if missing:
            extra = np.array(sorted(missing), dtype=np.int64)
            s = self._timed("verify_links", lambda: verify_pairs(self._texts(), extra, self.config.shingle_size))
            for k, key in enumerate(sorted(missing)):
                out[key] = (float(s.jaccard[k]), float(s.containment[k]), int(s.smaller[k]))
        return out

    def _explain(self, m: int, rep: int, leaders: np.ndarray, direct) -> tuple[float, str]:
        where = " (kept in the previous version)" if not self.is_new[rep] else ""
        if leaders[m] == leaders[rep]:
            return 1.0, f"exact duplicate (same normalized text){where}"
        c = self.config
        jac, con, smaller = direct[tuple(sorted((int(leaders[m]), int(leaders[rep]))))]
        gram = f"word {c.shingle_size}-gram"
        if jac >= c.jaccard_threshold:
            return jac, f"near duplicate: {gram} Jaccard {jac:.3f} >= {c.jaccard_threshold}{where}"
        if con >= c.containment_threshold and smaller >= c.containment_min_shingles:
            return con, (f"near duplicate: {gram} containment {con:.3f} >= {c.containment_threshold} "
                         f"(Jaccard {jac:.3f}){where}")
        return con, (f"near duplicate through other members of its cluster: {gram} containment {con:.3f}, "
                     f"Jaccard {jac:.3f} with the kept copy{where}")
