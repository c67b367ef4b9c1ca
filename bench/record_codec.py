"""The spill record codec (records.py) against Python's json, on the records the full pipeline
spills: bench corpus documents after unicode, language, quality and pii (about 1.9 KB each with
their metadata), and the same records without the three stages' metadata.

CPU seconds per 10,000 records (best of --repeat) for one encode (to the bytes a spill line
holds) and one decode (bytes to a Document), and a check that both codecs give back the same
documents.

    nice -n 10 .venv/bin/python bench/record_codec.py --docs 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

from cleancorpus import records
from cleancorpus.config import Config
from cleancorpus.document import Document
from cleancorpus.pipeline import Pipeline

BENCH = Path(__file__).resolve().parent
CORPUS = BENCH / "out" / "corpus-10k" / "raw" / "corpus.jsonl"
NEW_KEYS = ("language", "language_score", "languages", "language_lines", "quality", "quality_flags", "pii")


def json_encode(doc: Document) -> bytes:  # what the spills were before records.py
    return json.dumps(doc.to_record(), ensure_ascii=False).encode("utf-8", "surrogatepass")


def json_decode(line: bytes) -> Document:
    return Document.from_record(json.loads(line.decode("utf-8", "surrogatepass")))


def best(fn, repeat: int) -> float:
    out = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        out = min(out, time.process_time() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is missing: bench/gen_corpus.py --docs 10000 --out bench/out/corpus-10k")
    pipe = Pipeline(Config(stages=("unicode", "language", "quality", "pii")))
    docs = []
    with CORPUS.open(encoding="utf-8") as fh:
        for i, line in enumerate(itertools.islice(fh, args.docs)):
            r = json.loads(line)
            out = pipe.apply(Document(r["id"], r["text"], f"corpus.jsonl:{i + 1}"))
            if isinstance(out, Document):
                docs.append(out)
    plain = [Document(d.id, d.text, d.source, {k: v for k, v in d.metadata.items() if k not in NEW_KEYS}, d.edits)
             for d in docs]
    scale = 10_000 / len(docs)
    print(f"{len(docs)} records; CPU s per 10,000 records, best of {args.repeat}\n")
    print("| records | bytes (json) | codec | encode | decode | encode + 2 decodes (one spill: fit and pass) |")
    print("|---|---:|---|---:|---:|---:|")
    for label, batch in (("with the new metadata", docs), ("without it", plain)):
        size = sum(len(json_encode(d)) for d in batch) / len(batch)
        for name, enc, dec in (("json", json_encode, json_decode), ("records.py", records.encode_record, records.decode_record)):
            lines = [enc(d) for d in batch]
            assert [dec(ln) for ln in lines] == [json_decode(json_encode(d)) for d in batch]  # same documents back
            e = best(lambda: [enc(d) for d in batch], args.repeat) * scale
            d = best(lambda: [dec(ln) for ln in lines], args.repeat) * scale
            print(f"| {label} | {size:,.0f} | {name} | {e:.3f} | {d:.3f} | {e + 2 * d:.3f} |")


if __name__ == "__main__":
    main()
