"""What a scheduled run costs when little changed: a full build against incremental runs.

    nice -n 10 .venv/bin/python bench/incremental.py --docs 10000
    nice -n 10 .venv/bin/python bench/incremental.py --docs 100000

Inputs: bench/gen_corpus.py's stream (prefix-stable), DOCS documents cut into 100 JSONL files
(raw/part-000.jsonl ... part-099.jsonl), so 1% of the corpus is one file. Steps on one store,
each a separate ``cleancorpus clean`` process (start-up included, as a scheduled run pays it):
  full      the 100 files, first version (nothing to reuse)
  add       + raw/added.jsonl, DOCS/100 new documents (1%)
  edit      DOCS/1000 documents edited (0.1%), spread over all files
  delete    raw/part-099.jsonl removed (1%)
  nothing   no change (the version exists: nothing is built)
  full-again  ``--full`` on a copy of the store before "delete", same inputs as "delete": the
            cost of recomputing everything at that point (and a check: same version id)
For each: CPU seconds (the child's rusage), wall seconds, peak RSS of the process, bytes added
to the store (tables and the per-document cache), and the run's own count of documents
recomputed per stage (manifest summary "work"). The results go to <work>/result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and p.name != ".lock") if path.exists() else 0


def run(name: str, raw: Path, store: Path, rows: list[dict], full: bool = False) -> dict:
    before = tree_bytes(store)
    cmd = [str(Path(sys.executable).parent / "cleancorpus"), "clean", str(raw), "--out", str(store)]
    if full:
        cmd.append("--full")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status != 0:
        raise SystemExit(f"{name}: cleancorpus failed\n{err}")
    vid = out.strip().splitlines()[-1]
    sys.path.insert(0, str(ROOT / "src"))
    import cleancorpus

    m = cleancorpus.load(store, vid).manifest
    work = m.get("work", {})
    row = {"step": name, "version": vid, "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
           "wall_s": round(wall, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024),
           "store_bytes_added": tree_bytes(store) - before,
           "documents": m["counts"]["documents"],
           "recomputed": {k: v.get("recomputed") for k, v in work.get("stages", {}).items() if "recomputed" in v},
           "built": "unchanged" not in err}
    rows.append(row)
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "incremental")
    ap.add_argument("--no-full-again", action="store_true",
                    help="skip the last step (a second full build: about as long as the first)")
    args = ap.parse_args()
    per = max(1, args.docs // 100)
    work = args.work / str(args.docs)
    corpus = args.work / f"gen-{args.docs}"
    if not (corpus / "raw" / "corpus.jsonl").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_corpus.py"), "--docs", str(args.docs + per),
                        "--out", str(corpus)], check=True)
    lines = (corpus / "raw" / "corpus.jsonl").read_text("utf-8").splitlines(keepends=True)
    raw, store = work / "raw", work / "clean"
    shutil.rmtree(work, ignore_errors=True)
    raw.mkdir(parents=True)
    shards = [lines[i:i + per] for i in range(0, args.docs, per)]

    def write_shards() -> None:
        for k, part in enumerate(shards):
            path = raw / f"part-{k:03d}.jsonl"
            if path.exists() or k < 100:
                path.write_text("".join(part), "utf-8")

    def edit(line: str) -> str:
        obj = json.loads(line)
        obj["text"] = obj["text"] + "\n\nAn added closing sentence for this edit."
        return json.dumps(obj, ensure_ascii=False) + "\n"

    rows: list[dict] = []
    write_shards()
    full = run("full build", raw, store, rows)
    (raw / "added.jsonl").write_text("".join(lines[args.docs:args.docs + per]), "utf-8")
    run("add 1% (one file)", raw, store, rows)
    n_edit = max(1, args.docs // 1000)
    stride = max(1, args.docs // n_edit)
    for i in range(0, n_edit * stride, stride):
        shards[i // per][i % per] = edit(shards[i // per][i % per])
    write_shards()
    run(f"edit 0.1% ({n_edit} documents over all files)", raw, store, rows)
    before_delete = work / "clean-before-delete"
    shutil.copytree(store, before_delete)
    (raw / "part-099.jsonl").unlink()
    inc = run("delete 1% (one file)", raw, store, rows)
    run("nothing changed", raw, store, rows)
    if not args.no_full_again:
        again = run("--full at the delete step", raw, before_delete, rows, full=True)
        assert again["version"] == inc["version"], "incremental and --full disagree on the version id"
    summary = {"docs": args.docs, "files": 100,
               "cpu_share_of_full_build": {r["step"]: round(r["cpu_s"] / full["cpu_s"], 3) for r in rows},
               "steps": rows}
    (work / "result.json").write_text(json.dumps(summary, indent=1), "utf-8")
    print(json.dumps(summary["cpu_share_of_full_build"], indent=1))


if __name__ == "__main__":
    main()
