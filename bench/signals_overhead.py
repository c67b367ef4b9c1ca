"""What the language and PII stages (and the quality stage, when it is registered) add to the
full pipeline: CPU seconds and peak memory, with them and without them, on the generated bench
corpus (bench/gen_corpus.py; generated first when missing).

Each run is a child process doing exactly what bench/compare/cleancorpus_run.py does (plan, the
per-document stages, dedup, publish); the child reports its own CPU time (user + system) and peak
RSS (getrusage), and the pipeline's own per-stage seconds. Runs alternate without/with, so a busy
machine slows both alike.

    nice -n 10 .venv/bin/python bench/signals_overhead.py --docs 10000 --repeat 2
    nice -n 10 .venv/bin/python bench/signals_overhead.py --docs 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
NEW_STAGES = ("language", "pii", "quality")


def child(stages: tuple[str, ...], raw: Path, out: Path) -> dict:
    sys.path.insert(0, str(BENCH / "compare"))
    import cleancorpus_run  # noqa: E402

    from cleancorpus.stages import REGISTRY

    stage_cpu: dict[str, float] = {}
    for name, cls in REGISTRY.items():  # CPU seconds per stage (the pipeline reports wall seconds)
        cls.apply = _cpu_timed(cls.apply, name, stage_cpu)
    t0 = time.perf_counter()
    res = cleancorpus_run.run(raw, out, stages, cleancorpus_run.ProgressFile(None))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"stages": list(stages), "wall_s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime,
            "peak_rss_mib": ru.ru_maxrss / 1024, "steps": res["steps"], "stage_cpu_s": stage_cpu}


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", nargs=3, metavar=("STAGES", "RAW", "OUT"))
    args = ap.parse_args()
    if args.child:
        stages, raw, out = args.child
        print(json.dumps(child(tuple(stages.split(",")), Path(raw), Path(out))))
        return
    from cleancorpus.config import DEFAULT_STAGES

    raw = corpus(args.docs)
    with_new = DEFAULT_STAGES
    without = tuple(s for s in DEFAULT_STAGES if s not in NEW_STAGES)
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for i in range(args.repeat):
        for label, stages in (("without", without), ("with", with_new)):
            out = OUT / f"signals-overhead-{label}"
            shutil.rmtree(out, ignore_errors=True)
            proc = subprocess.run([sys.executable, __file__, "--child", ",".join(stages), str(raw), str(out)],
                                  capture_output=True, text=True, check=True)
            runs[label].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            shutil.rmtree(out, ignore_errors=True)
            print(f"{label} run {i + 1}: {runs[label][-1]['cpu_s']:.1f} CPU s", file=sys.stderr)
    result = {"docs": args.docs, "runs": runs}
    (OUT / f"signals-overhead-{args.docs}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    best = {k: min(v, key=lambda r: r["cpu_s"]) for k, v in runs.items()}
    print(f"{args.docs:,} documents, best of {args.repeat}: stages without = {','.join(without)}; with = {','.join(with_new)}\n")
    print("| pipeline | CPU s | wall s | peak RSS MiB |\n|---|---:|---:|---:|")
    for k in ("without", "with"):
        print(f"| {k} the new stages | {best[k]['cpu_s']:.1f} | {best[k]['wall_s']:.1f} | {best[k]['peak_rss_mib']:.0f} |")
    added = best["with"]["cpu_s"] / best["without"]["cpu_s"] - 1
    mean = {k: sum(r["cpu_s"] for r in v) / len(v) for k, v in runs.items()}
    listed = {k: ", ".join(f"{r['cpu_s']:.1f}" for r in v) for k, v in runs.items()}
    print(f"\nAdded CPU, whole process: {added:+.1%} best of {args.repeat}, {mean['with'] / mean['without'] - 1:+.1%} "
          f"mean (runs without: {listed['without']}; with: {listed['with']})")
    if all("cpu_steps" in r for v in runs.values() for r in v):
        print("\nCPU seconds per step (mean of the runs; the per-document pass includes the stages):\n")
        print("| step | without | with | added |\n|---|---:|---:|---:|")
        for step in runs["with"][0]["cpu_steps"]:
            a, b = (sum(r["cpu_steps"][step] for r in runs[k]) / len(runs[k]) for k in ("without", "with"))
            print(f"| {step} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    print("CPU seconds inside each stage's apply (least of the runs), and as a share of the pipeline without them:")
    for name in sorted({n for r in runs["with"] for n in r["stage_cpu_s"]}):
        secs = min(r["stage_cpu_s"].get(name, 0.0) for r in runs["with"])
        before = [r["stage_cpu_s"][name] for r in runs["without"] if name in r["stage_cpu_s"]]
        was = f" (without the new stages: {min(before):.2f} s)" if before else " (new)"
        print(f"- {name}: {secs:.2f} s, {secs / best['without']['cpu_s']:.1%}{was}")


if __name__ == "__main__":
    main()
