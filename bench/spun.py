"""Spun-text repair and spelling: quality and throughput.

    .venv/bin/python bench/spun.py [--articles 40] [--rate 0.6] [--split test|dev] [--tune]

1. WER of repaired raw/000 against raw/001 on the sentences the two share (aligned here), with
   repair_text alone (no corpus statistics) and with the spun stage fitted on raw/ as a corpus.
2. WER before/after on synthetic spun text: forward swaps applied (cleancorpus.spinsim) to clean
   articles (Zyte article-extraction-benchmark ground truth, ../shared), once per swap set: the
   issue's list, the whole lexicon run forwards, and held-out swaps the lexicon lacks. Articles
   are split by sorted id: the first 20 ("dev") were used while tuning costs and thresholds
   (``--tune`` prints that grid); the rest ("test") were not.
3. False alarms: spun edits made on the clean originals of those articles and on raw/001-004.
4. Throughput (words/s) of the spun and spelling stages on clean and on spun text.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from pathlib import Path

from cleancorpus.document import Document
from cleancorpus.spinsim import SWAP_SETS, spin, word_errors, words
from cleancorpus.stages.spelling import SpellingStage
from cleancorpus.stages.spun import SpunOptions, SpunStage, sentences, tokenize

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
TRUTH = ROOT.parent / "shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json"
DEV = 20
MAX_WORDS = 400


def sentence_texts(text: str) -> list[str]:
    toks = tokenize(text)
    return [text[toks[s].start:toks[e - 1].end] for s, e in sentences(toks)]


def shared_pairs(spun: str, clean: str) -> list[tuple[str, str]]:
    """(clean sentence, spun sentence) pairs: each clean sentence with its best spun match."""
    cands = sentence_texts(spun)
    pairs = []
    for ref in sentence_texts(clean):
        rw = [w.lower() for w in words(ref)]
        best = max(cands, key=lambda c: difflib.SequenceMatcher(None, rw, [w.lower() for w in words(c)]).ratio())
        if len(rw) >= 4 and difflib.SequenceMatcher(None, rw, [w.lower() for w in words(best)]).ratio() >= 0.5:
            pairs.append((ref, best))
    return pairs


def aligned_wer(pairs: list[tuple[str, str]]) -> tuple[float, float, int]:
    """Strict WER, and WER not counting runs of 3+ inserted words (clauses the clean copy lacks)."""
    errors = extra = n = 0
    for ref, hyp in pairs:
        r, h = words(ref), words(hyp)
        n += len(r)
        errors += word_errors(r, h)
        sm = difflib.SequenceMatcher(None, r, h, autojunk=False)
        extra += sum(j2 - j1 for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag == "insert" and j2 - j1 >= 3)
    return errors / n, (errors - extra) / n, n


def repairer(stages):
    def run(text: str) -> str:
        doc = Document("bench", text, "<bench>")
        for st in stages:
            doc = st.apply(doc)
        return doc.text
    return run


def articles(split: str, limit: int) -> list[str]:
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    ids = sorted(truth)
    ids = ids[:DEV] if split == "dev" else ids[DEV:]
    texts = []
    for k in ids:
        body = truth[k]["articleBody"]
        if len(body.split()) >= 150:
            toks = tokenize(body)
            cut = toks[min(MAX_WORDS, len(toks)) - 1].end
            texts.append(body[:cut])
        if len(texts) == limit:
            break
    return texts


def synthetic_wer(stage: SpunStage, clean: list[str], rate: float, swaps: str) -> tuple[float, float, int]:
    fix = repairer([stage])
    before = after = n = 0
    for i, c in enumerate(clean):
        s = spin(c, rate, seed=i, swaps=swaps)
        r = words(c)
        n += len(r)
        before += word_errors(r, words(s))
        after += word_errors(r, words(fix(s)))
    return before / n, after / n, n


def tune(rate: float) -> None:
    """The grid the in-document costs were chosen from: dev split only, lexicon and issue swaps."""
    clean = articles("dev", 20)
    print(f"== cost grid on the dev split ({len(clean)} articles, rate {rate}): WER after, issue / lexicon / held-out swaps")
    for amb in (0.5, 1.0, 1.5):
        for syn in (0.0, 0.3, 0.6, 1.0):
            stage = SpunStage(SpunOptions(spun_ambiguous_cost=amb, spun_synonym_cost=syn))
            cells = [synthetic_wer(stage, clean, rate, w)[1] for w in SWAP_SETS]
            print(f"  ambiguous {amb:.1f} synonym {syn:.1f}: " + " / ".join(f"{c:.4f}" for c in cells))


def throughput(stage, texts: list[str], repeat: int = 2) -> float:
    docs = [Document(str(i), t, "<bench>") for i, t in enumerate(texts)]
    n = sum(len(tokenize(t)) for t in texts) * repeat
    t0 = time.perf_counter()
    for _ in range(repeat):
        for d in docs:
            stage.apply(d)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--rate", type=float, default=0.6)
    ap.add_argument("--split", choices=("dev", "test"), default="test")
    ap.add_argument("--tune", action="store_true", help="only print the dev-split cost grid")
    args = ap.parse_args()
    if args.tune:
        return tune(args.rate)

    spun_stage, spelling = SpunStage(), SpellingStage()
    raw = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))}
    fitted, fitted_spell = SpunStage(), SpellingStage()
    fitted.fit(Document(k, t, k) for k, t in raw.items())
    fitted_spell.fit(Document(k, t, k) for k, t in raw.items())
    runs = [("unrepaired", lambda t: t),
            ("repair_text (spun+spelling, no fit)", repairer([spun_stage, spelling])),
            ("corpus run (both stages fitted on raw/)", repairer([fitted, fitted_spell]))]
    print("== raw/000 repaired as a whole, then its sentences aligned with raw/001's")
    for label, fn in runs:
        pairs = shared_pairs(fn(raw["000"]), raw["001"])
        strict, loose, n = aligned_wer(pairs)
        print(f"  {label:40s} WER {strict:.3f}  (not counting clauses 001 lacks: {loose:.3f}; "
              f"{len(pairs)} sentences, {n} words)")

    clean = articles(args.split, args.articles)
    spun = [spin(t, args.rate, seed=i) for i, t in enumerate(clean)]
    print(f"== synthetic spun text ({args.split} split, {len(clean)} articles, swap rate {args.rate})")
    for which in SWAP_SETS:
        before, after, n = synthetic_wer(spun_stage, clean, args.rate, which)
        print(f"  {which:8s} swaps: WER before {before:.4f}  after {after:.4f}  ({n} words)")

    false_docs = sum(1 for t in clean if spun_stage.apply(Document("c", t, "c")).edits)
    false_edits = sum(len(spun_stage.apply(Document("c", t, "c")).edits) for t in clean)
    raw_edits = {k: len(spun_stage.apply(Document(k, t, k)).edits) for k, t in raw.items() if k != "000"}
    print(f"== false alarms: clean articles with spun edits {false_docs}/{len(clean)} ({false_edits} edits); raw/001-004 spun edits {raw_edits}")

    fixes = [(e.before, e.after) for t in clean for e in spelling.apply(Document("c", t, "c")).edits]
    print(f"== spelling edits on the clean articles: {len(fixes)} {fixes[:12]}")

    clean_texts = clean + [raw[k] for k in ("001", "002", "003", "004")]
    print("== throughput (words/s, one process, shared 2-core machine)")
    print(f"  spun stage     clean text {throughput(spun_stage, clean_texts):9.0f}   spun text {throughput(spun_stage, spun):9.0f}")
    print(f"  spelling stage clean text {throughput(spelling, clean_texts):9.0f}   spun text {throughput(spelling, spun):9.0f}")


if __name__ == "__main__":
    sys.exit(main())
