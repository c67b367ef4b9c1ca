"""Peak memory and time of the corpus statistics (the three stages' fits) as the corpus grows.

    .venv/bin/python bench/fit_memory.py [--sizes 10000 100000] [--stages boilerplate spun spelling]
                                         [--unrestricted]

For each stage and size, a fresh process builds the stage, streams bench/out/corpus-N/raw/
corpus.jsonl (bench/gen_corpus.py; raw text, not what the earlier stages leave) through
``partial_fit`` and ``finish_fit``, and reports its peak resident memory during the fit
(sampled every 20 ms), the resident memory before fitting (the stage's dictionaries), the fit's seconds, the number of
distinct keys the statistics hold and their pickled size. The growth exponent between two sizes
is log(ratio of the fit's memory above the baseline) / log(ratio of sizes): 1 is linear.
``--unrestricted`` also measures what the statistics would cost without keeping only what the
stage uses (spun: every bigram; spelling: every word), for comparison.
Results: bench/out/fit_memory.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def _docs(path: Path):
    from cleancorpus.document import Document

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            yield Document(rec["id"], rec["text"], path.name)


class _PeakRSS:
    """Samples this process's resident memory every 20 ms (ru_maxrss would also count the
    transient peak of loading the dictionaries, before the fit starts)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> "_PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, psutil.Process().memory_info().rss)


def _entries(stats) -> int:
    """Distinct keys the statistics hold."""
    if hasattr(stats, "keys") and hasattr(stats, "counts"):  # KeyCounts
        return len(stats.keys)
    if hasattr(stats, "counts") and hasattr(stats.counts, "bigrams"):  # SpunStats
        return len(stats.counts.unigrams) + len(stats.counts.bigrams) + len(stats.names)
    return len(stats.counts)  # spelling's WordCounts


def measure(stage_name: str, size: int, unrestricted: bool) -> dict:
    """Run in the child process: one stage, one corpus size."""
    from cleancorpus.stages import REGISTRY

    stage = REGISTRY[stage_name]()
    if unrestricted and stage_name == "spun":
        stage._pivots = lambda: None  # every bigram, as before the restriction
    if unrestricted and stage_name == "spelling":
        stage._looked_up = lambda word: True  # every word
    base = psutil.Process().memory_info().rss
    with _PeakRSS() as sampler:
        t0 = time.perf_counter()
        stats = stage.partial_fit(_docs(OUT / f"corpus-{size}" / "raw" / "corpus.jsonl"))
        t1 = time.perf_counter()
        for k in ("_pivots", "_looked_up"):
            stage.__dict__.pop(k, None)  # an instance lambda would not pickle
        stats_bytes = len(pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL))
        entries = _entries(stats)
        stage.finish_fit(stats)
        t2 = time.perf_counter()
    peak = max(sampler.peak, base)
    return {"stage": stage_name, "documents": size, "unrestricted": unrestricted,
            "baseline_mb": round(base / 2**20, 1), "peak_mb": round(peak / 2**20, 1),
            "fit_mb": round((peak - base) / 2**20, 1), "partial_fit_seconds": round(t1 - t0, 2),
            "finish_seconds": round(t2 - t1, 2), "entries": entries,
            "stats_pickle_mb": round(stats_bytes / 2**20, 2),
            "fitted_pickle_mb": round(len(pickle.dumps(stage, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20, 2)}


def exponent(small: dict, large: dict, key: str) -> float | None:
    a, b = small[key], large[key]
    if a <= 0 or b <= 0:
        return None
    return round(math.log(b / a) / math.log(large["documents"] / small["documents"]), 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--stages", nargs="+", default=["boilerplate", "spun", "spelling"])
    ap.add_argument("--unrestricted", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]), args.child[2] == "1")))
        return 0
    rows = []
    modes = [False, True] if args.unrestricted else [False]
    for name in args.stages:
        for unrestricted in modes:
            if unrestricted and name == "boilerplate":
                continue
            for n in sorted(args.sizes):
                cmd = [sys.executable, __file__, "--child", name, str(n), "1" if unrestricted else "0"]
                row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                print(f"{name} {n}{' unrestricted' if unrestricted else ''}: {row}", file=sys.stderr, flush=True)
                rows.append(row)
    growth = []
    for name in args.stages:
        for unrestricted in modes:
            mine = sorted((r for r in rows if r["stage"] == name and r["unrestricted"] == unrestricted),
                          key=lambda r: r["documents"])
            for small, large in zip(mine, mine[1:]):
                growth.append({"stage": name, "unrestricted": unrestricted,
                               "sizes": [small["documents"], large["documents"]],
                               "fit_mb_exponent": exponent(small, large, "fit_mb"),
                               "entries_exponent": exponent(small, large, "entries"),
                               "seconds_exponent": exponent(small, large, "partial_fit_seconds")})
    result = {"machine": "shared 2-core machine, other jobs running", "rows": rows, "growth": growth}
    (OUT / "fit_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print("| stage | statistics | documents | peak RSS | of which fit | fit s | distinct keys | stats pickle |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        kind = "everything" if r["unrestricted"] else "kept"
        print(f"| {r['stage']} | {kind} | {r['documents']:,} | {r['peak_mb']} MB | {r['fit_mb']} MB | "
              f"{r['partial_fit_seconds']} | {r['entries']:,} | {r['stats_pickle_mb']} MB |")
    print()
    for g in growth:
        print(f"{g['stage']}{' (everything)' if g['unrestricted'] else ''} {g['sizes']}: memory exponent "
              f"{g['fit_mb_exponent']}, keys exponent {g['entries_exponent']}, time exponent {g['seconds_exponent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
