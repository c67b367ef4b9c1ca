"""The dedup driver: runs the passes in order over documents it reads once from a factory.

Pass 1 (read) streams the documents into batch files and keeps a few numbers per document;
the signature pass (exact digests, MinHash, sorted shingle sets written to the work directory)
and the band pass (LSH candidates) go through ``map_fn``; verification reads the shingle sets
back pair block by pair block; clusters and representatives are computed on arrays. Nothing holds
all texts or all shingle sets at once: per document only a few numbers, its id and its signature.
"""

from __future__ import annotations

import io
import itertools
import time
from array import array
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np

from .. import scratch
from ..arrays import ranges
from ..config import DedupConfig
from ..document import Document
from ..records import decode_record
from ..incremental import input_file
from ..scratch import Location
from .cluster import REPAIR_STAGES, Member, clusters, components, representative
from .exact import HASH_DTYPE, exact_groups
from .index import NO_ROWS, DedupIndex, FileMeta, FileRows, gather_sets, lookup_pairs, pair_keys, text_key
from .lsh import decode_pairs
from .minhash import MinHashParams
from .records import DedupResult, Duplicate
from .tasks import BandJob, SignatureJob, SignatureOut, band_task, signature_task, write_batch
from .verify import (PairScores, ShingleStore, Thresholds, VerifyJob, overlaps_of, score_pairs, scores_from_overlaps,
                     verify_task)

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
    index: str | None = None,
    full: bool = False,
    lines: Callable[[], Iterable[tuple[str, list[bytes]]]] | None = None,
) -> DedupResult:
    """Exact and near duplicates among ``docs()`` (called once). The result depends on these
    documents and the configuration only, never on an earlier version: a version id (a hash of
    inputs, configuration and code) names one content in every store (see README "Versions").

    ``map_fn`` runs the signature, band and verification passes (default: in this process); the
    result does not depend on it, nor on ``batch_size``/``bands_per_task``/``pairs_per_task``. Scratch files (text batches,
    signatures, shingle sets: about 8 bytes per shingle) go under ``workdir``, which ``map_fn``'s
    workers must be able to read and write: a local directory, or a shared filesystem or an
    object-storage prefix (``s3://bucket/tmp``, scratch.py) when they run on other machines.
    ``index``: a store location whose dedup index (index.py) gives the signature rows of
    unchanged texts (``full``: not read, rewritten); the result is the same either way.
    ``lines``: the same documents as spill lines grouped by input file (``docs`` is then not
    called): with an index, a file whose lines are unchanged is not parsed (index.FileMeta).
    """
    if not config.enabled:
        return DedupResult()
    if min(batch_size, bands_per_task, pairs_per_task) < 1:
        raise ValueError("batch_size, bands_per_task and pairs_per_task must be at least 1")
    with _scratch(workdir) as work:
        params = MinHashParams(config.shingle_size, config.num_perm, config.seed)
        idx = DedupIndex(str(index), params, read=not full) if index is not None else None
        run = _Run(docs, config, map_fn or serial_map, work, (batch_size, bands_per_task, pairs_per_task), idx)
        run.lines = lines if idx is not None else None
        return run.go()


@contextmanager
def _scratch(workdir: str | Path | None) -> Iterator[Location]:
    path = scratch.mkdtemp(scratch.location(workdir) if workdir is not None else None, "dedup-")
    try:
        yield path
    finally:
        scratch.rmtree(path)


def unique_documents(docs: Factory) -> Iterator[Document]:
    """The documents, a repeated id counted once (same id = same document)."""
    seen: set[str] = set()
    for doc in docs():
        if doc.id not in seen:
            seen.add(doc.id)
            yield doc


def _parse(line: bytes) -> Document:
    return decode_record(line)  # a spill line (records.py)


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
    def __init__(self, docs, config: DedupConfig, map_fn: MapFn, work: Location,
                 sizes: tuple[int, int, int], index: DedupIndex | None = None) -> None:
        self.docs, self.config, self.map_fn, self.index = docs, config, map_fn, index
        self.lines: Callable[[], Iterable[tuple[str, list[bytes]]]] | None = None
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
        if self.index is not None:
            result.work = {"signatures_reused": self.index.reused, "signatures_computed": self.index.computed,
                           "pairs_reused": self.index.pairs_reused, "pairs_verified": self.index.pairs_verified,
                           "documents_not_parsed": self.index.unparsed}
        return result

    def _timed(self, name: str, fn: Callable[[], R]) -> R:
        t0 = time.perf_counter()
        out = fn()
        self.timings[name] = time.perf_counter() - t0
        return out

    # -- pass 1: batch files and the per-document numbers the keep policy needs; with an
    # index, the rows of texts it holds go to a side file and only the others are hashed
    def _read(self) -> list[_Batch]:
        params = MinHashParams(self.config.shingle_size, self.config.num_perm, self.config.seed)
        plans: list[_Batch] = []
        batch: list[str] = []
        misses: list[int] = []
        hits: list[tuple[int, FileRows, int]] = []  # (position in the batch, the file's rows, row)
        ids: list[str] = []
        repairs, length = array("q"), array("q")
        self.files: list[str] = []  # input file of each row (with an index)
        self.keys: list[bytes] = []
        self.dirty: set[str] = set()
        current: dict[str, object] = {"file": None, "stored": NO_ROWS, "used": set(), "missed": False}

        def flush() -> None:
            k = len(plans)
            job = pre = None
            if batch:
                path = scratch.join(self.work, f"batch-{k:06d}.jsonl")
                write_batch(path, batch)
                job = SignatureJob(path, scratch.join(self.work, f"sig-{k:06d}.npy"),
                                   scratch.join(self.work, f"sets-{k:06d}.u64"), params)
            if hits:
                pre = scratch.join(self.work, f"pre-{k:06d}.npz")
                _save_rows(pre, hits, params.num_perm)
            plans.append(_Batch(len(batch) + len(hits), np.asarray(misses, dtype=np.int64), job, pre))
            batch.clear(), misses.clear(), hits.clear()

        def close_file() -> None:
            f = current["file"]
            if f is not None and (current["missed"] or current["stored"].at.keys() != current["used"]):  # type: ignore[attr-defined]
                self.dirty.add(f)  # type: ignore[arg-type]

        for doc_id, n_repairs, n_chars, rel, key, text in self._documents():
            ids.append(doc_id)
            repairs.append(n_repairs)
            length.append(n_chars)
            row = None
            if self.index is not None:
                if rel != current["file"]:
                    close_file()
                    stored, _ = self.index.load_file(rel)
                    current.update(file=rel, stored=stored, used=set(), missed=False)
                    if rel in self.parsed:  # parsed this run: its entry gets the new meta
                        current["missed"] = True
                self.files.append(rel)
                self.keys.append(key)
                current["used"].add(key)  # type: ignore[union-attr]
                row = current["stored"].get(key)  # type: ignore[union-attr]
                if row is None:
                    current["missed"] = True
            position = len(batch) + len(hits)
            if row is not None:
                hits.append((position, current["stored"], row))  # type: ignore[arg-type]
                self.index.reused += 1  # type: ignore[union-attr]
            else:
                misses.append(position)
                batch.append(text())
                if self.index is not None:
                    self.index.computed += 1
            if len(batch) + len(hits) >= self.batch_size:
                flush()
        if batch or hits:
            flush()
        close_file()
        self.info = _Info(ids, np.asarray(repairs, dtype=np.int64), np.asarray(length, dtype=np.int64))
        return plans

    def _documents(self) -> Iterator[tuple[str, int, int, str | None, bytes | None, Callable[[], str]]]:
        """(id, repairs, characters, input file, text key, the text) of each document, a repeated
        id once; with ``lines``, a document whose spill line is one its file's index entry was
        made from is not parsed (its text only if the index lacks its row)."""
        self.meta: dict[str, FileMeta] = {}  # each file's first-pass meta (with ``lines`` only)
        self.parsed: set[str] = set()  # files with documents parsed: their entries get the new meta
        if self.lines is None:
            for doc in unique_documents(self.docs):
                rel = input_file(doc.source) if self.index is not None else None
                key = text_key(doc.text) if self.index is not None else None
                yield (doc.id, sum(1 for e in doc.edits if e.stage in REPAIR_STAGES), len(doc.text), rel, key,
                       (lambda text=doc.text: text))
            return
        from ..incremental import line_digest

        seen: set[str] = set()
        for rel, lines in self.lines():
            stored = self.index.peek_meta(rel)  # type: ignore[union-attr]
            at = {d: i for i, d in enumerate(stored.lines)} if stored is not None else {}
            meta = FileMeta([], [], [], [], [])
            texts: list[Callable[[], str]] = []
            parsed = 0
            for ln in lines:
                digest = line_digest(ln)
                i = at.get(digest)
                if i is not None:  # the same spill line: what was read of it holds
                    values = (stored.ids[i], stored.keys[i], stored.repairs[i], stored.lengths[i])  # type: ignore[union-attr]
                    texts.append(lambda ln=ln: _parse(ln).text)
                else:
                    d = _parse(ln)
                    values = (d.id, text_key(d.text), sum(1 for e in d.edits if e.stage in REPAIR_STAGES), len(d.text))
                    texts.append(lambda text=d.text: text)
                    parsed += 1
                meta.lines.append(digest)
                for field_, v in zip((meta.ids, meta.keys, meta.repairs, meta.lengths), values):
                    field_.append(v)
            self.index.unparsed += len(lines) - parsed  # type: ignore[union-attr]
            if parsed or stored is None or len(stored.lines) != len(lines):
                self.parsed.add(rel)  # its entry is rewritten with the new meta
            self.meta[rel] = meta
            for i, doc_id in enumerate(meta.ids):
                if doc_id in seen:
                    continue
                seen.add(doc_id)
                yield doc_id, meta.repairs[i], meta.lengths[i], rel, meta.keys[i], texts[i]

    # -- pass 2: exact digests, signatures and shingle sets, spread over map_fn
    def _signatures(self, plans: list[_Batch]) -> list[SignatureOut]:
        jobs = [p.job for p in plans if p.job is not None]
        computed = list(self.map_fn(signature_task, jobs)) if jobs else []
        if len(computed) != len(jobs):
            raise DedupError(f"map_fn returned {len(computed)} results for {len(jobs)} signature batches")
        for job in jobs:  # the texts are not read again
            scratch.remove(job.texts)
        got = iter(computed)
        outs = []
        for k, plan in enumerate(plans):
            out = next(got) if plan.job is not None else None
            outs.append(out if plan.pre is None else self._combine(k, plan, out))
        if self.index is not None:
            self._save_index(outs)
        return outs

    def _combine(self, k: int, plan: _Batch, out: SignatureOut | None) -> SignatureOut:
        """One batch's rows in document order, from the index (``plan.pre``) and the texts
        hashed now (``out``, rows ``plan.misses``)."""
        n, perm = plan.n, self.config.num_perm
        hashes = np.empty(n, dtype=HASH_DTYPE)
        sizes = np.zeros(n, dtype=np.int64)
        sig = np.empty((perm, n), dtype=np.uint32)
        # each row's set, placed by position: (positions, their sets one after another, offsets)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if out is not None:
            m = plan.misses
            hashes[m], sizes[m], sig[:, m] = out.hashes, out.shingles, scratch.load_npy(out.signatures)
            computed = np.frombuffer(scratch.read_bytes(out.sets), dtype=np.uint64)
            parts.append((m, computed, np.asarray(out.offsets, dtype=np.int64)))
            scratch.remove(out.signatures)
            scratch.remove(out.sets)
        z = scratch.load_npy(plan.pre)
        pos = z["positions"]
        hashes[pos], sizes[pos], sig[:, pos] = z["hashes"], z["sizes"], z["sigs"]
        parts.append((pos, z["sets"].astype(np.uint64, copy=False), z["offsets"]))
        scratch.remove(plan.pre)
        sig_path = scratch.join(self.work, f"sig-{k:06d}-all.npy")
        sets_path = scratch.join(self.work, f"sets-{k:06d}-all.u64")
        scratch.save_npy(sig_path, sig)
        lengths = np.zeros(n, dtype=np.int64)
        for at, _, off in parts:
            lengths[at] = np.diff(off)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.empty(offsets[-1], dtype=np.uint64)
        for at, values, off in parts:  # one scatter per source, no loop over rows
            flat[ranges(offsets[at], np.diff(off))] = values[:off[-1]]
        with scratch.open_file(sets_path, "wb") as fh:
            fh.write(flat.tobytes())
        return SignatureOut(sig_path, hashes, sizes, sets_path, offsets)

    def _save_index(self, outs: list[SignatureOut]) -> None:
        """Rewrite the index entry of every input file whose documents changed (rows are in
        input-file order, so one file's rows are gathered at a time)."""
        if not self.dirty:
            return
        rel: str | None = None
        parts: list[tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

        def save() -> None:
            if rel is None or rel not in self.dirty:
                return
            offsets = [np.zeros(1, np.int64)]
            end = 0
            for p in parts:
                offsets.append(p[5][1:] + end)
                end += int(p[5][-1])
            self.index.save_arrays(rel, [k for p in parts for k in p[0]],  # type: ignore[union-attr]
                                   np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
                                   np.concatenate([p[3] for p in parts], axis=1), np.concatenate([p[4] for p in parts]),
                                   np.concatenate(offsets), self.meta.get(rel))

        g = 0
        for out in outs:
            n = out.hashes.size
            files = self.files[g:g + n]
            if not any(f in self.dirty for f in files):
                g += n
                continue
            sig = scratch.load_npy(out.signatures)
            sets = np.frombuffer(scratch.read_bytes(out.sets), dtype=np.uint64) if out.offsets[-1] else np.zeros(0, np.uint64)
            offsets = np.asarray(out.offsets, dtype=np.int64)
            i = 0
            while i < n:  # one run of a file's rows at a time, taken as slices
                f, j = files[i], i + 1
                while j < n and files[j] == f:
                    j += 1
                if f != rel:
                    save()
                    rel, parts = f, []
                if f in self.dirty:
                    flat, off = gather_sets(sets, offsets, np.arange(i, j, dtype=np.int64))
                    parts.append((self.keys[g + i:g + j], out.hashes[i:j], np.asarray(out.shingles[i:j], dtype=np.int64),
                                  sig[:, i:j], flat, off))
                i = j
            g += n
        save()

    # -- pass 3: LSH bands, spread over map_fn in groups
    def _bands(self, sig_paths: list[Location], active: np.ndarray) -> np.ndarray:
        c = self.config
        groups = [tuple(range(b, min(b + self.bands_per_task, c.bands))) for b in range(0, c.bands, self.bands_per_task)]
        jobs = [BandJob(tuple(sig_paths), g, c.num_perm // c.bands, active, c.max_bucket_all_pairs) for g in groups]
        found = list(self.map_fn(band_task, jobs)) if sig_paths else []
        if sig_paths and len(found) != len(jobs):
            raise DedupError(f"map_fn returned {len(found)} results for {len(jobs)} band groups")
        return merge_codes(found)

    # -- pass 4: the candidates on their shingle sets, in slices over map_fn
    def _verify(self, outs: list[SignatureOut], codes: np.ndarray) -> tuple[np.ndarray, PairScores]:
        if self.index is not None:
            return self._verify_remembered(outs, codes)
        files, offsets = tuple(o.sets for o in outs), tuple(o.offsets for o in outs)
        jobs = [VerifyJob(files, offsets, codes[lo : lo + self.pairs_per_task], self.accept)
                for lo in range(0, codes.size, self.pairs_per_task)]
        found = list(self.map_fn(verify_task, jobs)) if jobs else []
        if len(found) != len(jobs):
            raise DedupError(f"map_fn returned {len(found)} results for {len(jobs)} verification slices")
        if not found:
            return np.zeros(0, dtype=np.int64), PairScores.concat([])
        return np.concatenate([f[0] for f in found]), PairScores.concat([f[1] for f in found])

    def _verify_remembered(self, outs: list[SignatureOut], codes: np.ndarray) -> tuple[np.ndarray, PairScores]:
        """``_verify`` with the index's verified pairs: a candidate pair of two texts verified
        before takes its overlap from there, the others are verified (all their scores kept,
        to be remembered); the scores are computed from overlaps and set sizes by the same
        expressions as ``verify.similarity``, so the accepted pairs and scores are the same."""
        n = len(self.info)
        idx = self.index
        assert idx is not None
        pairs = decode_pairs(codes, n)
        if any(len(k) != 16 for k in self.keys):
            raise DedupError("a text key is not 16 bytes")  # index.text_key: a sha256 prefix
        keys = np.frombuffer(b"".join(self.keys), dtype=np.uint8).reshape(len(self.keys), 16)
        pk = pair_keys(keys, pairs) if pairs.size else np.zeros((0, 32), np.uint8)
        stored, values = idx.load_pair_arrays()
        inter = lookup_pairs(stored, values, pk)
        todo = np.flatnonzero(inter < 0)
        if todo.size:
            files, offsets = tuple(o.sets for o in outs), tuple(o.offsets for o in outs)
            slices = codes[todo]
            jobs = [VerifyJob(files, offsets, slices[lo: lo + self.pairs_per_task], None)
                    for lo in range(0, slices.size, self.pairs_per_task)]
            found = list(self.map_fn(verify_task, jobs))
            if len(found) != len(jobs):
                raise DedupError(f"map_fn returned {len(found)} results for {len(jobs)} verification slices")
            inter[todo] = overlaps_of(PairScores.concat([f[1] for f in found]))
        idx.pairs_reused, idx.pairs_verified = int(codes.size - todo.size), int(todo.size)
        if todo.size or not np.array_equal(stored, pk):
            idx.save_pairs(pk, inter)
        sizes = np.concatenate([np.diff(o.offsets) for o in outs]) if outs else np.zeros(0, np.int64)
        scores = scores_from_overlaps(inter, sizes[pairs[:, 0]], sizes[pairs[:, 1]])
        ok = self.accept(scores)
        return codes[ok], scores.take(ok)

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


@dataclass
class _Batch:
    n: int  # documents in the batch
    misses: np.ndarray  # their positions whose rows are computed now (the job's texts, in order)
    job: SignatureJob | None
    pre: Location | None  # the other rows, from the index


def _save_rows(path: Location, hits: list[tuple[int, FileRows, int]], num_perm: int) -> None:
    """The rows of a batch's hits (position, the file's rows, row), gathered a file at a time."""
    positions = np.fromiter((p for p, _, _ in hits), dtype=np.int64, count=len(hits))
    hashes, sizes, sigs, sets, offsets = [], [], [], [], [np.zeros(1, np.int64)]
    end = 0
    for _, group in itertools.groupby(hits, key=lambda h: id(h[1])):  # consecutive hits of one file
        got = list(group)
        src = got[0][1]
        idx = np.fromiter((i for _, _, i in got), dtype=np.int64, count=len(got))
        hashes.append(src.hashes[idx])
        sizes.append(src.sizes[idx])
        sigs.append(src.sigs[:, idx])
        flat, off = gather_sets(src.sets, src.offsets, idx)
        sets.append(flat)
        offsets.append(off[1:] + end)
        end += int(off[-1])
    buf = io.BytesIO()
    np.savez(buf, positions=positions,
             hashes=np.concatenate(hashes) if hits else np.zeros(0, HASH_DTYPE),
             sizes=np.concatenate(sizes) if hits else np.zeros(0, np.int64),
             sigs=np.concatenate(sigs, axis=1) if hits else np.zeros((num_perm, 0), np.uint32),
             sets=np.concatenate(sets) if hits else np.zeros(0, np.uint64),
             offsets=np.concatenate(offsets))
    with scratch.open_file(path, "wb") as fh:
        fh.write(buf.getvalue())


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
