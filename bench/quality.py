"""Quality signals: agreement with datatrove's filters, and speed against them.

On each corpus, the quality stage (src/cleancorpus/stages/quality.py) and datatrove's
GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter, C4BadWordsFilter and FineWebQualityFilter
(datatrove 0.10.1 with spaCy, in bench/out/venvs/datatrove, built as bench/run.py builds it) judge the same
texts. Per rule set it counts the documents on which both keep or both remove ("agreement"), and
those where the rule datatrove names is among the stage's flags ("same reason"), and lists every
disagreement with the signals that decided it. Speed: CPU seconds of all four rule sets on one
core (datatrove in its own process, the stage in this one; start-up excluded on both sides).

Corpora:
- ``bench``: the generated bench corpus (bench/gen_corpus.py, 10,000 documents by default);
- ``zyte`` / ``trafeval``: the extraction benchmark's pages (../shared/benchmarks/extraction/,
  181 and 400 pages), as cleancorpus's HTML ingest extracts them, and ``*-full``: the same pages'
  whole visible text (menus, footers and all: the texts the rules are meant to catch).

    .venv/bin/python bench/quality.py --tokens              # all corpora, 10,000 bench documents
    .venv/bin/python bench/quality.py --corpora zyte --reuse-datatrove
writes bench/out/quality.json and bench/out/quality.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
WORK = OUT / "quality"
sys.path.insert(0, str(BENCH))

from cleancorpus.stages.quality import RULE_SETS, QualityOptions, QualityStage  # noqa: E402

CORPORA = ("bench", "zyte", "zyte-full", "trafeval", "trafeval-full")
# datatrove's reason -> the stage's rule
REASONS = {
    "gopher_short_doc": "gopher_short_doc", "gopher_long_doc": "gopher_long_doc",
    "gopher_below_avg_threshold": "gopher_short_words", "gopher_above_avg_threshold": "gopher_long_words",
    "gopher_too_many_hashes": "gopher_too_many_hashes", "gopher_too_many_ellipsis": "gopher_too_many_ellipsis",
    "gopher_too_many_bullets": "gopher_too_many_bullets", "gopher_too_many_end_ellipsis": "gopher_too_many_end_ellipsis",
    "gopher_below_alpha_threshold": "gopher_few_alpha_words", "gopher_enough_stop_words": "gopher_few_stop_words",
    "empty": None,  # per rule set below
    "dup_para_frac": "gopher_dup_para_frac", "dup_para_char_frac": "gopher_dup_para_char_frac",
    "dup_line_frac": "gopher_dup_line_frac", "dup_line_char_frac": "gopher_dup_line_char_frac",
    **{f"top_{n}_gram": f"gopher_top_{n}_gram" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"gopher_dup_{n}_gram" for n in range(5, 11)},
    "too_few_sentences": "c4_too_few_sentences", "lorem_ipsum": "c4_lorem_ipsum", "curly_bracket": "c4_curly_bracket",
    "line_punct_ratio": "fineweb_line_punct_ratio", "short_line_ratio": "fineweb_short_line_ratio",
    "char_dup_ratio": "fineweb_char_dup_ratio", "list_ratio": "fineweb_list_ratio",
    "document_removed_with_badwords": "c4_badwords",
}
EMPTY = {"gopher_repetition": "gopher_empty", "fineweb": "fineweb_empty"}


def corpus_rows(name: str, docs: int, seed: int) -> list[dict]:
    """The corpus's documents as {"id", "text"}, cached in bench/out/quality/."""
    path = WORK / f"{name}-{docs}.jsonl" if name == "bench" else WORK / f"{name}.jsonl"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
    if name == "bench":
        import run  # bench/run.py: the same generated corpus every benchmark uses

        src = run.ensure_corpus(docs, seed) / "raw" / "corpus.jsonl"
        with open(src, encoding="utf-8") as fh:
            rows = [{"id": str(r["id"]), "text": r["text"]} for r in map(json.loads, fh)]
    else:
        import extraction  # bench/extraction.py: the pages and cleancorpus's HTML ingest

        pages = (extraction.load_zyte(None) if name.startswith("zyte")
                 else [(u, h, None) for u, h, _ in extraction.load_trafeval(None)])
        mode = "none" if name.endswith("-full") else "trafilatura"
        rows = [{"id": pid, "text": extraction.ours(html, mode)} for pid, html, _ in pages]
    rows = [r for r in rows if r["text"].strip()]
    WORK.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return rows


def datatrove(rows_path: Path, reuse: bool = False) -> dict:
    import run

    python = run.ensure_venv("datatrove")
    result = rows_path.with_suffix(".datatrove.json")
    if reuse and result.exists() and result.stat().st_mtime > rows_path.stat().st_mtime:
        return json.loads(result.read_text())
    subprocess.run(["nice", "-n", "10", str(python), str(BENCH / "compare" / "datatrove_quality.py"),
                    str(rows_path), str(result)], check=True)
    return json.loads(result.read_text())


def token_agreement(rows_path: Path, rows: list[dict], reuse: bool = False) -> dict:
    """Documents whose word list, and whose per-line sentence counts, equal spaCy's (what
    datatrove counts), computed by bench/compare/spacy_tokens.py in the datatrove venv."""
    import run

    from cleancorpus.stages.quality_words import WordSplitter

    python = run.ensure_venv("datatrove")
    result = rows_path.with_suffix(".spacy.json")
    if not (reuse and result.exists() and result.stat().st_mtime > rows_path.stat().st_mtime):
        subprocess.run(["nice", "-n", "10", str(python), str(BENCH / "compare" / "spacy_tokens.py"),
                        str(rows_path), str(result)], check=True)
    spacy = json.loads(result.read_text())
    splitter = WordSplitter()
    same_words = same_sentences = 0
    differ = []
    for r in rows:
        ref = spacy[r["id"]]
        words_ok = splitter.words(r["text"]) == ref["words"]
        sentences = [splitter.sentence_count(ln) for ln in r["text"].splitlines()]
        sentences_ok = sentences == ref["sentences"]
        same_words += words_ok
        same_sentences += sentences_ok
        if not (words_ok and sentences_ok):
            differ.append(r["id"])
    return {"same_words": same_words, "same_sentences": same_sentences, "documents": len(rows), "differ": differ}


QUALITY_SETS = tuple(s for s in RULE_SETS if s != "c4_badwords")


def ours(rows: list[dict]) -> tuple[dict, float, dict, float]:
    """Signals and flags of every document (all five rule sets); the CPU seconds of the four
    quality rule sets (as datatrove's four quality filters) in all and per document; the CPU
    seconds of all five (with C4's bad-words rule, found as the words are split)."""
    clock = time.process_time
    four = QualityStage(QualityOptions(rule_sets=QUALITY_SETS))
    four.signals("Warm up. Nothing to time here.")
    per_doc = {}
    t0 = clock()
    for r in rows:
        t = clock()
        four.signals(r["text"])
        per_doc[r["id"]] = clock() - t
    cpu = clock() - t0
    five = QualityStage()
    five.signals("Warm up. Nothing to time here.")
    out = {}
    t0 = clock()
    for r in rows:
        signals = five.signals(r["text"])
        out[r["id"]] = (signals, five.flags(signals))
    cpu_five = clock() - t0
    return out, cpu, per_doc, cpu_five


def like_for_like(rows: list[dict], dt: dict, per_doc: dict) -> dict:
    """CPU seconds on the documents all four datatrove quality filters keep: there datatrove
    computes every rule, as the stage always does (elsewhere it stops at the first failing rule)."""
    kept = [r["id"] for r in rows if all(dt["verdicts"][r["id"]][s] is None for s in QUALITY_SETS)]
    theirs = sum(dt["cpu_seconds_per_document"][i] for i in kept)
    mine = sum(per_doc[i] for i in kept)
    return {"documents": len(kept), "cpu_datatrove": theirs, "cpu_ours": mine,
            "speedup": theirs / mine if mine else None}


def compare(rows: list[dict], dt: dict, mine: dict, stage: QualityStage) -> dict:
    rules_of = {s: [r for r, _, _, _, rs in stage._rules if rs == s] for s in RULE_SETS}
    signal_of = {r: sig for r, sig, _, _, _ in stage._rules}
    report = {}
    for s in RULE_SETS:
        agree = same_reason = removed_dt = removed_ours = 0
        disagreements = []
        for r in rows:
            reason = dt["verdicts"][r["id"]][s]
            signals, flags = mine[r["id"]]
            ours_flags = [f for f in flags if f in rules_of[s]]
            removed_dt += reason is not None
            removed_ours += bool(ours_flags)
            expected = None if reason is None else (EMPTY.get(s) if reason == "empty" else REASONS.get(reason, reason))
            if (reason is None) == (not ours_flags):
                agree += 1
                same_reason += reason is None or expected in ours_flags
            else:
                shown = {signal_of[f]: signals[signal_of[f]] for f in ours_flags}
                if expected in signal_of:
                    shown[signal_of[expected]] = signals[signal_of[expected]]
                disagreements.append({"id": r["id"], "datatrove": reason, "ours": ours_flags,
                                      "signals": {k: round(v, 4) if isinstance(v, float) else v for k, v in shown.items()},
                                      "text_start": r["text"][:120]})
        n = len(rows)
        report[s] = {"documents": n, "agreement": agree / n, "same_reason": same_reason / n,
                     "removed_datatrove": removed_dt, "removed_ours": removed_ours, "disagreements": disagreements}
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--docs", type=int, default=10_000, help="bench corpus size")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tokens", action="store_true",
                    help="also compare the word splitter with spaCy's words and sentences, document by document")
    ap.add_argument("--reuse-datatrove", action="store_true",
                    help="reuse datatrove's verdicts, times and spaCy words from the last run")
    args = ap.parse_args(argv)
    results = {}
    stage = QualityStage()
    for name in args.corpora.split(","):
        rows = corpus_rows(name, args.docs, args.seed)
        path = WORK / (f"{name}-{args.docs}.jsonl" if name == "bench" else f"{name}.jsonl")
        print(f"{name}: {len(rows):,} documents; datatrove ...", file=sys.stderr, flush=True)
        dt = datatrove(path, args.reuse_datatrove)
        mine, cpu, per_doc, cpu_five = ours(rows)
        rep = compare(rows, dt, mine, stage)
        results[name] = {"documents": len(rows), "mb": dt["mb"], "load_average": os.getloadavg()[0],
                         "cpu_datatrove": dt["cpu_seconds_all"], "cpu_datatrove_per_filter": dt["cpu_seconds"],
                         "cpu_ours": cpu, "speedup": dt["cpu_seconds_all"] / cpu if cpu else None,
                         "cpu_datatrove_five": dt["cpu_seconds_all"] + dt["cpu_seconds"].get("c4_badwords", 0.0),
                         "cpu_ours_five": cpu_five,
                         "rule_sets": rep, "kept_by_all": like_for_like(rows, dt, per_doc)}
        if args.tokens:
            results[name]["tokens"] = token_agreement(path, rows, args.reuse_datatrove)
        print(f"  datatrove {dt['cpu_seconds_all']:.1f} CPU s, ours {cpu:.2f} CPU s "
              f"({results[name]['speedup']:.0f}x); agreement "
              + ", ".join(f"{s} {rep[s]['agreement']:.4f}" for s in RULE_SETS), file=sys.stderr, flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "quality.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    (OUT / "quality.md").write_text(markdown(results))
    print(markdown(results))
    return 0


def markdown(results: dict) -> str:
    lines = ["Agreement: share of documents on which datatrove and the stage both keep or both remove, per "
             "rule set (in brackets: and the rule datatrove names is among the stage's flags). CPU seconds of "
             "all four rule sets on one core, start-up excluded.", "",
             "| corpus | documents | MB | " + " | ".join(f"{s} agree (same reason)" for s in RULE_SETS)
             + " | datatrove CPU s | ours CPU s | speed-up |",
             "|---|---:|---:|" + "---:|" * len(RULE_SETS) + "---:|---:|---:|"]
    for name, r in results.items():
        cells = [f"{r['rule_sets'][s]['agreement']:.4f} ({r['rule_sets'][s]['same_reason']:.4f})" for s in RULE_SETS]
        lines.append(f"| {name} | {r['documents']:,} | {r['mb']:.2f} | " + " | ".join(cells)
                     + f" | {r['cpu_datatrove']:.1f} | {r['cpu_ours']:.2f} | {r['speedup']:.0f}x |")
    lines.append("")
    lines.append("Speed, MB per CPU second: the four quality rule sets against datatrove's four quality filters; "
                 "all five (with C4's bad words) against the five filters (with C4BadWordsFilter):")
    lines.append("")
    lines.append("| corpus | MB | datatrove MB/s | ours MB/s | speed-up | five: datatrove MB/s | ours MB/s | speed-up |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        d5, o5 = r.get("cpu_datatrove_five"), r.get("cpu_ours_five")
        five = f"{r['mb'] / d5:.3f} | {r['mb'] / o5:.2f} | {d5 / o5:.1f}x" if d5 and o5 else "- | - | -"
        lines.append(f"| {name} | {r['mb']:.2f} | {r['mb'] / r['cpu_datatrove']:.3f} | {r['mb'] / r['cpu_ours']:.2f} | "
                     f"{r['speedup']:.1f}x | {five} |")
    lines.append("")
    lines.append("Like for like: the documents all four datatrove filters keep (there datatrove computes "
                 "every rule, as the stage always does):")
    lines.append("")
    for name, r in results.items():
        k = r["kept_by_all"]
        if k["documents"]:
            lines.append(f"- {name}: {k['documents']:,} documents, datatrove {k['cpu_datatrove']:.2f} CPU s, "
                         f"ours {k['cpu_ours']:.3f} CPU s ({k['speedup']:.0f}x)")
    if any("tokens" in r for r in results.values()):
        lines.append("")
        lines.append("Word splitter against spaCy (documents with the same word list / the same sentence count "
                     "on every line):")
        lines.append("")
        for name, r in results.items():
            if "tokens" in r:
                t = r["tokens"]
                lines.append(f"- {name}: {t['same_words']:,} / {t['same_sentences']:,} of {t['documents']:,}")
    lines.append("")
    lines.append("Removed by datatrove / by the stage, per rule set:")
    lines.append("")
    for name, r in results.items():
        lines.append(f"- {name}: " + "; ".join(
            f"{s} {r['rule_sets'][s]['removed_datatrove']}/{r['rule_sets'][s]['removed_ours']}" for s in RULE_SETS))
    lines.append("")
    lines.append("Disagreements:")
    lines.append("")
    for name, r in results.items():
        for s in RULE_SETS:
            for d in r["rule_sets"][s]["disagreements"]:
                lines.append(f"- {name} `{d['id']}` {s}: datatrove {d['datatrove'] or 'keeps'}, "
                             f"ours {', '.join(d['ours']) or 'keeps'}; {d['signals']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
