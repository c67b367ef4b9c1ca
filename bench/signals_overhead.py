"""What the language, quality and PII stages add to the full pipeline: CPU seconds, peak memory
and (optionally) instructions, with them and without them, on the generated bench corpus
(bench/gen_corpus.py; generated first when missing).

Each run is a child process doing exactly what bench/compare/cleancorpus_run.py does (plan, the
per-document stages, dedup, publish); the child reports its own CPU time (user + system), peak
RSS (getrusage), CPU seconds per step and inside each stage's ``apply``, and the CPU seconds
Python's cyclic garbage collector took (timed with ``gc.callbacks``).

A CPU-seconds figure of one process on a shared 2-core machine moves by +-20% with what else
runs, so the script runs ``--repeat`` pairs, alternating the order inside each pair (without,
with; then with, without; ...) so that a load that rises or falls during a pair favours neither
side, and reports every run, the median, mean and best of each side, and the median and spread
of the pairs' ratios. ``--instructions`` runs every child under valgrind's cachegrind
(``--cache-sim=no``) and reports the instructions each run executed: a count that does not
depend on the machine's load (about 30-50x slower than a plain run; use it at 1,000-10,000
documents).

    nice -n 10 .venv/bin/python bench/signals_overhead.py --docs 10000 --repeat 6
    nice -n 10 .venv/bin/python bench/signals_overhead.py --docs 1000 --repeat 1 --instructions
    nice -n 10 .venv/bin/python bench/signals_overhead.py --docs 100000 --repeat 1 --scratch /tmp/so
    nice -n 10 .venv/bin/python bench/signals_overhead.py --docs 10000 --repeat 6 --cli

``--cli`` runs what ``cleancorpus clean`` runs instead (``cleancorpus.clean``: the flow's per-file
passes in work.py, writing the store's per-document entries), timed as one step.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
NEW_STAGES = ("language", "pii", "quality")


def child(stages: tuple[str, ...], raw: Path, out: Path, cli: bool = False) -> dict:
    sys.path.insert(0, str(BENCH / "compare"))
    import cleancorpus_run  # noqa: E402

    from cleancorpus.stages import REGISTRY

    stage_cpu: dict[str, float] = {}
    for name, cls in REGISTRY.items():  # CPU seconds per stage (the pipeline reports wall seconds)
        cls.apply = _cpu_timed(cls.apply, name, stage_cpu)
    parts = _time_parts()
    gc_cpu = _GcClock()
    gc.callbacks.append(gc_cpu)
    t0 = time.perf_counter()
    if cli:  # what `cleancorpus clean` runs: work.py's per-file passes, with the store's entries written
        import cleancorpus
        from cleancorpus.config import Config

        c0 = time.process_time()
        version = cleancorpus.clean(raw, out, Config(stages=stages)).version
        res = {"steps": {}, "cpu_steps": {"cleancorpus.clean (everything)": time.process_time() - c0},
               "version_id": version.id}
    else:
        res = cleancorpus_run.run(raw, out, stages, cleancorpus_run.ProgressFile(None))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    gc.callbacks.remove(gc_cpu)
    return {"stages": list(stages), "wall_s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime,
            "peak_rss_mib": ru.ru_maxrss / 1024, "steps": res["steps"], "cpu_steps": res["cpu_steps"],
            "stage_cpu_s": stage_cpu, "gc": gc_cpu.summary(), "parts_cpu_s": parts, "version_id": res["version_id"]}


class _GcClock:
    """CPU seconds and counts of the cyclic collector's runs, per generation."""

    def __init__(self) -> None:
        self.started = 0.0
        self.cpu = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.process_time()
        else:
            g = info["generation"]
            self.cpu[g] += time.process_time() - self.started
            self.runs[g] += 1

    def summary(self) -> dict:
        return {"cpu_s": sum(self.cpu), "cpu_s_by_generation": self.cpu, "runs_by_generation": self.runs}


def _time_parts() -> dict[str, float]:
    """CPU seconds of the spill codec (every caller: spills, fits, dedup, publish, the store) and
    of the corpus fits, summed over the run: the work outside the stages that grows with a
    record's size. Costs two clock reads per call, alike on both sides."""
    import cleancorpus.api  # noqa: F401  (loads every module that imported the codec)
    from cleancorpus import pipeline, records

    totals: dict[str, float] = {}
    codec = {f: _cpu_timed_fn(f, f.__name__, totals) for f in (records.encode_record, records.decode_record,
                                                                records.dumps, records.loads)}
    for mod in [m for n, m in sys.modules.items() if n.startswith("cleancorpus") and m is not None]:
        for attr, value in list(vars(mod).items()):
            if mod is not records and callable(value) and value in codec:
                setattr(mod, attr, codec[value])
    pipeline.Pipeline.fit_segment = _cpu_timed_fn(pipeline.Pipeline.fit_segment, "fits", totals)
    return totals


def _cpu_timed_fn(fn, name: str, totals: dict[str, float]):
    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.process_time() - t
    return timed


def _cpu_timed(apply, name: str, totals: dict[str, float]):
    def timed(self, doc):
        t = time.process_time()
        try:
            return apply(self, doc)
        finally:
            totals[name] = totals.get(name, 0.0) + time.process_time() - t
    return timed


def corpus(docs: int) -> Path:
    name = f"corpus-{docs // 1000}k" if docs % 1000 == 0 else f"corpus-{docs}"
    raw = OUT / name / "raw"
    if not (raw / "corpus.jsonl").exists():
        subprocess.run([sys.executable, str(BENCH / "gen_corpus.py"), "--docs", str(docs), "--out", str(OUT / name)], check=True)
    return raw


_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def start_child(stages: tuple[str, ...], raw: Path, out: Path, instructions: bool, cli: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", ",".join(stages), str(raw), str(out)] + (["--cli"] if cli else [])
    if instructions:  # every instruction the process executes, threads included (valgrind serialises them)
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"] + cmd
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_child(proc: subprocess.Popen, instructions: bool) -> dict:
    stdout, stderr = proc.communicate()
    if proc.returncode:
        sys.exit(f"child failed ({proc.returncode}):\n{stderr[-3000:]}")
    res = json.loads(stdout.strip().splitlines()[-1])
    if instructions:
        res["instructions"] = int(_IREFS.findall(stderr)[-1].replace(",", ""))
    return res


def _spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.1f}, mean {statistics.fmean(xs):.1f}, best {min(xs):.1f}, worst {max(xs):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=1, help="pairs of runs (without, with), order alternating")
    ap.add_argument("--corpus", type=Path, help="a raw corpus directory to use instead of the generated one")
    ap.add_argument("--scratch", type=Path, default=OUT, help="where the runs write their stores (deleted after each)")
    ap.add_argument("--instructions", action="store_true", help="count instructions with valgrind (slow)")
    ap.add_argument("--concurrent", action="store_true", help="run the two runs of a pair at the same time")
    ap.add_argument("--report", type=Path, help="only print the report of a saved series (its JSON)")
    ap.add_argument("--cli", action="store_true",
                    help="run what `cleancorpus clean` runs (cleancorpus.clean: the per-file passes with the "
                         "store's entries) instead of bench/compare/cleancorpus_run.py's steps")
    ap.add_argument("--child", nargs=3, metavar=("STAGES", "RAW", "OUT"))
    args = ap.parse_args()
    if args.child:
        stages, raw, out = args.child
        print(json.dumps(child(tuple(stages.split(",")), Path(raw), Path(out), args.cli)))
        return
    from cleancorpus.config import DEFAULT_STAGES

    with_new = DEFAULT_STAGES
    without = tuple(s for s in DEFAULT_STAGES if s not in NEW_STAGES)
    if args.report:
        saved = json.loads(args.report.read_text(encoding="utf-8"))
        runs = saved["runs"]
        report(runs, saved["docs"], without, with_new, "instructions" in runs["with"][0])
        return
    raw = args.corpus or corpus(args.docs)
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    order = [("without", without), ("with", with_new)]
    tag = ("-instructions" if args.instructions else "") + ("-cli" if args.cli else "")
    saved = OUT / f"signals-overhead-{args.docs}{tag}.json"
    for i in range(args.repeat):
        pair = order if i % 2 == 0 else order[::-1]
        started = time.strftime("%H:%M:%S", time.gmtime())
        load = os.getloadavg()[0]
        outs = {label: args.scratch / f"signals-overhead-{label}-{os.getpid()}" for label, _ in pair}
        for out in outs.values():
            shutil.rmtree(out, ignore_errors=True)
        try:
            if args.concurrent:  # both at once: the same load for both
                procs = {label: start_child(stages, raw, outs[label], args.instructions, args.cli) for label, stages in pair}
                done = {label: finish_child(p, args.instructions) for label, p in procs.items()}
            else:
                done = {}
                for label, stages in pair:
                    started, load = time.strftime("%H:%M:%S", time.gmtime()), os.getloadavg()[0]
                    done[label] = finish_child(start_child(stages, raw, outs[label], args.instructions, args.cli),
                                               args.instructions)
                    done[label]["started_utc"], done[label]["load_avg"] = started, load
        finally:
            for out in outs.values():
                shutil.rmtree(out, ignore_errors=True)
        for label, r in done.items():
            r.setdefault("started_utc", started)
            r.setdefault("load_avg", load)
            r["pair"] = i + 1
            runs[label].append(r)
            extra = f", {r['instructions'] / 1e9:.2f} G instructions" if args.instructions else ""
            print(f"pair {i + 1} {label}: {r['cpu_s']:.1f} CPU s{extra} (started {r['started_utc']} UTC, load "
                  f"{r['load_avg']:.1f})", file=sys.stderr, flush=True)
        # written after every pair, so a series stopped early keeps what it measured
        saved.write_text(json.dumps({"docs": args.docs, "corpus": str(raw), "concurrent": args.concurrent, "cli": args.cli,
                                     "runs": runs},
                                    indent=1), encoding="utf-8")
    report(runs, args.docs, without, with_new, args.instructions)


def report(runs: dict[str, list[dict]], docs: int, without: tuple[str, ...], with_new: tuple[str, ...],
           instructions: bool) -> None:
    n = len(runs["with"])
    cpu = {k: [r["cpu_s"] for r in v] for k, v in runs.items()}
    print(f"{docs:,} documents, {n} pair(s): stages without = {','.join(without)}; with = {','.join(with_new)}\n")
    print("| pipeline | CPU s (runs, in order) | median | mean | best | peak RSS MiB | gc CPU s (median) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for k in ("without", "with"):
        rss = [r["peak_rss_mib"] for r in runs[k]]
        gcs = [r["gc"]["cpu_s"] for r in runs[k]]
        print(f"| {k} the new stages | {', '.join(f'{x:.1f}' for x in cpu[k])} | {statistics.median(cpu[k]):.1f} | "
              f"{statistics.fmean(cpu[k]):.1f} | {min(cpu[k]):.1f} | {min(rss):.0f}-{max(rss):.0f} | {statistics.median(gcs):.2f} |")
    ratios = sorted(w / o - 1 for w, o in zip(cpu["with"], cpu["without"]))
    med = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"\nAdded CPU, whole process: median vs median {med['with'] / med['without'] - 1:+.1%}; "
          f"mean vs mean {statistics.fmean(cpu['with']) / statistics.fmean(cpu['without']) - 1:+.1%}; "
          f"best vs best {min(cpu['with']) / min(cpu['without']) - 1:+.1%}; per pair: median "
          f"{statistics.median(ratios):+.1%}, range {ratios[0]:+.1%} to {ratios[-1]:+.1%} ({', '.join(f'{x:+.1%}' for x in ratios)})")
    if instructions:
        ins = {k: [r["instructions"] for r in v] for k, v in runs.items()}
        a, b = statistics.median(ins["without"]), statistics.median(ins["with"])
        print(f"\nInstructions (valgrind cachegrind): without {', '.join(f'{x / 1e9:.3f}' for x in ins['without'])} G; "
              f"with {', '.join(f'{x / 1e9:.3f}' for x in ins['with'])} G; added {b / a - 1:+.1%} (median vs median)")
    print("\nCPU seconds per step (median of the runs; the per-document pass includes the stages):\n")
    print("| step | without | with | added |\n|---|---:|---:|---:|")
    for step in runs["with"][0]["cpu_steps"]:
        a, b = (statistics.median(r["cpu_steps"][step] for r in runs[k]) for k in ("without", "with"))
        print(f"| {step} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    a, b = (statistics.median(r["gc"]["cpu_s"] for r in runs[k]) for k in ("without", "with"))
    print(f"| across the steps: cyclic garbage collector | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    for part in sorted({p for r in runs["with"] for p in r.get("parts_cpu_s", {})}):
        a, b = (statistics.median(r.get("parts_cpu_s", {}).get(part, 0.0) for r in runs[k]) for k in ("without", "with"))
        what = "corpus fits (fit_segment, stages' own)" if part == "fits" else f"codec: records.{part} (spills, fits, dedup, publish)"
        print(f"| across the steps: {what} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    print("\nCPU seconds inside each stage's apply (median of the runs), and as a share of the pipeline's median without them:")
    for name in sorted({s for r in runs["with"] for s in r["stage_cpu_s"]}):
        secs = statistics.median(r["stage_cpu_s"].get(name, 0.0) for r in runs["with"])
        before = [r["stage_cpu_s"][name] for r in runs["without"] if name in r["stage_cpu_s"]]
        was = f" (without the new stages: {statistics.median(before):.2f} s)" if before else " (new)"
        print(f"- {name}: {secs:.2f} s, {secs / med['without']:.1%}{was}")


if __name__ == "__main__":
    main()
