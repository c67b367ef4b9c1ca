"""datatrove's equivalent of the cleancorpus run, inside datatrove's own virtualenv.

JSONL reader -> ftfy formatter -> (formatted copy + MinHash signatures), then datatrove's three
other MinHash steps (buckets, cluster, filter) and a JSONL writer, as in datatrove's
examples/minhash_deduplication.py. One task and one worker per step, as cleancorpus's run is one
process. Writes one JSON object to RESULT: seconds per step and the ids of the documents it removed.

    <venv>/bin/python bench/compare/datatrove_dedup.py INPUT_DIR WORK_DIR RESULT [--buckets 14 --rows 8]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.formatters import FTFYFormatter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers.jsonl import JsonlWriter


def run_step(name: str, pipeline: list, work: Path, timings: dict, tasks: int = 1) -> None:
    t0 = time.perf_counter()
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / "logs" / name),
                          skip_completed=False).run()
    timings[name] = time.perf_counter() - t0


def removed_ids(folder: Path) -> list[str]:
    ids = []
    for f in sorted(folder.glob("*.jsonl*")):
        opener = gzip.open if f.suffix == ".gz" else open
        with opener(f, "rt", encoding="utf-8") as fh:
            ids.extend(json.loads(line)["id"] for line in fh)
    return ids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("result", type=Path, help="where to write the JSON result")
    ap.add_argument("--buckets", type=int, default=14)
    ap.add_argument("--rows", type=int, default=8)
    args = ap.parse_args()
    work = args.work
    # datatrove's defaults: word 5-grams, 14 bands of 8 hashes, 64-bit hashes
    config = MinhashConfig(n_grams=5, num_buckets=args.buckets, hashes_per_bucket=args.rows)
    timings: dict[str, float] = {}
    run_step("1 read+ftfy+signatures", [
        JsonlReader(str(args.input), glob_pattern="*.jsonl", compression=None),
        FTFYFormatter(),
        JsonlWriter(str(work / "formatted"), compression=None),
        MinhashDedupSignature(output_folder=str(work / "signatures"), config=config),
    ], work, timings)
    run_step("2 buckets", [
        MinhashDedupBuckets(input_folder=str(work / "signatures"), output_folder=str(work / "buckets"), config=config),
    ], work, timings, tasks=config.num_buckets)
    run_step("3 cluster", [
        MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"), config=config),
    ], work, timings)
    run_step("4 filter+write", [
        JsonlReader(str(work / "formatted"), glob_pattern="*.jsonl", compression=None),
        MinhashDedupFilter(input_folder=str(work / "remove_ids"),
                           exclusion_writer=JsonlWriter(str(work / "removed"), compression=None)),
        JsonlWriter(str(work / "output"), compression=None),
    ], work, timings)
    args.result.write_text(json.dumps({"steps": timings, "removed": removed_ids(work / "removed"),
               "config": {"n_grams": 5, "bands": config.num_buckets, "rows": config.hashes_per_bucket}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
