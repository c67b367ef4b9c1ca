"""What withholding personal data (store/private.py) costs when a version is written: CPU
seconds of ``write_version`` with the withhold policy (split of every document's edits, the
pii check of every other edit's original, the private table's commit) against without it,
on the generated bench corpus (bench/gen_corpus.py; generated first when missing).

The documents are the corpus's, run through the per-document stages unicode and pii first (so
the edits are real), with a contact line (e-mail, phone) appended to every ``--pii-every``-th
document so the private table has rows. Runs alternate without/with into fresh stores, so a
busy machine slows both alike.

    nice -n 10 .venv/bin/python bench/private_overhead.py --docs 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from cleancorpus import api  # noqa: E402
from cleancorpus.config import Config  # noqa: E402
from cleancorpus.document import Outcome, Rejection, Status  # noqa: E402
from cleancorpus.ingest import RejectedInput, iter_documents, list_inputs  # noqa: E402
from cleancorpus.pipeline import Pipeline  # noqa: E402
from cleancorpus.store import Store  # noqa: E402
from cleancorpus.store.write import write_version  # noqa: E402

CONTACT = "\n\nQuestions? Write to reader.desk{n}@example.org or call +44 20 7946 {m:04d}.\n"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def documents(raw: Path, pii_every: int) -> list:
    config = Config(stages=("unicode", "pii"))
    pipe = Pipeline(config)
    docs = []
    for i, item in enumerate(iter_documents(list_inputs(raw))):
        if isinstance(item, RejectedInput):
            continue
        if pii_every and i % pii_every == 0:
            item = type(item)(item.id, item.text + CONTACT.format(n=i, m=i % 10000), item.source, item.metadata, item.edits)
        out = pipe.apply(item)
        if not isinstance(out, Rejection):
            docs.append(out)
    return docs


def write(docs: list, store: Path, withhold) -> dict:
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    scratch = store / ".tmp-bench"
    scratch.mkdir()
    items = lambda: ((Outcome(d.id, d.source, Status.KEPT), d) for d in docs)
    n = len(docs)
    summary = lambda: {"counts": {"input_files": 1, "documents": n, "kept": n, "duplicate": 0, "rejected": 0},
                       "stages": {}}
    c0, t0 = cpu(), time.perf_counter()
    v, stats = write_version(Store(store), "vbench", items, summary, created="2026-01-01T00:00:00+00:00",
                             commit_metadata={}, scratch=scratch, withhold=withhold)
    c1, t1 = cpu(), time.perf_counter()
    shutil.rmtree(scratch)
    return {"cpu_s": c1 - c0, "wall_s": t1 - t0, "rows": stats.rows, "bytes_added": stats.bytes_added}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pii-every", type=int, default=10)
    args = ap.parse_args()
    corpus = BENCH / "out" / f"corpus-{args.docs // 1000}k"
    if not (corpus / "raw").is_dir():
        sys.path.insert(0, str(BENCH))
        import gen_corpus

        gen_corpus.generate(args.docs, corpus)
    docs = documents(corpus / "raw", args.pii_every)
    policy = api.withhold_policy(Config())
    edits = sum(len(d.edits) for d in docs)
    withheld = sum(1 for d in docs for e in d.edits if policy(e))
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    store = BENCH / "out" / "private-overhead-store"
    for _ in range(args.repeat):
        runs["without"].append(write(docs, store, None))
        runs["with"].append(write(docs, store, policy))
    shutil.rmtree(store, ignore_errors=True)
    med = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    result = {"documents": len(docs), "edits": edits, "withheld": withheld, "repeat": args.repeat,
              "cpu_s_median": {k: round(v, 2) for k, v in med.items()},
              "overhead": round(med["with"] / med["without"] - 1, 4),
              "private_bytes": runs["with"][-1]["bytes_added"].get("_private"),
              "runs": runs}
    out = BENCH / "out" / f"private-overhead-{args.docs}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))


if __name__ == "__main__":
    main()
