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

import copy
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
from cleancorpus.document import Document, Outcome
from cleancorpus.idkey import IdKey
from cleancorpus.incremental import Work, cached_partial_fit
from cleancorpus.ingest import InputFile, iter_documents
from cleancorpus.pipeline import Pipeline, RunResult, StageReport, guarded_partial_fit, read_documents, spill
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
        pipe = _with_fitted(_cached(config, {}), fitted) if fitted else Pipeline(config)
        _remember(key, pipe)
    return pipe


def _remember(key: tuple[str, str | None], pipe: Pipeline) -> None:
    _CACHE[key] = pipe
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


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


@dataclass
class PassResult:
    out: Location
    documents: int
    reports: dict[str, StageReport]
    rejected: list[Outcome]
    seconds: float
    work: Work = field(default_factory=Work)


def run_pass(job: PassJob, progress: Callable[[str, int], None] | None = None) -> PassResult:
    t0 = time.perf_counter()
    pipe = pipeline_for(job.config, job.fitted)
    if job.fail_fast:
        pipe = copy.copy(pipe)  # the cached pipeline is shared: only this copy lets errors escape
        pipe.fail_fast = True
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


@dataclass(frozen=True)
class FitResult:
    path: Location
    pickle_bytes: int
    fit_seconds: float
    pickle_seconds: float


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
    stats, skipped = cached_partial_fit(stage, docs, fit, job.cache, not job.full, done)
    with scratch.open_file(job.out, "wb") as fh:
        pickle.dump(stats, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return PartialFitResult(job.out, scratch.size(job.out), counted[0].n if counted else 0,
                            time.perf_counter() - t0, skipped, done)


MERGE_BATCH = 8  # statistics files loaded at once while merging: bounds the merge's memory


def merge_fit(job: FitJob) -> FitResult:
    """Merge the shards' statistics (``job.inputs`` are statistics files), finish a fresh
    stage with the total and pickle it for the workers. The statistics files are removed."""
    stage = _fresh(job.config, job.position)
    t0 = time.perf_counter()
    total = None
    for i in range(0, len(job.inputs), MERGE_BATCH):
        batch = [_load(p) for p in job.inputs[i:i + MERGE_BATCH]]
        total = stage.merge_stats(batch if total is None else [total, *batch])
    stage.finish_fit(total if total is not None else stage.partial_fit(()))
    t1 = time.perf_counter()
    with scratch.open_file(job.out, "wb") as fh:
        pickle.dump(stage, fh, protocol=pickle.HIGHEST_PROTOCOL)
    t2 = time.perf_counter()
    for p in job.inputs:
        scratch.remove(p)
    return FitResult(job.out, scratch.size(job.out), t1 - t0, t2 - t1)


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

    def one_pass(tag: str, segment: int | None) -> list[Location]:
        jobs = [PassJob(f"{tag}: shard {i + 1}/{len(sources)}", config, segment, src,
                        scratch.join(work_dir, f"{tag.replace(' ', '-')}-{i:05d}.jsonl"), dict(fitted), cache, full, fail_fast,
                        id_key=p.id_key)
                for i, src in enumerate(sources)]
        results = run_passes(jobs)
        for r in results:
            merge_reports(reports, r.reports)
            rejected.extend(r.rejected)
            done.merge(r.work)
        _remove(sources)  # the previous pass's spills are no longer needed
        return [r.out for r in results]

    for seg in segments(config):
        label = "+".join(seg.stages) or "no stages"
        if seg.needs_fit:
            if isinstance(sources[0], tuple):
                sources = one_pass("ingest", None)
            name = seg.stages[0]
            partials = run_partial_fits([
                PartialFitJob(f"count {name}: shard {i + 1}/{len(sources)}", config, seg.start, src,  # type: ignore[arg-type]
                              scratch.join(work_dir, f"stats-{seg.start}-{name}-{i:05d}.pickle"), cache, full, fail_fast)
                for i, src in enumerate(sources)])
            for r in partials:
                reports[name].fit_skipped.update(r.skipped)
                done.merge(r.work)
            job = FitJob(f"fit {name}", config, seg.start, tuple(r.path for r in partials),
                         scratch.join(work_dir, f"fitted-{seg.start}-{name}.pickle"))
            fitted[seg.start] = fit(job).path
        sources = one_pass(label if not isinstance(sources[0], tuple) else f"ingest+{label}", seg.index)
    final = gather(sources, scratch.join(work_dir, "documents.jsonl"))  # type: ignore[arg-type]
    _remove(sources)
    return RunResult(final, rejected, reports, reports["ingest"].seen, done)


def _remove(paths: Sequence[Shard | Location]) -> None:
    for p in paths:
        if not isinstance(p, tuple):  # a spill, not a shard of input files
            scratch.remove(p)
