"""What a new version costs in the Delta store: bytes and time of an append, a delete and an
edit (merge) of a few documents, against a full copy per version (the folder layout before it).

    .venv/bin/python bench/store_growth.py --docs 100000                 # the store alone
    .venv/bin/python bench/store_growth.py --docs 10000 --mode clean     # whole `cleancorpus clean` runs

``--mode store`` (default) writes the ingested documents (no stages, no dedup: every document
kept) with the store's own writer, so the figures are the store's; ``--mode clean`` runs the
whole pipeline for each step (``--stages``, default unicode only) and takes far longer.

Steps on one store (inputs from bench/gen_corpus.py, a prefix-stable stream, cut into 100
JSONL files of DOCS/100 lines, raw/part-000.jsonl ... part-099.jsonl):
  v1  the 100 files, DOCS documents
  v2  + raw/added.jsonl with DOCS/100 new documents          (append)
  v3  raw/added.jsonl removed again                           (delete)
  v4  DOCS/1000 documents edited, spread over all files       (merge: delete + rewrite)
      (one per input file, at a different line in each: k*7919 mod the file's length)
  v5  DOCS/1000 documents edited, all in one file             (merge, clustered)
For each: CPU seconds of the whole `clean` and of the store write, the store write's wall time
per table, data bytes added (the _reports folder excluded), rows written. The folder layout's
cost of a version is measured as the export of v1 (documents.jsonl + documents.parquet +
edits + duplicates + outcomes: what that layout wrote for every version).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import cleancorpus  # noqa: E402
from cleancorpus.config import Config  # noqa: E402
from cleancorpus.document import Outcome, Status  # noqa: E402
from cleancorpus.ingest import RejectedInput, iter_documents, list_inputs  # noqa: E402
from cleancorpus.store import Store  # noqa: E402
from cleancorpus.store.export import export  # noqa: E402
from cleancorpus.store.write import write_version  # noqa: E402


def store_only(raw: Path, store: Path, vid: str):
    """The ingested documents of ``raw`` written as version ``vid`` (all kept, no stages)."""
    def items():
        for item in iter_documents(list_inputs(raw)):
            if isinstance(item, RejectedInput):
                yield item.outcome(), None
            else:
                yield Outcome(item.id, item.source, Status.KEPT), item

    def summary():
        outcomes = [o for o, _ in items()]
        kept = sum(o.status is Status.KEPT for o in outcomes)
        return {"counts": {"input_files": len(list_inputs(raw)), "documents": len(outcomes), "kept": kept,
                           "duplicate": 0, "rejected": len(outcomes) - kept}, "stages": {}}

    store.mkdir(parents=True, exist_ok=True)
    scratch = store / ".tmp-bench"
    scratch.mkdir(exist_ok=True)
    with Store(store).lock():
        v, _ = write_version(Store(store), vid, items, summary, created=time.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                             commit_metadata={}, scratch=scratch)
    shutil.rmtree(scratch)
    return v


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "_reports" not in p.parts and p.name != ".lock")


def step(name: str, raw: Path, store: Path, config: Config | None, rows: list[dict]) -> None:
    before = tree_bytes(store) if store.exists() else 0
    c0, t0 = cpu(), time.perf_counter()
    if config is None:
        v = store_only(raw, store, f"vbench{len(rows) + 1}")
    else:
        v = cleancorpus.clean(raw, store, config).version
    c1, t1 = cpu(), time.perf_counter()
    w = v.manifest["write"]
    added = tree_bytes(store) - before
    rows.append({"step": name, "version": v.id, "cpu_s": round(c1 - c0, 1), "wall_s": round(t1 - t0, 1),
                 "store_bytes_added": added, "data_bytes_added": sum(w["bytes_added"].values()),
                 "write_wall_s": round(sum(w["seconds"].values()), 2), "write_seconds": w["seconds"],
                 "changed": w["changed"], "removed": w["removed"], "rows_written": w["rows_written"],
                 "kept": v.manifest["counts"]["kept"]})
    print(json.dumps(rows[-1]), flush=True)


def read_latest(store: Path) -> dict:
    """Reading the latest version without cleancorpus (best of 3 wall, as a user would), and
    how many data files it is made of."""
    import polars as pl
    from deltalake import DeltaTable

    out: dict = {"data_files": {}, "data_files_on_disk": sum(1 for _ in store.rglob("*.parquet"))}
    for name in ("documents", "duplicates", "edits", "outcomes"):
        out["data_files"][name] = len(DeltaTable(str(store / name)).file_uris())
    for label, read in (("polars_read_documents_s", lambda: pl.read_delta(str(store / "documents"))),
                        ("pandas_read_documents_s", lambda: DeltaTable(str(store / "documents")).to_pandas())):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            n = len(read())
            best = min(best, time.perf_counter() - t0)
        out[label], out["documents_rows"] = round(best, 3), n
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--mode", choices=("store", "clean"), default="store")
    ap.add_argument("--stages", default="unicode", help="--mode clean: comma-separated stages (default: unicode; 'default' for all)")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "store-growth")
    ap.add_argument("--layout", default="blocks",
                    help="'blocks' (the store's: tables.FILE_BUCKETS file buckets x runs of tables.BLOCK_ROWS "
                         "records), 'blocks:BUCKETS:ROWS' to try others, or 'file-hash-16' (the layout before: "
                         "16 partitions by input-file hash)")
    args = ap.parse_args()
    from cleancorpus.store import tables

    if args.layout == "file-hash-16":
        tables.FILE_BUCKETS, tables.BLOCK_ROWS = 16, 10**15  # every record of a file in its file's bucket
    elif args.layout.startswith("blocks:"):
        tables.FILE_BUCKETS, tables.BLOCK_ROWS = map(int, args.layout.split(":")[1:])
    layout = f"{tables.FILE_BUCKETS} file buckets x {tables.BLOCK_ROWS} records"
    extra = max(1, args.docs // 100)
    work = args.work / f"{args.docs}-{args.mode}-{args.layout.replace(':', '-')}"
    corpus = args.work / f"gen-{args.docs}"
    if not (corpus / "raw" / "corpus.jsonl").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_corpus.py"), "--docs", str(args.docs + extra),
                        "--out", str(corpus)], check=True)
    lines = (corpus / "raw" / "corpus.jsonl").read_text("utf-8").splitlines(keepends=True)
    raw, store = work / "raw", work / "clean"
    shutil.rmtree(raw, ignore_errors=True)
    shutil.rmtree(store, ignore_errors=True)
    raw.mkdir(parents=True)
    per = max(1, args.docs // 100)
    shards = [lines[i:i + per] for i in range(0, args.docs, per)]

    def write_shards() -> None:
        for k, part in enumerate(shards):
            (raw / f"part-{k:03d}.jsonl").write_text("".join(part), "utf-8")

    def edit(line: str) -> str:
        obj = json.loads(line)
        obj["text"] = obj["text"] + "\n\nAn added closing sentence for this edit."
        return json.dumps(obj, ensure_ascii=False) + "\n"

    write_shards()
    config = None
    if args.mode == "clean":
        config = Config() if args.stages == "default" else Config(stages=tuple(args.stages.split(",")))
    rows: list[dict] = []
    step("v1 first version", raw, store, config, rows)
    first = tree_bytes(store)
    (raw / "added.jsonl").write_text("".join(lines[args.docs:]), "utf-8")
    step(f"v2 append {extra} documents (1%)", raw, store, config, rows)
    (raw / "added.jsonl").unlink()
    step(f"v3 delete those {extra}", raw, store, config, rows)
    n_edit = max(1, args.docs // 1000)
    stride = max(1, args.docs // n_edit)
    for k in range(n_edit):  # one per stride, each at another position inside its stride
        i = k * stride + (k * 7919) % stride
        shards[i // per][i % per] = edit(shards[i // per][i % per])
    write_shards()
    step(f"v4 edit {n_edit} documents spread over the corpus (0.1%)", raw, store, config, rows)
    for i in range(min(n_edit, per)):
        shards[50][i] = edit(shards[50][i])
    write_shards()
    step(f"v5 edit {min(n_edit, per)} documents in one input file", raw, store, config, rows)
    latest = read_latest(store)
    v1 = cleancorpus.load(store, rows[0]["version"])
    plain = work / "export-v1"
    shutil.rmtree(plain, ignore_errors=True)
    export(v1, plain, "jsonl")
    export(v1, plain, "parquet")
    folder = sum(p.stat().st_size for p in plain.iterdir() if p.name.startswith("documents.") or p.suffix == ".jsonl")
    summary = {"docs": args.docs, "mode": args.mode, "layout": layout, "stages": list(config.stages) if config else [],
               "first_version_bytes": first,
               "folder_layout_bytes_per_version": folder,
               "v2_added_over_first": round(rows[1]["store_bytes_added"] / first, 4),
               "latest": latest,
               "steps": rows}
    (work / "result.json").write_text(json.dumps(summary, indent=1), "utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}))


if __name__ == "__main__":
    main()
