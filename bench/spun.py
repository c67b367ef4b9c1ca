"""Spun-text repair and spelling: quality and throughput.

    .venv/bin/python bench/spun.py [--articles 40] [--rate 0.6] [--split test|dev] [--tune]
    .venv/bin/python bench/spun.py --learned      # sections 5-7 only (issue 17)

1. WER of repaired raw/000 against raw/001 on the sentences the two share (aligned here), with
   repair_text alone (no corpus statistics) and with the spun stage fitted on raw/ as a corpus.
2. WER before/after on synthetic spun text: forward swaps applied (cleancorpus.spinsim) to clean
   articles (Zyte article-extraction-benchmark ground truth, ../shared), once per swap set: the
   issue's list, the whole lexicon run forwards, and held-out swaps the lexicon lacks. Articles
   are split by sorted id: the first 20 ("dev") were used while tuning costs and thresholds
   (``--tune`` prints that grid); the rest ("test") were not.
3. False alarms: spun edits made on the clean originals of those articles and on raw/001-004.
4. Throughput (words/s) of the spun and spelling stages on clean and on spun text.
5. Learned swaps: all eligible articles split by parity; the even half gives (clean, spun) pairs,
   the spun stage is fitted on them plus the odd half's spun documents (no clean twin), and the
   odd half's spun documents are repaired: WER without fit and with the mined corpus lexicon,
   false alarms of the fitted stage on the odd half's clean articles.
6. Scorer components on the synthetic sets (test split): symspellpy unigrams alone, + wordfreq,
   + WordNet proposals; and the WordNet proposals forced on (every document treated as spun).
7. Detection: precision and recall, document and sentence level, on a labelled set built from
   the test split's articles (clean = negatives; spun with each swap set = positives).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from pathlib import Path

from cleancorpus.document import Document
from cleancorpus.spinsim import SWAP_SETS, spin, spin_wordnet, word_errors, words
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


def all_articles() -> list[str]:
    return articles("dev", DEV) + articles("test", 10_000)


def spun_set(clean: list[str], which: str, rate: float, seed0: int = 0) -> list[str]:
    if which == "wordnet":
        return [spin_wordnet(t, rate, seed=seed0 + i) for i, t in enumerate(clean)]
    return [spin(t, rate, seed=seed0 + i, swaps=which) for i, t in enumerate(clean)]


def corpus_wer(fn, clean: list[str], spun: list[str]) -> tuple[float, float]:
    before = after = n = 0
    for c, s in zip(clean, spun):
        r = words(c)
        n += len(r)
        before += word_errors(r, words(s))
        after += word_errors(r, words(fn(s)))
    return before / n, after / n


def learned(rate: float) -> None:
    arts = all_articles()
    mine_half, rep_half = arts[0::2], arts[1::2]
    print(f"== learned swaps: {len(mine_half)} articles mine (clean + spun pairs), {len(rep_half)} are repaired "
          f"(swap rate {rate})")
    # "issue" alone shows the lexicon's share of the "mixed" figures: the rest is the held-out swaps
    for which in ("heldout", "mixed", "issue"):
        docs = []
        for i, c in enumerate(mine_half):
            docs.append(Document(f"m{i:03d}-clean", c, "bench"))
            docs.append(Document(f"m{i:03d}-spun", spun_set([c], which, rate, 1000 + i)[0], "bench"))
        spun = spun_set(rep_half, which, rate)
        docs += [Document(f"r{i:03d}-spun", s, "bench") for i, s in enumerate(spun)]
        fitted = SpunStage()
        t0 = time.process_time()
        fitted.fit(docs)
        cpu = time.process_time() - t0
        before, nofit = corpus_wer(repairer([SpunStage()]), rep_half, spun)
        _, fit = corpus_wer(repairer([fitted]), rep_half, spun)
        fingerprints = sum(1 for e in fitted._index.values() for x in e if x.lexicon == "corpus" and x.kind == "marker")
        alarms = [len(fitted.apply(Document("c", c, "c")).edits) for c in rep_half]
        print(f"  {which:8s}: WER before {before:.4f}  repaired without fit {nofit:.4f}  with the mined lexicon {fit:.4f}; "
              f"{len(fitted.mined)} swaps mined ({fingerprints} fingerprints), fit {cpu:.1f} s CPU; "
              f"false alarms on the clean half: {sum(1 for a in alarms if a)} docs / {sum(alarms)} edits")
        if which == "heldout":
            top = sorted(fitted.mined.values(), key=lambda m: (-m.count, m.spun))[:8]
            print("    mined: " + ", ".join(f"{' '.join(m.spun)}->{m.original} x{m.count} ({m.clean_uses} clean)" for m in top))


def components(rate: float) -> None:
    """What each scorer component buys. No fit: symspellpy's unigrams, wordfreq (on rare words
    only, and on every word as first built), WordNet proposals. Fitted: the stage is fitted on
    a corpus of the other articles' clean text (the 124 not in the test split) plus the test
    split's spun copies (as a real corpus would hold them), then repairs those copies: the
    corpus mix at the old weight 0.5, at 0.05, + corpus trigrams, + WordNet proposals."""
    clean = articles("test", 40)
    others = [a for a in all_articles() if a not in clean]
    sets = [(w, rate) for w in SWAP_SETS] + [("wordnet", 0.3)]
    print(f"== scorer components on the test split ({len(clean)} articles): WER after, "
          + " / ".join(f"{w} {r}" for w, r in sets) + "; raw/000 vs 001 (no fit, then fitted on raw/)")
    spun = {w: spun_set(clean, w, r) for w, r in sets}
    print("  before                                        " + " / ".join(f"{corpus_wer(lambda t: t, clean, spun[w])[0]:.4f}" for w, _ in sets))
    wn = dict(wordnet=True, spun_wordnet_cost=3.0, spun_inflection_cost=5.0, spun_phrase_cost=3.0)
    wn5 = dict(wordnet=True, spun_wordnet_cost=5.0, spun_inflection_cost=7.0, spun_phrase_cost=5.0)
    rows = [("no fit: symspellpy unigrams alone", False, dict(wordfreq_weight=0.0)),
            ("no fit: + wordfreq on every word", False, dict(wordfreq_below=1.0)),
            ("no fit: + wordfreq on rare words (default)", False, dict()),
            ("no fit: + WordNet proposals (costs 3/5/3)", False, wn),
            ("no fit: WordNet forced on every document", False, dict(wn, document_threshold=0.0)),
            ("fitted: corpus mix 0.5, no trigrams", True, dict(corpus_weight=0.5, trigrams=False)),
            ("fitted: corpus mix 0.05, no trigrams (default)", True, dict()),
            ("fitted: + corpus trigrams (opt-in)", True, dict(trigrams=True)),
            ("fitted: + WordNet proposals (costs 3/5/3)", True, wn),
            ("fitted: + WordNet proposals (costs 5/7/5)", True, wn5)]
    raw = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))}
    for label, fitted, kw in rows:
        cells = []
        for w, _ in sets:
            stage = SpunStage(SpunOptions(**kw))
            if fitted:
                stage.fit([Document(f"o{i:03d}", t, "bench") for i, t in enumerate(others)]
                          + [Document(f"s{i:03d}", t, "bench") for i, t in enumerate(spun[w])])
            cells.append(corpus_wer(repairer([stage]), clean, spun[w])[1])
            if w == "issue":  # false alarms of the stage as fitted on the issue-spun corpus
                alarms = sum(len(stage.apply(Document("c", c, "c")).edits) for c in clean)
        stage = SpunStage(SpunOptions(**kw))
        if fitted:
            stage.fit(Document(k, t, k) for k, t in raw.items())
        strict, loose, _ = aligned_wer(shared_pairs(repairer([stage])(raw["000"]), raw["001"]))
        print(f"  {label:46s}" + " / ".join(f"{c:.4f}" for c in cells)
              + f"   raw/000 vs 001 {strict:.3f} / {loose:.3f}; clean-article edits {alarms}")


def detection(rate: float) -> None:
    """Document flagged = the stage made a spun edit (or set ``spun_unseen``); sentence flagged =
    an edit inside it, or (unseen detector) a sentence in ``spun_unseen_spans``."""
    clean = articles("test", 40)
    arts = all_articles()
    mined = SpunStage()
    # the fitted detector mines from the dev split and the even half of the rest, none of the test
    # articles used here: pairs spun with the held-out swaps
    mine_from = [a for a in arts[0::2] if a not in clean]
    mined.fit([Document(f"m{i}-{k}", t, "b") for i, c in enumerate(mine_from)
               for k, t in (("c", c), ("s", spin(c, rate, seed=1000 + i, swaps="heldout")))])
    print(f"== detection on the test split ({len(clean)} clean articles as negatives; each swap set's spun copies as positives; "
          f"'fitted' = mined from {len(mine_from)} other articles' held-out-swap pairs)")
    unseen = SpunStage(SpunOptions(detect_unseen=True))
    # both: the corpus's fingerprints and the WordNet readings' gain
    both = SpunStage(SpunOptions(detect_unseen=True))
    both.fit([Document(f"m{i}-{k}", t, "b") for i, c in enumerate(mine_from)
              for k, t in (("c", c), ("s", spin(c, rate, seed=1000 + i, swaps="heldout")))])
    raw = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))}
    raw_flags = {k: _doc_flag(unseen.apply(Document(k, raw[k], k))) for k in ("001", "002", "003", "004")}
    print(f"  (detect_unseen on raw/001-004: {raw_flags})")
    for label, stage in (("no fit", SpunStage()), ("fitted", mined), ("unseen", unseen), ("fit+uns", both)):
        neg_docs = [stage.apply(Document("c", c, "c")) for c in clean]
        fp_docs = sum(1 for d in neg_docs if _doc_flag(d))
        fp_sent = sum(_flagged(d)[1] for d in neg_docs)
        for which, r in [(w, rate) for w in SWAP_SETS] + [("wordnet", 0.3), ("wordnet", 0.15)]:
            spun = spun_set(clean, which, r)
            tp_docs = tp_s = pos_s = flag_s = 0
            for c, s in zip(clean, spun):
                d = stage.apply(Document("s", s, "s"))
                tp_docs += _doc_flag(d) and s != c
                labels = _sentence_labels(c, s)
                flags, _ = _flagged(d)
                if labels is None or len(labels) != len(flags):
                    continue
                pos_s += sum(labels)
                tp_s += sum(1 for a, b in zip(labels, flags) if a and b)
                flag_s += sum(flags)
            pos_docs = sum(1 for c, s in zip(clean, spun) if s != c)
            p_doc = f"{tp_docs / (tp_docs + fp_docs):.3f}" if tp_docs + fp_docs else "-"
            p_sent = f"{tp_s / (flag_s + fp_sent):.3f}" if flag_s + fp_sent else "-"
            print(f"  {label:7s} {which:8s} {r:.2f}: documents P {p_doc} R {tp_docs / max(1, pos_docs):.3f} "
                  f"({tp_docs}/{pos_docs}, {fp_docs} clean flagged); sentences P {p_sent} R {tp_s / max(1, pos_s):.3f} "
                  f"({tp_s}/{pos_s}, {fp_sent} clean sentences flagged)")


def _doc_flag(doc: Document) -> bool:
    """Flagged: a spun edit was made, or (detect_unseen) the document was flagged as spun with
    swaps no lexicon holds."""
    return bool(doc.edits) or bool(doc.metadata.get("spun_unseen"))


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    toks = tokenize(text)
    return [(toks[s].start, toks[e - 1].end) for s, e in sentences(toks)]


def _sentence_labels(clean: str, spun: str) -> list[bool] | None:
    a, b = sentence_texts(clean), sentence_texts(spun)
    if len(a) != len(b):
        return None
    return [x != y for x, y in zip(a, b)]


def _flagged(doc: Document) -> tuple[list[bool], int]:
    """Per sentence of the stage's input: whether a spun edit falls inside it (edit spans index
    the input text, which the document's edits let us rebuild)."""
    from cleancorpus.document import revert
    source = revert(doc.text, doc.edits)
    spans = _sentence_spans(source)
    unseen = doc.metadata.get("spun_unseen_spans") or []  # detect_unseen flags sentences too
    flags = [any(s <= e.start < t for e in doc.edits) or any(s <= u[0] < t for u in unseen) for s, t in spans]
    return flags, sum(flags)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--rate", type=float, default=0.6)
    ap.add_argument("--split", choices=("dev", "test"), default="test")
    ap.add_argument("--tune", action="store_true", help="only print the dev-split cost grid")
    ap.add_argument("--learned", action="store_true", help="only sections 5-7 (learned swaps, components, detection)")
    args = ap.parse_args()
    if args.tune:
        return tune(args.rate)
    if args.learned:
        learned(args.rate)
        components(args.rate)
        detection(args.rate)
        return None

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
