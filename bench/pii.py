"""PII redaction: precision and recall per kind on the labelled set, and speed.

The labelled set is tests/cases/pii/labelled.jsonl (see its README): texts with every e-mail
address, phone number, IP address and card number marked, and hard negatives (dates, times,
years, prices, counts, versions, ISBNs, ...) that must stay. A match counts only with the same
kind and exactly the same characters. Speed: the stage over the bench corpus's documents.

Then every match on the extraction benchmark's pages (Zyte article bodies; trafilatura-eval's
annotated segments, main content and boilerplate), for reading one by one, and a probe for
misses: "@" words and numbers after a phone word or a "+" that the stage left.

    nice -n 10 .venv/bin/python bench/pii.py [--corpus bench/out/corpus-10k/raw/corpus.jsonl]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

from cleancorpus.document import Document
from cleancorpus.stages.pii import KINDS, PiiStage, find_pii

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "cases" / "pii" / "labelled.jsonl"
PAGES = ROOT.parent / "shared" / "benchmarks" / "extraction"


def pages() -> list[tuple[str, str]]:
    texts = []
    truth = json.loads((PAGES / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8"))
    texts += [(f"zyte:{k}", v["articleBody"]) for k, v in sorted(truth.items())]
    ev = json.loads((PAGES / "trafilatura-eval" / "tests" / "evaldata_subset.json").read_text(encoding="utf-8"))
    texts += [(f"trafilatura:{u}", "\n".join(v["with"] + v["without"])) for u, v in sorted(ev.items())]
    return texts


_PROBES = (re.compile(r"\S*@\S+"),
           re.compile(r"(?i)(?:tel|phone|fax|call|telefon|mobile)[^\n\d]{0,12}([+(]?\d[\d ()./-]{5,}\d)"),
           re.compile(r"\+\d[\d ()./-]{6,}\d"))


def page_check() -> None:
    texts = pages()
    found, probes = [], []
    for name, text in texts:
        spans = [(f.start, f.end) for f in find_pii(text)]
        found += [(f.kind, text[f.start:f.end], name[:60]) for f in find_pii(text)]
        for probe in _PROBES:
            for m in probe.finditer(text):
                at = m.start(m.lastindex or 0) + (m.group().find("@") if probe is _PROBES[0] else 0)
                if not any(s <= at < e for s, e in spans):
                    probes.append(m.group()[:60])
    print(f"\nextraction pages: {len(texts)} texts, {sum(len(t) for _, t in texts) / 1e6:.2f} MB; {len(found)} matches:")
    print("\n".join(f"- {k}: `{s}` ({n})" for k, s, n in found))
    is_handle = [p.lstrip("(\"").startswith("@") for p in probes]
    others = [p for p, h in zip(probes, is_handle) if not h]
    print(f"left by the stage: {sum(is_handle)} @handles (not a kind here); others: {others}")


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
    if PAGES.exists():
        page_check()
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
