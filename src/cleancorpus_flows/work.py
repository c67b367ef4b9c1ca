"""The flow's units of work as plain functions: no Prefect import here, so they can be tested
and timed without an orchestrator and reach Dask workers by reference (not by value).

A run is a chain of *passes*. Each pass maps shards (consecutive groups of input files) through
one segment of the pipeline, one spill file per shard. Between passes, a stage that needs the
corpus is fitted: one ``partial_fit`` per shard's spill (in parallel: each writes its small
statistics to a file), then one merge of those statistics and ``finish_fit``. The fitted stage
is shipped to the workers as a pickle *file*: each worker process loads it once, whatever the
number of shards it runs. Merged statistics equal the whole stream's, so the fitted stage is the
one a sequential ``Pipeline.run`` fits, whatever the sharding.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import hashlib
import itertools
import pickle
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from cleancorpus import scratch
from cleancorpus.api import Plan
from cleancorpus.config import Config
from cleancorpus.document import Document, Outcome, Rejection, Status
from cleancorpus.idkey import IdKey
from cleancorpus.incremental import (SAME, UNCACHEABLE, DocResult, LazyDocument, SegmentFiles, StageCache, Work,
                                     cached_partial_fit, delta_of, entry_form, ingest_tag, jsonable, line_digest,
                                     UnitStats, lines_units, load_fit_memo, merged_total, rebuilt, save_fit_memo,
                                     segment_dir, splice_parts, spliced, stage_fingerprint)
from cleancorpus.ingest import InputFile, file_digest, iter_documents
from cleancorpus.records import decode_record, encode_record
from cleancorpus.pipeline import (BATCH_CHARS, BATCH_DOCS, Pipeline, RunResult, StageReport, guarded_partial_fit,
                                  read_documents, spill)
from cleancorpus.scratch import Location
from cleancorpus.stages import REGISTRY, Stage

Shard = tuple[InputFile, ...]


@dataclass(frozen=True)
class Segment:
    index: int
    start: int  # position of the segment's first stage in config.stages
    stages: tuple[str, ...]
    needs_fit: bool


def segments(config: Config) -> list[Segment]:
    """The pipeline's segments from the stage classes alone (no stage is built: some load
    dictionaries), cut exactly where ``Pipeline.segments`` cuts."""
    out: list[Segment] = []
    for i, name in enumerate(config.stages):
        if not out or REGISTRY[name].needs_corpus:
            out.append(Segment(len(out), i, (name,), REGISTRY[name].needs_corpus))
        else:
            last = out[-1]
            out[-1] = Segment(last.index, last.start, last.stages + (name,), last.needs_fit)
    return out or [Segment(0, 0, (), False)]


def new_reports(config: Config) -> dict[str, StageReport]:
    """The same keys, in the same order, as ``Pipeline.new_reports``."""
    return {name: StageReport(name) for name in ("ingest", *config.stages)}


def plan_shards(files: Sequence[InputFile], inputs: Sequence[dict[str, Any]],
                shard_bytes: int, max_shards: int) -> list[Shard]:
    """Consecutive groups of input files of about ``shard_bytes`` each (fewer, larger groups
    when that would make more than ``max_shards``), so order is kept and task count bounded."""
    if shard_bytes <= 0 or max_shards <= 0:
        raise ValueError("shard_bytes and max_shards must be positive")
    sizes = {item["path"]: int(item.get("bytes", 0)) for item in inputs}
    total = sum(sizes.get(f.relpath, 0) for f in files)
    target = max(shard_bytes, -(-total // max_shards))
    shards: list[Shard] = []
    current: list[InputFile] = []
    filled = 0
    for f in files:
        current.append(f)
        filled += sizes.get(f.relpath, 0)
        if filled >= target:
            shards.append(tuple(current))
            current, filled = [], 0
    if current or not shards:
        shards.append(tuple(current))
    return shards


# -- per-process cache of built pipelines ---------------------------------------------------
# Building the stages may load dictionaries; unpickling a fitted stage may cost more. Both are
# done once per worker process and reused by every shard it runs. Bounded, so a long-lived
# worker (a Dask cluster, a `serve` process) does not grow with every run.
_CACHE: OrderedDict[tuple[str, str | None], Pipeline] = OrderedDict()
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def pipeline_for(config: Config, fitted: dict[int, Location] | None = None) -> Pipeline:
    """A pipeline for ``config`` whose corpus stages are the fitted ones pickled at ``fitted``
    (keyed by position in config.stages)."""
    with _CACHE_LOCK:
        return _cached(config, fitted or {})


def _cached(config: Config, fitted: dict[int, Location]) -> Pipeline:
    key = (config.fingerprint(), repr(sorted((i, str(p)) for i, p in fitted.items())) if fitted else None)
    pipe = _CACHE.get(key)
    if pipe is None:
        # built with the collector paused: the dictionaries and a fitted stage's statistics
        # are millions of objects that all stay alive, so its collections while they are made
        # only cost (measured: symspellpy's index 2.8 -> 2.1 s)
        with _collector_paused():
            pipe = _with_fitted(_cached(config, {}), fitted) if fitted else Pipeline(config)
        _remember(key, pipe)
        # A pipeline's stages (lexicons, a fitted stage's statistics: millions of objects at
        # 100,000 documents) live as long as it is cached: out of the collector's reach, so
        # that its full collections during a pass scan only the pass's own objects (measured,
        # an add step at 30,000 documents: 1.75 -> 0.77 s of full collections).
        gc.freeze()
    return pipe


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _remember(key: tuple[str, str | None], pipe: Pipeline) -> None:
    _CACHE[key] = pipe
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
        gc.unfreeze()  # what the evicted pipeline held is collectable again (a long-lived worker)


def _with_fitted(base: Pipeline, fitted: dict[int, Location]) -> Pipeline:
    pipe = copy.copy(base)  # shares the unfitted stages; only the stage list is new
    pipe.stages = list(base.stages)
    for position, path in fitted.items():
        with scratch.open_file(path, "rb") as fh:
            pipe.stages[position] = pickle.load(fh)
    return pipe


# -- a pass over one shard -------------------------------------------------------------------
@dataclass(frozen=True)
class PassJob:
    label: str  # the task run's name in the Prefect UI
    config: Config
    segment: int | None  # None: ingest only (the first segment must be fitted first)
    source: Shard | Location  # raw files (a tuple) for the first pass, else the previous pass's spill
    out: Location
    fitted: dict[int, Location] = field(default_factory=dict)
    cache: str | None = None  # the store whose per-document results may be reused
    full: bool = False  # recompute everything (the cache is refreshed, not read)
    fail_fast: bool = False  # a reader's or stage's exception escapes (debugging, local runs)
    id_key: IdKey | None = None  # the store's key, from the plan: ingest keys the ids with it (idkey.py)
    layout: Layout | None = None  # a spill source's lines per input file, in order


Layout = tuple[tuple[str, int], ...]  # (input file, lines) of a spill, in order


@dataclass
class PassResult:
    out: Location
    documents: int
    reports: dict[str, StageReport]
    rejected: list[Outcome]
    seconds: float
    work: Work = field(default_factory=Work)
    layout: Layout | None = None  # the output spill's lines per input file


def run_pass(job: PassJob, progress: Callable[[str, int], None] | None = None) -> PassResult:
    t0 = time.perf_counter()
    pipe = pipeline_for(job.config, job.fitted)
    if job.fail_fast:
        pipe = copy.copy(pipe)  # the cached pipeline is shared: only this copy lets errors escape
        pipe.fail_fast = True
    if job.cache is not None and (isinstance(job.source, tuple) or job.layout is not None):
        return _run_pass_by_file(job, pipe, progress, t0)
    reports = new_reports(job.config)
    rejected: list[Outcome] = []
    if not isinstance(job.source, tuple):  # a spill
        docs: Iterator[Document] = read_documents(job.source)
    else:
        raw = iter_documents(list(job.source), job.config.limits, job.fail_fast, fields=job.config.input,
                             id_key=job.id_key)
        docs = pipe.admit(raw, reports, rejected)
    cache = None
    if job.segment is not None:
        cache = pipe.segment_cache(job.segment, job.cache, not job.full)
        docs = pipe.apply_segment(job.segment, docs, reports, rejected, cache)
    counted = _Counter(docs)
    spill(counted, job.out, progress, job.label.split(":")[0])
    return PassResult(job.out, counted.n, reports, rejected, time.perf_counter() - t0,
                      cache.work if cache is not None else Work())


def _run_pass_by_file(job: PassJob, pipe: Pipeline, progress: Callable[[str, int], None] | None,
                      t0: float) -> PassResult:
    """``run_pass`` one input file at a time with the segment's stored results
    (incremental.SegmentFiles): a document whose input line is unchanged and whose head's reads
    still hold is copied from its entry, the others go through the stages. Byte for byte the
    spill, reports and rejections of the plain pass."""
    seg = pipe.segments[job.segment] if job.segment is not None else []
    head = seg[0] if seg else None
    ticks = [0]  # lines written since the progress callback was last told (once per input file)

    def told() -> None:
        if progress and ticks[0]:
            progress(job.label.split(":")[0], ticks[0])
        ticks[0] = 0

    raw = isinstance(job.source, tuple)
    fps = [stage_fingerprint(s) for s in seg]
    form = entry_form(job.config, segments(job.config)[job.segment].start if job.segment is not None else 0)
    entries = SegmentFiles(job.cache, segment_dir(form + (ingest_tag(job.config) if raw else ""), fps),  # type: ignore[arg-type]
                           read=not job.full)
    later = StageCache(job.cache, seg[1:], not job.full) if len(seg) > 1 else None  # type: ignore[arg-type]
    reports = new_reports(job.config)
    rejected: list[Outcome] = []
    work = Work()
    layout: list[tuple[str, int]] = []
    total = 0

    paths: dict[tuple[int, ...], int] = {}  # the stored results' paths (edits per stage), counted

    def count_paths() -> None:
        """The reports and reuse counts of the results emitted from entries: one update per
        distinct path and stage, not one per document (the sums are the same)."""
        for path, k in paths.items():
            for stage, n in zip(seg, path):
                rep = reports[stage.name]
                rep.seen += k
                if n:
                    rep.changed += k
                    rep.edits += n * k
                work.reused[stage.name] = work.reused.get(stage.name, 0) + k
        paths.clear()

    with scratch.open_file(job.out, "wb") as out:
        lines_out = _LineBuffer(out)
        put = lines_out.put

        def emit(r: DocResult, line: bytes, get: Callable[[], Document]) -> int:
            paths[r.path] = paths.get(r.path, 0) + 1
            if r.rejected is not None:
                stage = seg[len(r.path)]
                reports[stage.name].seen += 1
                reports[stage.name].rejected[r.rejected["reason"]] += 1
                work.reused[stage.name] = work.reused.get(stage.name, 0) + 1
                rejected.append(Outcome.from_dict(r.rejected["outcome"]))
                return 0
            if form == "line":
                put(r.out)
            elif r.out is SAME:  # the segment left the line as it was: no parse, no rebuild
                put(line)
            elif form == "splice":
                put(spliced(line, r.out))
            else:
                put(encode_record(rebuilt(get(), r.out)))
            ticks[0] += 1
            return 1

        class _Job:
            """One document on its way through the segment (``compute``), and what its result
            records: the edits each stage added, the head's reads, whether it can be stored."""

            def __init__(self, doc: Document, digest: bytes, in_line: bytes) -> None:
                self.doc, self.digest, self.in_line = doc, digest, in_line
                self.now: Document | Rejection = doc  # after the segment (``compute``)
                self.path: list[int] = []
                self.edits, self.reads, self.ok = len(doc.edits), None, True

            def observe(self, stage, result, reads, reused) -> None:
                counts = work.reused if reused else work.recomputed
                counts[stage.name] = counts.get(stage.name, 0) + 1
                if reads is UNCACHEABLE:
                    self.ok = False
                elif stage is head and not reused:
                    self.reads = jsonable(reads)
                    self.ok = self.ok and self.reads is not UNCACHEABLE
                if not isinstance(result, Rejection):
                    self.path.append(len(result.edits) - self.edits)
                    self.edits = len(result.edits)

        def compute(jobs: list[_Job]) -> None:
            """The documents through the segment, a stage at a time over all of them."""
            outs = pipe._through_batch([j.doc for j in jobs], seg, reports, later, [j.observe for j in jobs])
            for job, out in zip(jobs, outs):
                job.now = out

        def finish(job: _Job) -> tuple[DocResult | None, int]:
            """A computed document's line written (or its rejection recorded), and its result to
            store (None: not storable)."""
            doc, digest, in_line, result = job.doc, job.digest, job.in_line, job.now
            if isinstance(result, Rejection):
                o = Outcome(doc.id, doc.source, Status.REJECTED, reason=str(result))
                rejected.append(o)
                r = DocResult(digest, None, job.reads, tuple(job.path),
                              {"stage": result.stage, "reason": result.reason, "outcome": o.to_dict()})
                return (r if job.ok else None), 0
            line = encode_record(result)
            put(line)
            ticks[0] += 1
            kept: Any = (line if form == "line" else SAME if line == in_line
                         else splice_parts(in_line, line) if form == "splice" else delta_of(doc, result))
            if form == "delta" and kept is not None and kept is not SAME and encode_record(rebuilt(doc, kept)) != line:
                kept = None  # not rebuilt byte for byte: not stored
            ok = job.ok and kept is not None
            return (DocResult(digest, kept, job.reads, tuple(job.path)) if ok else None), 1

        def miss(r: DocResult, line: bytes | None) -> str | None:
            """Why the stored result no longer holds (the first read that moved), or None."""
            if head is None or not head.needs_corpus:
                return None
            return head.miss_cause(r.reads, LazyDocument(line) if line is not None else None)

        def one_file(relpath: str, key: str | None, stored: dict[str, Any] | None,
                     docs: Iterator[tuple[bytes, bytes, Callable[[], Document]]]) -> int:
            """Every document of one input file: (digest of its input line, the line or None,
            the document) in order; returns the lines written. The entry is rewritten when
            something was recomputed."""
            by_digest = {r.digest: r for r in stored["docs"]} if stored else {}
            # the stored results that hold without a look at their documents (Stage.affected)
            may = (head.affected([r.reads for r in stored["docs"]])
                   if stored and head is not None and head.needs_corpus else None)
            held = set() if may is None else {r.digest for i, r in enumerate(stored["docs"])
                                              if i not in may and by_digest[r.digest] is r}  # (the one used)
            results: list[DocResult] = []
            written, changed, storable = 0, False, key is not None
            pending: list[_Job] = []  # documents to compute together (``batched``)
            size = 0

            def settle() -> None:
                nonlocal written, storable, size
                if pending:
                    compute(pending)
                for job in pending:
                    new, n = finish(job)
                    written += n
                    if new is None:
                        storable = False
                    else:
                        results.append(new)
                pending.clear()
                size = 0

            for digest, line, get in docs:
                r = by_digest.get(digest)
                why = (("input" if entries.read else "full run") if r is None
                       else None if digest in held else miss(r, line))
                if why is None:
                    settle()  # the documents before it first: lines and results stay in order
                    written += emit(r, line, get)
                    results.append(r)
                    if later is not None:
                        later.partial(relpath)
                    continue
                if head is not None:
                    work.cause(head.name, why)
                changed = True
                doc = get()
                pending.append(_Job(doc, digest, line))
                size += len(doc.text)
                if not batched or len(pending) >= BATCH_DOCS or size >= BATCH_CHARS:
                    settle()
            settle()
            # rewritten only when what it holds changed (a recomputed document may get the same
            # result and reads again)
            k = key if storable else None
            same = stored is not None and stored.get("key") == k and (not changed or results == stored["docs"])
            entries_to_save.append((relpath, k, results, same))
            return written

        entries_to_save: list[tuple[str, str | None, list[DocResult], bool]] = []
        # several stages after a spill: documents to compute go through them in batches, a stage at
        # a time (not from raw files: ingest's rejections, appended as lines are read, would
        # come before those of the documents held back)
        batched = len(seg) > 1 and not raw
        if raw:
            for f in job.source:  # type: ignore[union-attr]
                try:
                    # the ids depend on the store's id key: its fingerprint is part of the key
                    key = _sha(ingest_tag(job.config) + "\0" + (job.id_key.fingerprint if job.id_key else "") + "\0"
                               + (f"problem:{f.problem}" if f.problem else file_digest(f)))
                except OSError:
                    key = None
                stored = entries.load(f.relpath) if key is not None else None
                if form == "line" and stored is not None and stored.get("key") == key and "ingest" in stored and all(
                        miss(r, None) is None for r in stored["docs"]):
                    _add_report(reports["ingest"], stored["ingest"]["report"])
                    gone = iter(stored["ingest"]["rejected"])  # (documents admitted before it, outcome)
                    nxt = next(gone, None)
                    n = 0
                    for i, r in enumerate([*stored["docs"], None]):
                        while nxt is not None and nxt[0] == i:
                            rejected.append(Outcome.from_dict(nxt[1]))
                            nxt = next(gone, None)
                        if r is not None:
                            n += emit(r, b"", _no_document)
                    layout.append((f.relpath, n))
                    total += n
                    told()
                    continue
                ingest = {"ingest": StageReport("ingest")}
                tap = _Tap(rejected)
                items = iter_documents([f], job.config.limits, job.fail_fast, fields=job.config.input,
                                       id_key=job.id_key)

                def admitted(items=items, ingest=ingest, tap=tap):
                    for doc in pipe.admit(items, ingest, tap):
                        line = encode_record(doc)
                        tap.admitted += 1
                        yield line_digest(line), line, (lambda doc=doc: doc)

                n = one_file(f.relpath, key, stored, admitted())
                reports["ingest"].merge(ingest["ingest"])
                rel, k, results, same = entries_to_save.pop()
                extra = {"ingest": {"report": _report_dict(ingest["ingest"]), "rejected": tap.positions}}
                if not (same and stored is not None and stored.get("ingest") == extra["ingest"]):
                    entries.save(rel, k, results, extra)
                layout.append((f.relpath, n))
                total += n
                told()
        else:
            with scratch.open_file(job.source, "rb") as src:  # type: ignore[arg-type]
                for relpath, count in job.layout:  # type: ignore[union-attr]
                    lines = [src.readline()[:-1] for _ in range(count)]
                    h = hashlib.sha256()
                    for ln in lines:
                        h.update(ln)
                        h.update(b"\n")
                    key = h.hexdigest()
                    stored = entries.load(relpath)
                    if stored is not None and stored.get("key") == key and len(stored["docs"]) == count:
                        digests: list[bytes] = [r.digest for r in stored["docs"]]  # the same lines
                    else:
                        digests = [line_digest(ln) for ln in lines]
                    n = one_file(relpath, key, stored, (
                        (d, ln, (lambda ln=ln: decode_record(ln)))
                        for d, ln in zip(digests, lines)))
                    rel, k, results, same = entries_to_save.pop()
                    if not same:
                        entries.save(rel, k, results)
                    layout.append((relpath, n))
                    total += n
                    told()
        lines_out.flush()
    count_paths()
    if later is not None:
        later.flush()
    return PassResult(job.out, total, reports, rejected, time.perf_counter() - t0, work, tuple(layout))


class _LineBuffer:
    """A spill's lines gathered and written about a megabyte at a time (measured: two write
    calls per line, the line and its newline, were 1.6 of 46 profiled seconds of an add step's
    passes at 30,000 documents)."""

    def __init__(self, out: Any) -> None:
        self.out, self.parts, self.size = out, [], 0

    def put(self, line: bytes) -> None:
        self.parts.append(line)
        self.size += len(line)
        if self.size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.parts.append(b"")  # the last line's newline
            self.out.write(b"\n".join(self.parts))
            self.parts, self.size = [], 0


class _Tap:
    """Ingest's rejections of one file, appended to the pass's in order (among the stages'),
    each with the number of documents admitted before it: what a stored file replays."""

    def __init__(self, into: list[Outcome]) -> None:
        self.into, self.admitted = into, 0
        self.positions: list[tuple[int, dict[str, Any]]] = []

    def append(self, o: Outcome) -> None:
        self.into.append(o)
        self.positions.append((self.admitted, o.to_dict()))


def _no_document() -> Document:
    raise AssertionError("a whole stored file of line entries needs no document")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _report_dict(rep: StageReport) -> dict[str, Any]:
    return {"seen": rep.seen, "changed": rep.changed, "edits": rep.edits,
            "rejected": dict(rep.rejected), "skipped": dict(rep.skipped)}


def _add_report(rep: StageReport, d: dict[str, Any]) -> None:
    rep.seen += d["seen"]
    rep.changed += d["changed"]
    rep.edits += d["edits"]
    rep.rejected.update(d["rejected"])
    rep.skipped.update(d["skipped"])


class _Counter:
    def __init__(self, docs: Iterator[Document]) -> None:
        self.docs, self.n = docs, 0

    def __iter__(self) -> Iterator[Document]:
        for doc in self.docs:
            self.n += 1
            yield doc


# -- fitting a corpus stage ------------------------------------------------------------------
@dataclass(frozen=True)
class FitJob:
    label: str
    config: Config
    position: int  # of the stage in config.stages
    inputs: tuple[Location, ...]  # every shard's spill, in input order
    out: Location
    cache: str | None = None  # the store whose fit memo (``take_fit_memo``) the fit may reuse
    full: bool = False


@dataclass(frozen=True)
class FitResult:
    path: Location
    pickle_bytes: int
    fit_seconds: float
    pickle_seconds: float
    # the documents the fit skipped, when the shards' results did not give them all (None: they did)
    skipped: dict[str, str] | None = None
    need_groups: bool = False  # nothing fitted: run the partial fits again with use_total=False


def fit_stage(job: FitJob) -> FitResult:
    """Fit a fresh instance of the stage on the whole corpus (``job.inputs`` are spills), in
    one process, and pickle it for the workers: what the per-shard partial fits and
    ``merge_fit`` compute in parallel."""
    stage = _fresh(job.config, job.position)
    t0 = time.perf_counter()
    stage.fit(itertools.chain.from_iterable(read_documents(p) for p in job.inputs))
    t1 = time.perf_counter()
    with scratch.open_file(job.out, "wb") as fh:
        pickle.dump(stage, fh, protocol=pickle.HIGHEST_PROTOCOL)
    t2 = time.perf_counter()
    return FitResult(job.out, scratch.size(job.out), t1 - t0, t2 - t1)


@dataclass(frozen=True)
class PartialFitJob:
    label: str
    config: Config
    position: int  # of the stage in config.stages
    source: Location  # one shard's spill
    out: Location  # where its pickled statistics go
    cache: str | None = None
    full: bool = False
    fail_fast: bool = False
    layout: Layout | None = None  # the spill's lines per input file: unchanged chunks are not parsed
    use_total: bool = True  # units the stored total holds come without statistics (lines_units)


@dataclass(frozen=True)
class PartialFitResult:
    path: Location
    stats_bytes: int
    documents: int
    seconds: float
    skipped: dict[str, str] = field(default_factory=dict)  # documents the fit failed on
    work: Work = field(default_factory=Work)


def partial_fit(job: PartialFitJob) -> PartialFitResult:
    """One shard's statistics for a corpus stage, pickled to a file (not returned: the flow
    process need not hold every shard's statistics at once)."""
    t0 = time.perf_counter()
    stage = _fresh(job.config, job.position)
    counted: list[_Counter] = []

    def docs() -> _Counter:
        counted[:] = [_Counter(read_documents(job.source))]
        return counted[0]

    def fit(d):
        return guarded_partial_fit(stage, d, job.config.limits.max_stage_seconds, job.fail_fast)

    done = Work()
    if job.cache is not None and job.layout is not None:
        # by unit of documents: merge_fit updates the stored total with the units that changed
        grouped = lines_units(stage, _file_lines(job.source, job.layout), fit, job.cache, not job.full, done,
                               use_total=job.use_total)
        n = sum(c for _, c in job.layout)
        with scratch.open_file(job.out, "wb") as fh:
            pickle.dump(grouped, fh, protocol=pickle.HIGHEST_PROTOCOL)
        skipped = {k: v for u in grouped.units if u[3] is not None for k, v in u[3].items()}
        return PartialFitResult(job.out, scratch.size(job.out), n, time.perf_counter() - t0, skipped, done)
    stats, skipped = cached_partial_fit(stage, docs, fit, job.cache, not job.full, done)
    with scratch.open_file(job.out, "wb") as fh:
        pickle.dump(stats, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return PartialFitResult(job.out, scratch.size(job.out), counted[0].n if counted else 0,
                            time.perf_counter() - t0, skipped, done)


def _file_lines(path: Location, layout: Layout) -> Iterator[tuple[str, list[bytes]]]:
    """A spill's lines (without the newline), one input file's at a time."""
    with scratch.open_file(path, "rb") as fh:
        for relpath, count in layout:
            yield relpath, [fh.readline()[:-1] for _ in range(count)]


MERGE_BATCH = 8  # statistics files loaded at once while merging: bounds the merge's memory


def merge_fit(job: FitJob) -> FitResult:
    """Merge the shards' statistics (``job.inputs`` are statistics files), finish a fresh
    stage with the total and pickle it for the workers. The statistics files are removed."""
    stage = _fresh(job.config, job.position)
    t0 = time.perf_counter()
    got: tuple[Any, dict[str, str] | None] | None = (None, None)
    first = _load(job.inputs[0]) if job.inputs else None
    if isinstance(first, UnitStats):  # lines_units': the stored total, updated
        shards = [first, *(_load(p) for p in job.inputs[1:])]  # (the units' statistics: each shard's change only)
        if all(isinstance(s, UnitStats) for s in shards):
            got = merged_total(stage, shards, job.cache, not job.full)
        elif any(isinstance(s, UnitStats) and any(u[2] is None for u in s.units) for s in shards):
            got = None  # units the total holds, but no total to take them from
        else:  # both kinds: merged, no total kept
            got = stage.merge_stats([_shard_stats(stage, s) for s in shards]), None
        del shards, first
    else:  # partial fits' statistics: merged a few files at a time
        del first
        total = None
        for i in range(0, len(job.inputs), MERGE_BATCH):
            batch = [_load(p) for p in job.inputs[i:i + MERGE_BATCH]]
            if any(isinstance(b, UnitStats) and any(u[2] is None for u in b.units) for b in batch):
                got = None
                break
            batch = [_shard_stats(stage, b) for b in batch]
            total = stage.merge_stats(batch if total is None else [total, *batch])
            got = total, None
    if got is None:  # the stored total could not be used: the shards are asked for every unit
        for p in job.inputs:
            scratch.remove(p)
        return FitResult(job.out, 0, time.perf_counter() - t0, 0.0, need_groups=True)
    total, skipped = got
    memo = job.cache is not None and hasattr(stage, "take_fit_memo")
    if memo:
        stage.fit_memo = {} if job.full else load_fit_memo(job.cache, stage)  # type: ignore[arg-type]
    stage.finish_fit(total if total is not None else stage.partial_fit(()))
    if memo:
        save_fit_memo(job.cache, stage, stage.take_fit_memo())  # type: ignore[arg-type]
    t1 = time.perf_counter()
    with scratch.open_file(job.out, "wb") as fh:
        pickle.dump(stage, fh, protocol=pickle.HIGHEST_PROTOCOL)
    t2 = time.perf_counter()
    for p in job.inputs:
        scratch.remove(p)
    return FitResult(job.out, scratch.size(job.out), t1 - t0, t2 - t1, skipped=skipped)


def _shard_stats(stage: Stage, got: Any) -> Any:
    """A shard's statistics: a partial fit's, or the merge of a ``UnitStats``'s units."""
    if not isinstance(got, UnitStats):
        return got
    return got.merged if got.merged is not None else stage.merge_stats([u[2] for u in got.units])


def _fresh(config: Config, position: int) -> Stage:
    """A new instance of a corpus stage: never the cached one other shards may be applying."""
    base: Stage = pipeline_for(config).stages[position]
    return type(base)(base.options)


def _load(path: Location) -> Any:
    with scratch.open_file(path, "rb") as fh:
        return pickle.load(fh)


def concatenate(parts: Sequence[Location], out: Location) -> Location:
    """One spill file from the shards' spills, in order: byte for byte what a sequential run
    spills, since each shard wrote its documents the same way."""
    with scratch.open_file(out, "wb") as dst:
        for part in parts:
            with scratch.open_file(part, "rb") as src:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    return out


def merge_reports(total: dict[str, StageReport], part: dict[str, StageReport]) -> None:
    for name, rep in part.items():
        total.setdefault(name, StageReport(name)).merge(rep)


def apply_chunk(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """One task's share of a dedup pass: ``fn`` over a few of the batches ``map_fn`` got."""
    return [fn(item) for item in items]


def chunks(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """At most ``parts`` consecutive, near-equal chunks (order kept)."""
    n = len(items)
    parts = max(1, min(parts, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [list(items[bounds[i]:bounds[i + 1]]) for i in range(parts)]


# -- the whole per-document part of a run ----------------------------------------------------
def run_stages(
    p: Plan,
    work_dir: Location,
    shard_bytes: int,
    max_shards: int,
    run_passes: Callable[[list[PassJob]], list[PassResult]] | None = None,
    fit: Callable[[FitJob], FitResult] = merge_fit,
    gather: Callable[[list[Location], Location], Location] = concatenate,
    run_partial_fits: Callable[[list[PartialFitJob]], list[PartialFitResult]] = (
        lambda jobs: [partial_fit(j) for j in jobs]),
    full: bool = False,
    fail_fast: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> RunResult:
    """Every segment over every shard, fitting corpus stages in between: what
    ``Pipeline.run`` does, cut into independent jobs. The flow passes executors that submit
    tasks; the defaults run here, one job after another. A corpus stage is fitted by one
    partial fit per shard and one ``fit`` (merge) of their statistics."""
    if run_passes is None:  # here, one job after another (``cleancorpus clean``)
        def run_passes(jobs: list[PassJob]) -> list[PassResult]:
            return [run_pass(j, progress) for j in jobs]
    config = p.config
    reports = new_reports(config)
    rejected: list[Outcome] = []
    sources: list[Shard | Location] = list(plan_shards(p.files, p.inputs, shard_bytes, max_shards))
    fitted: dict[int, Location] = {}
    cache = str(p.store.root)
    done = Work()

    layouts: list[Layout | None] = [None] * len(sources)

    def one_pass(tag: str, segment: int | None) -> list[Location]:
        jobs = [PassJob(f"{tag}: shard {i + 1}/{len(sources)}", config, segment, src,
                        scratch.join(work_dir, f"{tag.replace(' ', '-')}-{i:05d}.jsonl"), dict(fitted), cache, full, fail_fast,
                        id_key=p.id_key, layout=layouts[i])
                for i, src in enumerate(sources)]
        results = run_passes(jobs)
        for r in results:
            merge_reports(reports, r.reports)
            rejected.extend(r.rejected)
            done.merge(r.work)
        _remove(sources)  # the previous pass's spills are no longer needed
        layouts[:] = [r.layout for r in results]
        return [r.out for r in results]

    for seg in segments(config):
        label = "+".join(seg.stages) or "no stages"
        if seg.needs_fit:
            if isinstance(sources[0], tuple):
                sources = one_pass("ingest", None)
            name = seg.stages[0]
            for use_total in (True, False):
                partials = run_partial_fits([
                    PartialFitJob(f"count {name}: shard {i + 1}/{len(sources)}", config, seg.start, src,  # type: ignore[arg-type]
                                  scratch.join(work_dir, f"stats-{seg.start}-{name}-{i:05d}.pickle"), cache, full,
                                  fail_fast, layouts[i], use_total)
                    for i, src in enumerate(sources)])
                job = FitJob(f"fit {name}", config, seg.start, tuple(r.path for r in partials),
                             scratch.join(work_dir, f"fitted-{seg.start}-{name}.pickle"), cache, full)
                fitted_result = fit(job)
                if not fitted_result.need_groups:
                    break
            for r in partials:
                reports[name].fit_skipped.update(r.skipped)
                done.merge(r.work)
            if fitted_result.skipped is not None:  # with those of the groups the stored total held
                reports[name].fit_skipped.update(fitted_result.skipped)
            fitted[seg.start] = fitted_result.path
        sources = one_pass(label if not isinstance(sources[0], tuple) else f"ingest+{label}", seg.index)
    final = gather(sources, scratch.join(work_dir, "documents.jsonl"))  # type: ignore[arg-type]
    _remove(sources)
    layout = (tuple(item for lay in layouts for item in lay)  # type: ignore[union-attr]
              if all(lay is not None for lay in layouts) else None)
    return RunResult(final, rejected, reports, reports["ingest"].seen, done, layout)


def _remove(paths: Sequence[Shard | Location]) -> None:
    for p in paths:
        if not isinstance(p, tuple):  # a spill, not a shard of input files
            scratch.remove(p)
