"""Dedup speed and memory on a synthetic corpus built from real text, with planted near-duplicates.

    .venv/bin/python bench/dedup_scale.py --docs 100000 [--workers 2] [--compare 3000]
    .venv/bin/python bench/dedup_scale.py --docs 100000,1000000   # each size in its own process,
                                                                  # then growth exponents

Text: sentences of the 181 article bodies of the Zyte article-extraction benchmark
(../shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json). An original
document is 10-25 sentences drawn at random; 10% of documents are planted copies of an earlier
original: 3% of words changed, or the tail cut to 70-90%, or a foreign paragraph added. The corpus
is written to a JSONL file first (generation streams), then `find_duplicates` reads it twice, as
api.clean() does with its spill file. Reported: seconds and documents/s per pass, peak RSS of the
process (resource.getrusage; with --workers the largest worker's too), how many planted copies
were caught, and a digest of every duplicate record (id, kept copy, similarity, reason) so that
two implementations can be checked for identical results. `--compare N` also times
the signature pass against datasketch's MinHash on the first N documents.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import subprocess
import sys
import random
import re
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np

from cleancorpus.config import DedupConfig
from cleancorpus.dedup import find_duplicates, normalize_for_hash
from cleancorpus.dedup.minhash import MinHashParams, signatures
from cleancorpus.dedup.shingles import shingle_hashes
from cleancorpus.document import Document

SOURCE = Path(__file__).resolve().parents[2] / "shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json"


def sentences(path: Path) -> list[str]:
    bodies = [v["articleBody"] for v in json.loads(path.read_text("utf-8")).values()]
    found = (s.strip() for b in bodies for s in re.split(r"(?<=[.!?])\s+", b))
    # 6-50 words: the splitter leaves some list-like blocks of hundreds of words, which would
    # make unrelated generated documents share long passages
    return sorted({s for s in found if 6 <= len(s.split()) <= 50})


def planted(rng: random.Random, base: str, pool: list[str]) -> str:
    kind = rng.randrange(3)
    words = base.split(" ")
    if kind == 0:
        return " ".join(rng.choice(pool).split()[0] if rng.random() < 0.03 else w for w in words)
    if kind == 1:
        return " ".join(words[: int(len(words) * rng.uniform(0.7, 0.9))])
    return base + "\n\n" + " ".join(rng.sample(pool, 4))


def generate(n: int, pool: list[str], seed: int = 7) -> Iterator[tuple[str, str, str | None]]:
    """(id, text, id of the original it copies or None)."""
    rng = random.Random(seed)
    originals: list[tuple[str, str]] = []
    for i in range(n):
        doc_id = f"d{i:07d}"
        if originals and rng.random() < 0.10:
            src_id, src = rng.choice(originals)
            yield doc_id, planted(rng, src, pool), src_id
            continue
        text = "\n\n".join(" ".join(rng.sample(pool, 5)) for _ in range(rng.randint(2, 5)))
        if len(originals) < 20000:  # a bounded set of originals keeps generation streaming
            originals.append((doc_id, text))
        else:
            originals[rng.randrange(len(originals))] = (doc_id, text)
        yield doc_id, text, None


def write_corpus(path: Path, n: int, pool: list[str]) -> dict[str, str]:
    truth: dict[str, str] = {}
    with open(path, "w", encoding="utf-8") as fh:
        for doc_id, text, src in generate(n, pool):
            fh.write(json.dumps({"id": doc_id, "text": text}) + "\n")
            if src:
                truth[doc_id] = src
    return truth


def reader(path: Path):
    def docs() -> Iterator[Document]:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                yield Document(d["id"], d["text"], "corpus.jsonl")
    return docs


def compare_signatures(path: Path, n: int, num_perm: int) -> None:
    from datasketch import MinHash

    texts = [d.text for _, d in zip(range(n), reader(path)())]
    t0 = time.perf_counter()
    norm = [normalize_for_hash(t) for t in texts]
    cache: dict[str, int] = {}
    signatures([shingle_hashes(t, 5, cache) for t in norm], MinHashParams(5, num_perm, 1))
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        w = normalize_for_hash(t).split()
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch([" ".join(w[i : i + 5]).encode() for i in range(max(1, len(w) - 4))])
    ds = time.perf_counter() - t0
    print(f"signatures of {n} docs, {num_perm} perms: numpy {n / ours:,.0f} docs/s, "
          f"datasketch MinHash.update_batch {n / ds:,.0f} docs/s ({ds / ours:.1f}x)")


def digest(dd) -> str:
    rows = sorted((d.id, d.duplicate_of, repr(d.similarity), d.reason) for d in dd.duplicates.values())
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _scratch(args: argparse.Namespace, tmp: Path):
    """The dedup scratch location: ``tmp``, or with --scratch-on-moto an s3:// prefix on a local
    moto_server started for the run (tests/s3server.py): what object-storage scratch costs."""
    if not args.scratch_on_moto:
        yield tmp
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from s3server import moto_s3

    with moto_s3(tmp) as fs:
        yield "s3://corpus/scratch"
        left = fs.find("corpus/scratch")
        print(f"scratch on moto: {len(left)} objects left after the run", flush=True)


def run_one(args: argparse.Namespace, n: int) -> dict:
    config = DedupConfig()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        t0 = time.perf_counter()
        truth = write_corpus(corpus, n, sentences(SOURCE))
        print(f"corpus: {n} docs, {corpus.stat().st_size / 1e6:.0f} MB, "
              f"{len(truth)} planted copies ({time.perf_counter() - t0:.1f} s to generate)", flush=True)
        if args.compare:
            compare_signatures(corpus, args.compare, config.num_perm)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0, c0 = time.perf_counter(), time.process_time()
        with _scratch(args, Path(tmp)) as work:
            t0, c0 = time.perf_counter(), time.process_time()
            if args.workers:
                with ProcessPoolExecutor(args.workers) as pool:
                    dd = find_duplicates(reader(corpus), config, map_fn=lambda f, xs: list(pool.map(f, xs)),
                                         workdir=work, batch_size=args.batch_size)
            else:
                dd = find_duplicates(reader(corpus), config, workdir=work, batch_size=args.batch_size)
            total, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"find_duplicates: {total:.1f} s wall, {cpu:.1f} s CPU (this process), {n / total:,.0f} docs/s overall; "
          f"peak RSS {peak:.0f} MiB (before the run {rss_before:.0f} MiB)"
          + (f"; largest worker {workers:.0f} MiB ({args.workers} processes)" if args.workers else ""))
    print("| pass | seconds | docs/s |\n|---|---|---|")
    for name, sec in dd.timings.items():
        print(f"| {name} | {sec:.1f} | {n / max(sec, 1e-9):,.0f} |")
    print(json.dumps(dd.stats))
    root = {d.id: d.duplicate_of for d in dd.duplicates.values()}
    caught = sum(1 for d, src in truth.items() if root.get(d, d) == root.get(src, src))
    planted_ids = set(truth) | set(truth.values())
    stray = sum(1 for d in dd.duplicates if d not in planted_ids)
    print(f"planted copies in their original's cluster: {caught}/{len(truth)} ({caught / max(1, len(truth)):.3f}); "
          f"dropped documents that are neither a planted copy nor an original: {stray}; "
          f"result digest {digest(dd)}", flush=True)
    return {"docs": n, "wall": total, "cpu": cpu, "peak_rss_mib": peak, "rss_before_mib": rss_before,
            "timings": dd.timings, "stats": dd.stats, "caught": caught, "planted": len(truth), "digest": digest(dd)}


def growth(results: list[dict]) -> None:
    """Exponent k in cost ~ size**k between consecutive sizes (1 = linear)."""
    print("| docs | wall s | CPU s | peak RSS MiB | candidate pairs | wall exp. | CPU exp. | RSS exp. |\n"
          "|---:|---:|---:|---:|---:|---:|---:|---:|")
    for prev, cur in zip([None] + results[:-1], results):
        exp = (lambda key: f"{math.log(cur[key] / prev[key]) / math.log(cur['docs'] / prev['docs']):.2f}") if prev else (lambda key: "–")
        print(f"| {cur['docs']:,} | {cur['wall']:.0f} | {cur['cpu']:.0f} | {cur['peak_rss_mib']:.0f} | "
              f"{cur['stats']['candidate_pairs']:,} | {exp('wall')} | {exp('cpu')} | {exp('peak_rss_mib')} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="100000", help="a size, or comma-separated sizes (one process each)")
    ap.add_argument("--workers", type=int, default=0, help="0: serial map; N: a process pool as map_fn")
    ap.add_argument("--compare", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--tmp", default=None, help="where the corpus and scratch files go (default: the system's)")
    ap.add_argument("--scratch-on-moto", action="store_true",
                    help="scratch files on a local moto S3 server (s3://corpus/scratch) instead of --tmp")
    ap.add_argument("--json", default=None, help="also write the measurements to this file")
    args = ap.parse_args()
    sizes = [int(x) for x in args.docs.split(",")]
    if len(sizes) == 1:
        result = run_one(args, sizes[0])
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:  # a fresh process per size: ru_maxrss is a lifetime maximum
            out = Path(tmp) / f"{n}.json"
            cmd = [sys.executable, __file__, "--docs", str(n), "--workers", str(args.workers),
                   "--batch-size", str(args.batch_size), "--json", str(out)] + (["--tmp", args.tmp] if args.tmp else []) \
                + (["--scratch-on-moto"] if args.scratch_on_moto else [])
            subprocess.run(cmd, check=True)
            results.append(json.loads(out.read_text()))
    growth(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
