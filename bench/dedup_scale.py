"""Dedup speed and memory on a synthetic corpus built from real text, with planted near-duplicates.

    .venv/bin/python bench/dedup_scale.py --docs 100000 [--workers 2] [--compare 3000]

Text: sentences of the 181 article bodies of the Zyte article-extraction benchmark
(../shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json). An original
document is 10-25 sentences drawn at random; 10% of documents are planted copies of an earlier
original: 3% of words changed, or the tail cut to 70-90%, or a foreign paragraph added. The corpus
is written to a JSONL file first (generation streams), then `find_duplicates` reads it twice, as
api.clean() does with its spill file. Reported: seconds and documents/s per pass, peak RSS of the
process (resource.getrusage), and how many planted copies were caught. `--compare N` also times
the signature pass against datasketch's MinHash on the first N documents.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=0, help="0: serial map; N: a process pool as map_fn")
    ap.add_argument("--compare", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()
    config = DedupConfig()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        t0 = time.perf_counter()
        truth = write_corpus(corpus, args.docs, sentences(SOURCE))
        print(f"corpus: {args.docs} docs, {corpus.stat().st_size / 1e6:.0f} MB, "
              f"{len(truth)} planted copies ({time.perf_counter() - t0:.1f} s to generate)")
        if args.compare:
            compare_signatures(corpus, args.compare, config.num_perm)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        if args.workers:
            with ProcessPoolExecutor(args.workers) as pool:
                dd = find_duplicates(reader(corpus), config, map_fn=lambda f, xs: list(pool.map(f, xs)),
                                     workdir=tmp, batch_size=args.batch_size)
        else:
            dd = find_duplicates(reader(corpus), config, workdir=tmp, batch_size=args.batch_size)
        total = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"find_duplicates: {total:.1f} s, {args.docs / total:,.0f} docs/s overall; "
          f"peak RSS {peak:.0f} MiB (before the run {rss_before:.0f} MiB)"
          + (f"; workers' RSS not included ({args.workers} processes)" if args.workers else ""))
    print("| pass | seconds | docs/s |\n|---|---|---|")
    for name, sec in dd.timings.items():
        print(f"| {name} | {sec:.1f} | {args.docs / sec:,.0f} |")
    print(json.dumps(dd.stats))
    root = {d.id: d.duplicate_of for d in dd.duplicates.values()}
    caught = sum(1 for d, src in truth.items() if root.get(d, d) == root.get(src, src))
    planted_ids = set(truth) | set(truth.values())
    stray = sum(1 for d in dd.duplicates if d not in planted_ids)
    print(f"planted copies in their original's cluster: {caught}/{len(truth)} ({caught / max(1, len(truth)):.3f}); "
          f"dropped documents that are neither a planted copy nor an original: {stray}")


if __name__ == "__main__":
    main()
