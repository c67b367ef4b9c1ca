"""text-dedup's MinHash (text_dedup.minhash, its own command) inside text-dedup's own virtualenv.

Runs the command on the JSONL corpus with one process (as cleancorpus's run is one process) and
its default parameters (word 5-grams, 250 permutations, Jaccard threshold 0.7, bands and rows
chosen by its optimiser), then lists which ids it did not keep. Writes one JSON object to RESULT.

    <venv>/bin/python bench/compare/textdedup_minhash.py CORPUS_JSONL WORK_DIR RESULT
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("result", type=Path, help="where to write the JSON result")
    args = ap.parse_args()
    from datasets import load_from_disk
    from text_dedup.minhash import main as minhash_main

    out = args.work / "output"
    t0 = time.perf_counter()
    minhash_main([
        "--path", "json", "--data_files", str(args.corpus), "--split", "train",
        "--cache_dir", str(args.work / "cache"), "--output", str(out),
        "--column", "text", "--num_proc", "1",
    ], standalone_mode=False)
    seconds = time.perf_counter() - t0
    kept = set(load_from_disk(str(out))["id"])
    with open(args.corpus, encoding="utf-8") as fh:
        removed = [doc_id for doc_id in (json.loads(line)["id"] for line in fh) if doc_id not in kept]
    args.result.write_text(json.dumps({"steps": {"minhash (load, hash, cluster, filter, save)": seconds}, "removed": removed,
               "config": {"n_grams": 5, "num_perm": 250, "threshold": 0.7}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
