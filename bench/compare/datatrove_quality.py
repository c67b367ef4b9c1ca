"""datatrove's quality filters on a JSONL of documents, inside datatrove's own virtualenv.

Runs GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter, C4BadWordsFilter and
FineWebQualityFilter (their defaults, English) on every document, each on its own copy (C4QualityFilter rewrites the text of a
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

import datatrove.pipeline.filters.c4_filters as c4_filters
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4BadWordsFilter,
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
    "c4_badwords": C4BadWordsFilter,  # last: the others share datatrove's word-list cache, it does not
}
QUALITY = ("gopher_quality", "gopher_repetition", "c4", "fineweb")


# C4BadWordsFilter downloads its English list on first use (the LDNOOBW list at the commit it pins);
# nothing is downloaded here: it reads the copy cleancorpus ships, the same file at that commit
BADWORDS = Path(__file__).resolve().parents[2] / "src" / "cleancorpus" / "resources" / "quality" / "c4_badwords_en.txt"


def _shipped_list(remote_path: str, *args, **kwargs) -> str:
    if not remote_path.endswith("/25e679f03d96baa721cde20db9944649e8d0a844/en"):
        raise RuntimeError(f"only the pinned English bad-words list is shipped, not {remote_path}")
    return str(BADWORDS)


c4_filters.cached_asset_path_or_download = _shipped_list


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
    for row in rows:
        out = {}
        spent = 0.0
        for name, f in filters.items():
            t0 = time.process_time()
            out[name] = verdict(f.filter(Document(text=row["text"], id=row["id"])))
            t = time.process_time() - t0
            cpu[name] += t
            spent += t if name in QUALITY else 0.0
        per_doc[row["id"]] = spent
        verdicts[row["id"]] = out
    total = sum(cpu[name] for name in QUALITY)  # the four quality filters; the bad-words one apart
    chars = sum(len(r["text"]) for r in rows)
    mb = sum(len(r["text"].encode("utf-8")) for r in rows) / 1e6
    args.result.write_text(json.dumps({"cpu_seconds": cpu, "cpu_seconds_all": total, "documents": len(rows),
                                       "chars": chars, "mb": mb, "verdicts": verdicts,
                                       "cpu_seconds_per_document": per_doc,
                                       "cpu_seconds_all_is": "the four quality filters, without C4BadWordsFilter"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
