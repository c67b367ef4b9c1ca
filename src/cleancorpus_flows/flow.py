"""The Prefect flow: the same run as ``cleancorpus clean``, in tasks a user can follow in the UI.

Task grain (see the measurements in bench/README.md): one task per shard of input files per
pipeline segment, one per shard and one merge per corpus fit, at most ``MAX_DEDUP_TASKS`` per dedup pass, and one for
the store write. Per-document or per-batch tasks would spend more in Prefect than in cleaning.
Only the I/O tasks (reading the inputs' digests, gathering spills, writing the version) retry:
a stage that fails on a document already turns it into a recorded rejection.
"""

from __future__ import annotations

import dataclasses

from .env import apply_defaults

apply_defaults()  # before Prefect is imported; keeps values the caller already set

import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Sequence  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from cleancorpus import api  # noqa: E402
from cleancorpus.config import Config  # noqa: E402
from cleancorpus.dedup import DedupResult  # noqa: E402
from cleancorpus.pipeline import RunResult  # noqa: E402

from . import work  # noqa: E402

FLOW_NAME = "clean-corpus"
MAX_DEDUP_TASKS = 16
WORKERS_ENV = "CLEANCORPUS_FLOW_WORKERS"
DASK_ADDRESS_ENV = "CLEANCORPUS_DASK_ADDRESS"


def task_runner(workers: int | None = None, address: str | None = None,
                local_directory: str | os.PathLike | None = None):
    """Threads by default (one at a time: stages are CPU-bound and the GIL would serialise them
    anyway); ``address``: an existing Dask cluster; ``workers``: a local Dask cluster."""
    if workers is not None and address:
        raise ValueError("give either a number of local Dask workers or a Dask address, not both")
    if workers is not None and workers < 1:
        raise ValueError(f"the number of Dask workers must be at least 1, not {workers}")
    if not address and workers is None:
        return ThreadPoolTaskRunner(max_workers=1)
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    local = Path(local_directory or Path.cwd() / ".dask").resolve()
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                        "dashboard_address": None, "local_directory": str(local)},
    )


def _runner_from_env():
    """How a served or work-pool run (which imports this module afresh) picks its runner."""
    workers = os.environ.get(WORKERS_ENV)
    return task_runner(int(workers) if workers else None, os.environ.get(DASK_ADDRESS_ENV) or None)


@task(name="plan inputs", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def plan_inputs(raw_dir: str, out_dir: str, config: Config, private_out: str | None = None,
                id_key: str | None = None) -> api.Plan:
    return api.plan(raw_dir, out_dir, config, private_out, id_key)


@task(name="clean shard", task_run_name="{label}", cache_policy=NO_CACHE)
def clean_shard(label: str, job: work.PassJob) -> work.PassResult:
    return work.run_pass(job)


@task(name="count shard", task_run_name="{label}", cache_policy=NO_CACHE)
def count_shard(label: str, job: work.PartialFitJob) -> work.PartialFitResult:
    return work.partial_fit(job)


@task(name="fit stage", task_run_name="{label}", cache_policy=NO_CACHE)
def fit_stage(label: str, job: work.FitJob) -> work.FitResult:
    return work.merge_fit(job)


@task(name="gather documents", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def gather(parts: list[Path], out: Path) -> Path:
    return work.concatenate(parts, out)


@task(name="dedup pass", task_run_name="{label}", cache_policy=NO_CACHE)
def dedup_chunk(label: str, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return work.apply_chunk(fn, items)


@task(name="write version", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def write_version(p: api.Plan, run: RunResult, dd: DedupResult, full: bool = False) -> str:
    return api.publish(p, run, dd, full=full).id


def task_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """The dedup ``map_fn``: the batches split over a bounded number of tasks, results in order.
    Arguments are a few small job records (paths, arrays), cheap for Prefect to inspect; not
    wrapped in ``quote``, which Dask unpacks into a bare tuple on the way to the worker."""
    parts = work.chunks(list(items), MAX_DEDUP_TASKS)
    if not parts or not parts[0]:
        return []
    name = getattr(fn, "__name__", "map").strip("_")
    futures = [dedup_chunk.submit(f"{name} {i + 1}/{len(parts)}", fn, part)
               for i, part in enumerate(parts)]
    return [out for f in futures for out in f.result()]


def _run_passes(jobs: list[work.PassJob]) -> list[work.PassResult]:
    futures = [clean_shard.submit(j.label, j) for j in jobs]
    return [f.result() for f in futures]


def _partial_fits(jobs: list[work.PartialFitJob]) -> list[work.PartialFitResult]:
    futures = [count_shard.submit(j.label, j) for j in jobs]
    results = [f.result() for f in futures]
    get_run_logger().info("%s: %d shards, %.2f s of counting, %d bytes of statistics",
                          jobs[0].label.split(":")[0], len(results), sum(r.seconds for r in results),
                          sum(r.stats_bytes for r in results))
    return results


def _fit(job: work.FitJob) -> work.FitResult:
    fit = fit_stage.submit(job.label, job).result()
    get_run_logger().info("%s: pickle %d bytes, merge and finish %.2f s, pickling %.3f s",
                          job.label, fit.pickle_bytes, fit.fit_seconds, fit.pickle_seconds)
    return fit


@flow(name=FLOW_NAME, task_runner=_runner_from_env(), validate_parameters=True)
def clean_corpus(
    raw_dir: str = "raw",
    out_dir: str = "clean",
    config_path: str | None = None,
    shard_mb: float = 8.0,
    max_shards: int = 256,
    lock_timeout: float = 600.0,
    text_field: str | None = None,
    id_field: str | None = None,
    scratch_dir: str | None = None,
    full: bool = False,
    private_out: str | None = None,
    id_key: str | None = None,
) -> str:
    """Build a new version of the corpus from RAW_DIR into OUT_DIR; returns the version id.
    RAW_DIR and OUT_DIR may be s3:// prefixes. The run's scratch files (spills, fitted stages,
    dedup shingle sets) go under SCRATCH_DIR, which every worker must reach: a local or shared
    directory, or an s3:// prefix (workers on several machines then need no shared filesystem);
    default: inside a local store, else the system's temporary directory. Removed after the run.
    ``text_field``/``id_field`` override the configuration's ``input`` (JSONL and Parquet).
    Stage results of unchanged documents are reused from the store when still exact; FULL
    recomputes everything. PRIVATE_OUT: where the originals of redacted personal data go
    (README "Personal data"; default: where the latest version put them, else OUT_DIR/_private/pii).
    ID_KEY: a key file (path or s3:// URL, never the key itself: flow parameters are stored by
    the server) to key the ids with, which becomes the store's; default: the store's own key.
    The key travels to the workers inside the plan (cleancorpus.idkey)."""
    log = get_run_logger()
    config = Config.load(config_path) if config_path else Config()
    if text_field or id_field:
        config = dataclasses.replace(config, input=dataclasses.replace(
            config.input, text_field=text_field or config.input.text_field, id_field=id_field or config.input.id_field))
    # absolute: Dask workers may run elsewhere (same shared filesystem, other working directory)
    # a relative PRIVATE_OUT is relative to the store, like the CLI's --private-out
    key_file = _absolute(id_key) if id_key else None
    p = plan_inputs(_absolute(raw_dir), _absolute(out_dir), config, private_out, key_file)
    log.info("version %s: %d input files", p.version_id, len(p.inputs))
    scratch = _absolute(scratch_dir) if scratch_dir else None
    with api.building(p, lock_timeout, scratch) as work_dir:
        if work_dir is None:
            log.info("version %s already exists in %s; nothing to build", p.version_id, out_dir)
            return p.version_id
        run = work.run_stages(p, work_dir, max(1, int(shard_mb * 2**20)), max_shards,
                              run_passes=_run_passes, fit=_fit, gather=gather,
                              run_partial_fits=_partial_fits, full=full)
        dd = api.deduplicate(p, run.spill, map_fn=task_map, full=full, layout=run.layout)
        version_id = write_version(p, run, dd, full)
    first = next(iter(config.stages), None)
    log.info("documents recomputed: %d of %d from scratch, %d in at least one stage (%s)",
             run.work.documents_from_scratch(first), run.documents_in, run.work.documents_recomputed,
             ", ".join(f"{k} {v.get('recomputed', 0)} recomputed/{v.get('reused', 0)} reused"
                       for k, v in run.work.to_dict().items() if "recomputed" in v))
    for name, rep in run.reports.items():
        rej = sum(rep.rejected.values())
        log.info("stage %s: %d seen, %d changed, %d edits, %d rejected", name, rep.seen, rep.changed, rep.edits, rej)
    counts = api.load(p.store.root, version_id).manifest["counts"]
    log.info("version %s: %d documents, %d kept, %d duplicates, %d rejected", version_id,
             counts["documents"], counts["kept"], counts["duplicate"], counts["rejected"])
    return version_id


def _absolute(location: str) -> str:
    """A local path made absolute; an object-storage URL (s3://...) as it is."""
    from cleancorpus.ingest.remote import is_remote

    return location if is_remote(location) else str(Path(location).resolve())


def serve(raw_dir: str, out_dir: str, *, name: str, cron: str | None = None, interval: float | None = None,
          config_path: str | None = None) -> None:
    """Serve the flow as a deployment with one schedule until interrupted."""
    params = {"raw_dir": _absolute(raw_dir), "out_dir": _absolute(out_dir)}
    if config_path:
        params["config_path"] = str(Path(config_path).resolve())
    from prefect.deployments.runner import EntrypointType

    # a module entrypoint: the runner imports the installed package, wherever it was started
    clean_corpus.serve(name=name, cron=cron, interval=interval, parameters=params,
                       entrypoint_type=EntrypointType.MODULE_PATH)
