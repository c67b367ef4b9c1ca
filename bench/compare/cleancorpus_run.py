"""One cleancorpus run, timed step by step, in the project's own virtualenv (a child of run.py).

The same steps as ``cleancorpus.clean`` (plan, per-document stages, dedup, publish), called one
by one so that each is timed; per-stage seconds come from the pipeline's own reports. Writes one
JSON object to RESULT; progress (phase and count) goes to PROGRESS_FILE for the parent's bar.

    .venv/bin/python bench/compare/cleancorpus_run.py RAW_DIR OUT_DIR RESULT
        [--stages unicode] [--progress-file F] [--profile HTML]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from cleancorpus import api
from cleancorpus.config import DEFAULT_STAGES, Config
from cleancorpus.ingest import iter_documents
from cleancorpus.pipeline import Pipeline, RunResult, read_documents, spill
from cleancorpus.store.export import export


class ProgressFile:
    """Counts per phase, rewritten at most every half second (the parent polls it)."""

    def __init__(self, path: Path | None) -> None:
        self.path, self.counts, self.last = path, Counter(), 0.0

    def __call__(self, phase: str, n: int) -> None:
        self.counts[phase] += n
        now = time.monotonic()
        if self.path and now - self.last > 0.5:
            self.last = now
            self.path.write_text(json.dumps(self.counts))


def run(raw: Path, out: Path, stages: tuple[str, ...], progress: ProgressFile) -> dict:
    steps: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds (process_time, all threads) of the same steps
    c = time.process_time()
    t0 = time.perf_counter()
    p = api.plan(raw, out, Config(stages=stages))
    steps["plan (list + hash inputs)"] = time.perf_counter() - t0
    with api.building(p) as work:
        t = time.perf_counter()
        pipe = Pipeline(p.config)
        steps["build stages (load resources)"] = time.perf_counter() - t
        cpu["plan + build stages"], c = time.process_time() - c, time.process_time()
        t = time.perf_counter()
        result, fit_seconds = per_document_pass(pipe, p, work, progress)
        per_doc = time.perf_counter() - t
        cpu["per-document pass (ingest, stages, fits, spills)"], c = time.process_time() - c, time.process_time()
        stage_seconds = {name: rep.seconds for name, rep in result.reports.items() if name != "ingest"}
        outside = per_doc - sum(stage_seconds.values()) - sum(fit_seconds.values())
        steps["ingest + spill files (per-document pass, outside the stages)"] = outside
        steps.update({f"fit {name} (corpus statistics)": s for name, s in fit_seconds.items()})
        steps.update({f"stage {name}": s for name, s in stage_seconds.items()})
        t = time.perf_counter()
        dd = api.deduplicate(p, result.spill)
        steps["dedup"] = time.perf_counter() - t
        cpu["dedup"], c = time.process_time() - c, time.process_time()
        t = time.perf_counter()
        version = api.publish(p, result, dd, progress)
        steps["publish (write version + manifest)"] = time.perf_counter() - t
        cpu["publish"] = time.process_time() - c
    removed, rejected = [], []
    for o in (x.to_dict() for x in version.outcomes()):
        if o["status"] == "duplicate":
            removed.append(o["source"])
        elif o["status"] == "rejected":
            rejected.append({"source": o["source"], "reason": o.get("reason")})
    # the scorer reads plain files (documents.jsonl, edits.jsonl): the version exported, untimed
    plain = Path(out) / f"export-{version.id}"
    c = time.process_time()
    export(version, plain, "jsonl")
    cpu["export (for the scorer)"] = time.process_time() - c
    return {"steps": steps, "cpu_steps": cpu, "version_id": version.id, "removed_sources": removed, "rejected": rejected, "version": str(plain),
            "stages": list(stages), "dedup_stats": {k: v for k, v in dd.stats.items() if not isinstance(v, (list, dict))},
            "config": p.config.to_dict()["dedup"]}


def per_document_pass(pipe: Pipeline, p: api.Plan, work: Path, progress: ProgressFile) -> tuple[RunResult, dict]:
    """Pipeline.run's steps, spelled out so that each stage's fit() is timed on its own."""
    reports = pipe.new_reports()
    rejected: list = []
    fit_seconds: dict[str, float] = {}
    stream = pipe.admit(iter_documents(p.files, p.config.limits, id_key=p.id_key), reports, rejected)
    for k, segment in enumerate(pipe.segments):
        if segment and segment[0].needs_corpus:
            path = spill(stream, work / f"spill-{k}.jsonl", progress, f"reading for {segment[0].name}")
            t = time.perf_counter()
            pipe.fit_segment(k, lambda path=path: read_documents(path))
            fit_seconds[segment[0].name] = time.perf_counter() - t
            stream = read_documents(path)
        stream = pipe.apply_segment(k, stream, reports, rejected)
    final = spill(stream, work / "documents.jsonl", progress, "cleaning")
    return RunResult(final, rejected, reports, reports["ingest"].seen), fit_seconds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("raw", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("result", type=Path)
    ap.add_argument("--stages", default=",".join(DEFAULT_STAGES), help="comma-separated stage names")
    ap.add_argument("--progress-file", type=Path)
    ap.add_argument("--profile", type=Path, help="write a pyinstrument profile (HTML) here")
    args = ap.parse_args()
    stages = tuple(s for s in args.stages.split(",") if s)
    progress = ProgressFile(args.progress_file)
    if args.profile:
        from pyinstrument import Profiler

        with Profiler(interval=0.005) as prof:
            res = run(args.raw, args.out, stages, progress)
        args.profile.write_text(prof.output_html())
        args.profile.with_suffix(".txt").write_text(prof.output_text(unicode=True, show_all=False))
    else:
        res = run(args.raw, args.out, stages, progress)
    args.result.write_text(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
