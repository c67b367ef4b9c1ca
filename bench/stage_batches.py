"""The segment boilerplate, language, quality, pii alone, with documents taken through it one at
a time or in batches (pipeline.BATCH_DOCS): what keeping each stage's working set in the CPU's
caches is worth, without the rest of the pipeline around it.

The generated bench corpus (bench/gen_corpus.py; made first when missing) is read, put through
the unicode stage and spilled, boilerplate fits on it, and then the segment runs over the spilled
documents (as the pipeline runs it: ``Pipeline.apply_segment``, reading the spill) once per batch
size, in rounds whose order alternates, each round in a fresh language memo. Reported: CPU
seconds (``process_time``) of each pass and inside each stage's ``apply``; every pass gives the
same documents (checked).

    nice -n 10 .venv/bin/python bench/stage_batches.py --docs 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from signals_overhead import _cpu_timed  # noqa: E402  (CPU seconds inside each stage's apply)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 128, 1024])
    ap.add_argument("--corpus", type=Path, help="a raw corpus directory instead of the generated one")
    args = ap.parse_args()
    from signals_overhead import corpus

    from cleancorpus import api, pipeline
    from cleancorpus.config import Config
    from cleancorpus.ingest import iter_documents
    from cleancorpus.pipeline import Pipeline, read_documents, spill
    from cleancorpus.records import encode_record
    from cleancorpus.stages import REGISTRY

    raw = args.corpus or corpus(args.docs)
    pipe = Pipeline(Config(stages=("unicode", "boilerplate", "language", "quality", "pii")))
    assert [s.name for s in pipe.segments[1]] == ["boilerplate", "language", "quality", "pii"]
    stage_cpu: dict[str, float] = {}
    for name in ("boilerplate", "language", "quality", "pii"):
        cls = REGISTRY[name]
        cls.apply = _cpu_timed(cls.apply, name, stage_cpu)
    with tempfile.TemporaryDirectory(prefix="s8-batches-") as tmp:
        p = api.plan(raw, Path(tmp) / "store", Config(stages=("unicode", "boilerplate", "language", "quality", "pii")))
        reports, rejected = pipe.new_reports(), []
        docs = pipe.admit(iter_documents(p.files, p.config.limits, id_key=p.id_key), reports, rejected)
        path = spill(pipe.apply_segment(0, docs, reports, rejected), Path(tmp) / "spill-1.jsonl")
        pipe.fit_segment(1, lambda: read_documents(path))
        language = pipe.segments[1][1]
        results: dict[int, list[tuple[float, dict[str, float]]]] = {n: [] for n in args.sizes}
        first = None
        for r in range(args.rounds):
            for n in (args.sizes if r % 2 == 0 else args.sizes[::-1]):
                pipeline.BATCH_DOCS = n
                language._memo.clear()
                stage_cpu.clear()
                reports, rejected = pipe.new_reports(), []
                c = time.process_time()
                out = [encode_record(d) for d in pipe.apply_segment(1, read_documents(path), reports, rejected)]
                results[n].append((time.process_time() - c, dict(stage_cpu)))
                first = first or out
                assert out == first, "a batch size changed the documents"
                print(f"round {r + 1}, batch {n}: {results[n][-1][0]:.2f} CPU s", file=sys.stderr, flush=True)
    print(f"{len(first):,} documents out of {args.docs:,}; CPU seconds, median of {args.rounds} rounds (range)\n")
    print("| documents per batch | the pass | boilerplate | language | quality | pii |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, rs in results.items():
        total = [t for t, _ in rs]
        cols = [f"{statistics.median(s[k] for _, s in rs):.2f}" for k in ("boilerplate", "language", "quality", "pii")]
        print(f"| {n} | {statistics.median(total):.2f} ({min(total):.2f}-{max(total):.2f}) | {' | '.join(cols)} |")


if __name__ == "__main__":
    main()
