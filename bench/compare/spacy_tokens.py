"""spaCy's English words and per-line sentence counts for a JSONL of documents, inside the
datatrove venv: what datatrove's filters count, for bench/quality.py --tokens to compare with
the quality stage's own word splitter.

    <venv>/bin/python bench/compare/spacy_tokens.py INPUT.jsonl RESULT.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import spacy


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("result", type=Path)
    args = ap.parse_args()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    out = {}
    with open(args.input, encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            text = row["text"]
            nlp.max_length = len(text) + 10
            words = [t.text.strip() for t in nlp(text) if t.text.strip()]
            sentences = [len(list(nlp(line.strip()).sents)) if line.strip() else 0 for line in text.splitlines()]
            out[row["id"]] = {"words": words, "sentences": sentences}
    args.result.write_text(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
