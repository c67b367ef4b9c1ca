"""PII redaction: precision and recall per kind on the labelled set, and speed.

The labelled set is tests/cases/pii/labelled.jsonl (see its README): texts with every e-mail
address, phone number, IP address and card number marked, and hard negatives (dates, times,
years, prices, counts, versions, ISBNs, ...) that must stay. A match counts only with the same
kind and exactly the same characters. Speed: the stage over the bench corpus's documents.

    nice -n 10 .venv/bin/python bench/pii.py [--corpus bench/out/corpus-10k/raw/corpus.jsonl]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from cleancorpus.document import Document
from cleancorpus.stages.pii import KINDS, PiiStage, find_pii

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "cases" / "pii" / "labelled.jsonl"


def score(path: Path = LABELLED) -> tuple[dict[str, dict[str, float]], list[str]]:
    tp, fp, fn = Counter(), Counter(), Counter()
    misses = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        text = case["text"]
        want = Counter((k, s) for k, s in case["pii"])
        got = Counter((f.kind, text[f.start:f.end]) for f in find_pii(text))
        for key in want | got:
            hit = min(want[key], got[key])
            tp[key[0]] += hit
            fp[key[0]] += got[key] - hit
            fn[key[0]] += want[key] - hit
        if want != got:
            misses.append(f"{case['note']}: expected {sorted(want.elements())}, found {sorted(got.elements())}")
    table = {}
    for k in (*KINDS, "all"):
        t, p, n = (sum(c.values()) if k == "all" else c[k] for c in (tp, fp, fn))
        table[k] = {"tp": t, "fp": p, "fn": n,
                    "precision": t / (t + p) if t + p else 1.0, "recall": t / (t + n) if t + n else 1.0}
    return table, misses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT / "bench" / "out" / "corpus-10k" / "raw" / "corpus.jsonl")
    args = ap.parse_args()
    table, misses = score()
    cases = len(LABELLED.read_text(encoding="utf-8").splitlines())
    print(f"labelled set: {cases} texts\n\n| kind | marked | found right | wrong | missed | precision | recall |\n|---|---|---|---|---|---|---|")
    for k, r in table.items():
        print(f"| {k} | {r['tp'] + r['fn']} | {r['tp']} | {r['fp']} | {r['fn']} | {r['precision']:.3f} | {r['recall']:.3f} |")
    print("\nDifferences:\n" + "\n".join(f"- {m}" for m in misses))
    if args.corpus.exists():
        stage = PiiStage()
        docs = [Document(str(i), json.loads(l)["text"], "b") for i, l in enumerate(args.corpus.open(encoding="utf-8"))]
        chars = sum(len(d.text) for d in docs)
        t0 = time.process_time()
        found = Counter()
        for d in docs:
            for k, n in stage.apply(d).metadata["pii"].items():
                found[k] += n
        cpu = time.process_time() - t0
        print(f"\n{args.corpus}: {len(docs)} documents, {chars / 1e6:.1f} MB of text: {cpu:.2f} CPU s, "
              f"{chars / 1e6 / cpu:.1f} MB/CPU s; redacted {dict(found)}")


if __name__ == "__main__":
    main()
