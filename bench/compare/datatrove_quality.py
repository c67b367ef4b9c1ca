"""datatrove's quality filters on a JSONL of documents, inside datatrove's own virtualenv.

Runs GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter and FineWebQualityFilter (their
defaults, English) on every document, each on its own copy (C4QualityFilter rewrites the text of a
document it keeps), in that order, as a pipeline would: datatrove caches a text's word list
between filters. Writes one JSON object to RESULT: per document the verdict of each filter (null
when kept, else datatrove's reason) and the CPU seconds of all four; the CPU seconds of each
filter and of all four over the corpus.

    <venv>/bin/python bench/compare/datatrove_quality.py INPUT.jsonl RESULT.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

FILTERS = {
    "gopher_quality": GopherQualityFilter,
    "gopher_repetition": GopherRepetitionFilter,
    "c4": C4QualityFilter,
    "fineweb": FineWebQualityFilter,
}


def verdict(result) -> str | None:
    if isinstance(result, tuple):
        return None if result[0] else (result[1] or "removed")
    return None if result else "removed"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("result", type=Path)
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    filters = {name: cls() for name, cls in FILTERS.items()}
    # warm up (spaCy's blank English pipeline loads on first use): not part of the timing
    for f in filters.values():
        f.filter(Document(text="Warm up the tokenizer. It loads once.", id="warm"))
    cpu = {name: 0.0 for name in filters}
    verdicts = {}
    per_doc = {}
    t_all = time.process_time()
    for row in rows:
        out = {}
        t_doc = time.process_time()
        for name, f in filters.items():
            t0 = time.process_time()
            out[name] = verdict(f.filter(Document(text=row["text"], id=row["id"])))
            cpu[name] += time.process_time() - t0
        per_doc[row["id"]] = time.process_time() - t_doc
        verdicts[row["id"]] = out
    total = time.process_time() - t_all
    chars = sum(len(r["text"]) for r in rows)
    mb = sum(len(r["text"].encode("utf-8")) for r in rows) / 1e6
    args.result.write_text(json.dumps({"cpu_seconds": cpu, "cpu_seconds_all": total, "documents": len(rows),
                                       "chars": chars, "mb": mb, "verdicts": verdicts,
                                       "cpu_seconds_per_document": per_doc}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
