"""Near-duplicate quality on the Clough & Stevenson corpus of plagiarised short answers.

    .venv/bin/python bench/neardup.py [--data DIR]

95 answers, each paired with the Wikipedia passage of its task (see the corpus README in
../shared/benchmarks/neardup/). "Derived" = cut, light or heavy revision of the source;
"near copy" = cut or light only. A system predicts "derived" when the answer lands in the
same cluster as its source. Compared: cleancorpus dedup at its default thresholds and a plain
datasketch MinHashLSH (threshold 0.5, 128 permutations, word 5-grams, query answer -> source).
Then ROC AUC of the pair scores (answer vs its source) against the published 5-gram containment.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from cleancorpus.config import DedupConfig
from cleancorpus.dedup import find_duplicates, normalize_for_hash
from cleancorpus.dedup.shingles import shingle_set
from cleancorpus.dedup.verify import similarity
from cleancorpus.document import Document

DATA = Path(__file__).resolve().parents[2] / "shared/benchmarks/neardup/clough-stevenson-plagiarised-short-answers"


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # the corpus mixes UTF-8 and Windows-1252
        return raw.decode("cp1252", errors="replace")


def load(data: Path) -> tuple[list[dict], dict[str, str]]:
    with open(data / "file_list.tsv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t")]
    texts = {r["file"]: read_text(data / "corpus-20090418" / r["file"]) for r in rows}
    return [r for r in rows if r["category"] != "orig"], texts


def ours(rows: list[dict], texts: dict[str, str], config: DedupConfig) -> dict[str, bool]:
    docs = [Document(name, text, name) for name, text in sorted(texts.items())]
    dd = find_duplicates(lambda: iter(docs), config)
    parent = {d.id: d.duplicate_of for d in dd.duplicates.values()}
    root = lambda name: parent.get(name, name)  # noqa: E731  (duplicate_of is always a kept copy)
    return {r["file"]: root(r["file"]) == root(r["source_file"]) for r in rows}


def baseline(rows: list[dict], texts: dict[str, str], threshold: float = 0.5) -> dict[str, bool]:
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = {}
    for name, text in texts.items():
        words = normalize_for_hash(text).split()
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))])
        hashes[name] = m
        lsh.insert(name, m)
    return {r["file"]: r["source_file"] in lsh.query(hashes[r["file"]]) for r in rows}


def prf(pred: dict[str, bool], rows: list[dict], positive: set[str]) -> tuple[float, float, float]:
    tp = sum(pred[r["file"]] and r["category"] in positive for r in rows)
    fp = sum(pred[r["file"]] and r["category"] not in positive for r in rows)
    fn = sum(not pred[r["file"]] and r["category"] in positive for r in rows)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = scores[labels], scores[~labels]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (pos.size * neg.size))


def pair_scores(rows: list[dict], texts: dict[str, str], n: int) -> dict[str, np.ndarray]:
    """Answer vs its source: our Jaccard and containment (in the smaller set), and the published
    reference, containment of the answer's n-grams in the source's."""
    out: dict[str, list[float]] = {"jaccard": [], "containment": [], "answer_in_source": []}
    for r in rows:
        a = shingle_set(normalize_for_hash(texts[r["file"]]), n)
        s = shingle_set(normalize_for_hash(texts[r["source_file"]]), n)
        j, c, _ = similarity(a, s)
        out["jaccard"].append(j)
        out["containment"].append(c)
        out["answer_in_source"].append(np.intersect1d(a, s).size / a.size)
    return {k: np.array(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    rows, texts = load(args.data)
    config = DedupConfig()
    print(f"{len(rows)} answers; cleancorpus thresholds: Jaccard {config.jaccard_threshold}, "
          f"containment {config.containment_threshold} (min {config.containment_min_shingles} shingles), "
          f"{config.shingle_size}-grams, {config.num_perm} perms / {config.bands} bands")
    systems = {"cleancorpus dedup": ours(rows, texts, config), "datasketch MinHashLSH t=0.5": baseline(rows, texts)}
    print("\n| system | derived (cut+light+heavy) P / R / F1 | near copy (cut+light) P / R / F1 |")
    print("|---|---|---|")
    for name, pred in systems.items():
        d = prf(pred, rows, {"cut", "light", "heavy"})
        c = prf(pred, rows, {"cut", "light"})
        print(f"| {name} | {d[0]:.3f} / {d[1]:.3f} / {d[2]:.3f} | {c[0]:.3f} / {c[1]:.3f} / {c[2]:.3f} |")
    print("\nsweep of the containment threshold (Jaccard threshold kept at its default):")
    print("| containment threshold | derived P / R / F1 | near copy P / R / F1 |\n|---|---|---|")
    for t in (0.7, 0.6, 0.5, 0.3, 0.2, 0.1):
        pred = ours(rows, texts, DedupConfig(containment_threshold=t))
        d, c = prf(pred, rows, {"cut", "light", "heavy"}), prf(pred, rows, {"cut", "light"})
        print(f"| {t} | {d[0]:.3f} / {d[1]:.3f} / {d[2]:.3f} | {c[0]:.3f} / {c[1]:.3f} / {c[2]:.3f} |")
    derived = np.array([r["category"] != "non" for r in rows])
    near = np.array([r["category"] in ("cut", "light") for r in rows])
    print("\n| n | score | AUC derived vs non | AUC (cut,light) vs (heavy,non) |")
    print("|---|---|---|---|")
    for n in (1, 3, 5):
        for name, s in pair_scores(rows, texts, n).items():
            print(f"| {n} | {name} | {auc(s, derived):.3f} | {auc(s, near):.3f} |")
    cats = ("cut", "light", "heavy", "non")
    s5 = pair_scores(rows, texts, 5)
    print("\nmean 5-gram scores per category:")
    for k, v in s5.items():
        print(f"  {k:17s}" + "  ".join(f"{c} {v[[r['category'] == c for r in rows]].mean():.3f}" for c in cats))


if __name__ == "__main__":
    main()
