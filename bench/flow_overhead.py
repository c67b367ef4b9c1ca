"""What the Prefect flow costs over the plain pipeline, and what two Dask workers buy over one.

    .venv/bin/python bench/flow_overhead.py [--sizes 1000 10000] [--dask-size 10000]

Builds corpora of N documents from real text (paragraphs of raw/ and of the Zyte benchmark's
ground-truth articles, shuffled into documents of 3-8 paragraphs with a fixed seed), written as
JSONL files of 250 documents. Then, each into a fresh store:
  plain    cleancorpus.clean() (what `cleancorpus clean` runs)
  flow     the clean-corpus flow, thread runner, against Prefect's temporary server (already
           started by a warm-up run, whose time is reported apart)
  dask-1   the flow on a local Dask cluster of 1 worker process (cluster start included)
  dask-2   the same with 2 worker processes
Each run must give the same version id and byte-identical documents (with edits, in id order), or the bench fails.
Runs on a snapshot of src/ (see run_on_a_snapshot). Also reports the size and (un)pickling time of each fitted corpus stage shipped to workers.
Results: bench/out/flow_overhead-<sizes>.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "flow_overhead"
GROUND_TRUTH = Path("/work/shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json")

SNAPSHOT = OUT / "src-snapshot"


def run_on_a_snapshot() -> None:
    """Re-run this script on a copy of src/ (first on PYTHONPATH, which Dask's worker processes
    inherit), so every mode, and every worker, runs the same code even while src/ is edited."""
    if os.environ.get("FLOW_BENCH_SNAPSHOT") == str(SNAPSHOT):
        return
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    shutil.copytree(ROOT / "src", SNAPSHOT, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {**os.environ, "FLOW_BENCH_SNAPSHOT": str(SNAPSHOT),
           "PYTHONPATH": os.pathsep.join([str(SNAPSHOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


run_on_a_snapshot()

from cleancorpus_flows.env import apply_defaults  # noqa: E402

apply_defaults(ROOT)

from cleancorpus import api  # noqa: E402
from cleancorpus_flows import work  # noqa: E402


def paragraphs() -> list[str]:
    paras = []
    for f in sorted((ROOT / "raw").glob("*.txt")):
        paras += [p.strip() for p in f.read_text(encoding="utf-8").split("\n\n")]
    if GROUND_TRUTH.exists():
        for item in json.loads(GROUND_TRUTH.read_text(encoding="utf-8")).values():
            paras += [p.strip() for p in item["articleBody"].split("\n")]
    return [p for p in paras if len(p.split()) >= 8]


def build_corpus(n: int, dest: Path, per_file: int = 250, seed: int = 7) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    rng = random.Random(seed)
    paras = paragraphs()
    for start in range(0, n, per_file):
        with open(dest / f"part-{start // per_file:05d}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(start, min(n, start + per_file)):
                text = "\n\n".join(rng.sample(paras, rng.randint(3, 8)))
                fh.write(json.dumps({"id": f"doc-{i}", "text": text}, ensure_ascii=False) + "\n")
    return dest


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def documents(out: Path, version: str) -> bytes:
    """The version's documents with their edits, in id order, as JSON lines."""
    records = sorted((d.to_record() for d in api.load(out, version).documents(with_edits=True)), key=lambda r: r["id"])
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def fitted_costs(raw: Path, scratch: Path) -> list[dict]:
    """Per fitted stage: pickle bytes, fit, dump and load seconds (what each worker pays once)."""
    p = api.plan(raw, scratch / "store")
    scratch.mkdir(parents=True, exist_ok=True)
    run = work.run_stages(p, scratch, 1 << 60, 1)  # one shard, in this process
    rows = []
    for f in sorted(scratch.glob("fitted-*.pickle")):
        data = f.read_bytes()
        stage, load = timed(lambda: pickle.loads(data))
        _, dump = timed(lambda: pickle.dumps(stage, protocol=pickle.HIGHEST_PROTOCOL))
        rows.append({"stage": f.stem.split("-", 2)[2], "pickle_bytes": len(data),
                     "dump_seconds": round(dump, 3), "load_seconds": round(load, 3)})
    run.spill.unlink(missing_ok=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--dask-size", type=int, default=10000, help="corpus size for the 1 vs 2 Dask workers runs")
    ap.add_argument("--shard-mb", type=float, default=2.0)
    args = ap.parse_args()
    from cleancorpus_flows.flow import clean_corpus, task_runner

    OUT.mkdir(parents=True, exist_ok=True)
    import cleancorpus

    assert Path(cleancorpus.__file__).is_relative_to(SNAPSHOT), cleancorpus.__file__
    results: dict = {"machine": "shared 2-core machine, other jobs running", "shard_mb": args.shard_mb, "runs": []}
    warm = build_corpus(20, OUT / "raw-warmup")
    _, results["temporary_server_warmup_seconds"] = timed(
        lambda: clean_corpus(raw_dir=str(warm), out_dir=str(OUT / "store-warmup"), shard_mb=args.shard_mb))
    shutil.rmtree(OUT / "store-warmup", ignore_errors=True)

    sizes = sorted(set(args.sizes) | {args.dask_size})
    for n in sizes:
        raw = build_corpus(n, OUT / f"raw-{n}")
        row: dict = {"documents": n, "input_mb": round(sum(f.stat().st_size for f in raw.iterdir()) / 2**20, 2)}
        modes = [("plain", None), ("flow", None)] if n in args.sizes else []
        modes += [("dask-1", 1), ("dask-2", 2)] if n == args.dask_size else []
        reference = None
        for mode, workers in modes:
            out = OUT / f"store-{n}-{mode}"
            shutil.rmtree(out, ignore_errors=True)
            if mode == "plain":
                vid, secs = timed(lambda: api.clean(raw, out).version.id)
            else:
                runner = task_runner(workers, local_directory=ROOT / ".dask") if workers else task_runner()
                vid, secs = timed(lambda: clean_corpus.with_options(task_runner=runner)(
                    raw_dir=str(raw), out_dir=str(out), shard_mb=args.shard_mb))
            docs = documents(out, vid)
            if reference is None:
                reference = (vid, docs)
            elif (vid, docs) != reference:
                sys.exit(f"{mode} on {n} documents gave a different version or documents than {modes[0][0]}")
            row[mode] = round(secs, 2)
            print(f"{n} documents, {mode}: {secs:.2f} s ({vid})", file=sys.stderr, flush=True)
            shutil.rmtree(out, ignore_errors=True)
        if "plain" in row and "flow" in row:
            row["flow_overhead_seconds"] = round(row["flow"] - row["plain"], 2)
            row["flow_over_plain"] = round(row["flow"] / row["plain"], 2)
        if "dask-1" in row:
            row["dask_2_speedup_over_1"] = round(row["dask-1"] / row["dask-2"], 2)
        row["shards"] = len(work.plan_shards(*(lambda p: (p.files, p.inputs))(api.plan(raw, OUT / "x")),
                                             max(1, int(args.shard_mb * 2**20)), 256))
        results["runs"].append(row)
    results["fitted_stages"] = fitted_costs(build_corpus(1000, OUT / "raw-fit"), OUT / "fit-scratch")
    shutil.rmtree(OUT / "fit-scratch", ignore_errors=True)
    tag = "-".join(str(n) for n in sizes)
    (OUT.parent / f"flow_overhead-{tag}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
