"""How long the audit report takes to build and how big it gets, on the seeded benchmark corpus.

    .venv/bin/python bench/report.py --docs 1000,5000

For each size: generate the corpus (bench/gen_corpus.py, same seed as the other benchmarks),
clean it once with the default pipeline (which writes report.html as part of the version), then
rebuild the report from the stored version a few times and take the median. Prints one line per
size and writes bench/out/report.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import cleancorpus
from cleancorpus.report import ReportOptions, build_report, write_report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def corpus(n: int, seed: int) -> Path:
    out = OUT / f"report-corpus-{n}"
    if not (out / "raw" / "corpus.jsonl").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_corpus.py"), "--docs", str(n), "--out", str(out),
                        "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    return out


def measure(n: int, seed: int, repeats: int) -> dict:
    base = corpus(n, seed)
    t0 = time.perf_counter()
    version = cleancorpus.clean(base / "raw", base / "clean").version
    clean_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        html = build_report(version)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    build_report(version)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    c = version.manifest["counts"]
    return {
        "docs": n, "kept": c["kept"], "duplicate": c["duplicate"], "rejected": c["rejected"],
        "shown_in_full": min(c["kept"], ReportOptions().max_documents),
        "edits": sum(s["edits"] for s in version.manifest["stages"].values()),
        "clean_seconds": round(clean_s, 1),
        "report_seconds_median": round(statistics.median(times), 2),
        "report_mb": round(len(html.encode("utf-8")) / 1e6, 2),
        "report_peak_python_mb": round(peak / 1e6, 1),
        "stored_report_mb": round(write_report(version).stat().st_size / 1e6, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", default="1000", help="comma-separated corpus sizes")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [measure(int(n), args.seed, args.repeats) for n in args.docs.split(",")]
    for r in rows:
        print(json.dumps(r))
    (OUT / "report.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
