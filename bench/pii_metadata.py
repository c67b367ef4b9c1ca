"""What redacting metadata values costs the pii stage: CPU seconds of ``PiiStage.apply`` over real
documents as they reach the stage (the default pipeline's stages before it ran, so the metadata
holds what a run's does: format, input id, language and its line runs, plus whatever fields the
input records carry), and the part of it spent on the metadata walk.

``--fields`` adds that many string fields per record (a title, a URL, an author, ...) so the
cost on metadata-heavy inputs (JSONL with many fields, HTML with a title) is seen too.

    nice -n 10 .venv/bin/python bench/pii_metadata.py --docs 5000 [--fields 5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from cleancorpus.config import Config  # noqa: E402
from cleancorpus.document import Document, Rejection  # noqa: E402
from cleancorpus.pipeline import Pipeline  # noqa: E402
from cleancorpus.stages.pii import PiiStage  # noqa: E402

CORPUS = BENCH / "out" / "corpus-10k" / "raw" / "corpus.jsonl"
FIELDS = [("title", "Council meeting on the new library, 12 March 2024"),
          ("url", "https://news.example.org/2024/03/12/library-123456"),
          ("author", "Press office of the county council"),
          ("section", "Local news / Libraries"),
          ("summary", "About 1,200 residents signed the petition; the decision is due before the summer recess."),
          ("contact", "Questions to press.office@example.net or +44 20 7946 0958")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--fields", type=int, default=0, help="string fields added to each record's metadata")
    args = ap.parse_args()
    before = Pipeline(Config(stages=("unicode", "language")))  # the per-document stages before pii
    docs = []
    with args.corpus.open(encoding="utf-8") as fh:
        for i, line in enumerate(itertools.islice(fh, args.docs)):
            rec = json.loads(line)
            meta = {"format": "jsonl", "id": rec["id"], "input_id": rec["id"]}
            meta.update(dict(FIELDS[k % len(FIELDS)] for k in range(i, i + args.fields)))
            out = before.apply(Document(rec["id"], rec["text"], f"corpus.jsonl:{i + 1}", meta))
            if not isinstance(out, Rejection):
                docs.append(out)
    stage = PiiStage()
    text_only = PiiStage()
    text_only._redact_metadata = lambda metadata, counts: (metadata, [])  # the stage before this change
    rows = {}
    for name, s in (("text only", text_only), ("text and metadata", stage)) * 2:
        t0 = time.process_time()
        redacted = sum(1 for d in docs for e in s.apply(d).edits if e.field)
        rows[name] = {"cpu_s": round(time.process_time() - t0, 3), "metadata_redactions": redacted}
    t0 = time.process_time()
    for d in docs:
        stage._redact_metadata(d.metadata, {})
    walk = time.process_time() - t0
    print(json.dumps({"documents": len(docs), "fields_added": args.fields, **rows,
                      "metadata_walk_cpu_s": round(walk, 3),
                      "metadata_walk_share": round(walk / rows["text and metadata"]["cpu_s"], 3)}))


if __name__ == "__main__":
    main()
