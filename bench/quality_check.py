"""Signals check for the quality stage: did a change (a speed-up) change any signal or flag?

Computes the signals and flags of every document of bench/quality.py's corpora (the files it
caches in bench/out/quality/) and writes them to a JSON file, or compares them with such a file
written by another version of the code. Exact comparison: every signal value (floats by their
repr, not rounded), every flag list. Four ways per corpus, because the stage's memos and options
change which code path computes a value: all five rule sets in a fresh stage, the four quality
rule sets in a fresh stage, all five in one stage shared by every corpus (warm memos), and the
n-gram statistics with each of their two implementations forced.

    .venv/bin/python bench/quality_check.py --write /tmp/quality-ref.json    # with the old code
    .venv/bin/python bench/quality_check.py --check /tmp/quality-ref.json    # with the new code

Exit status 1 and the first differences listed when anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from cleancorpus.stages.quality import RULE_SETS, QualityOptions, QualityStage, ngram_repetition  # noqa: E402

import quality  # noqa: E402  (bench/quality.py: the corpora)


def _plain(value):
    return repr(value) if isinstance(value, float) else value


def signals_of(corpora: list[str], docs: int, seed: int) -> dict:
    out: dict = {}
    shared = QualityStage()
    four_sets = tuple(s for s in RULE_SETS if s != "c4_badwords")
    for name in corpora:
        rows = quality.corpus_rows(name, docs, seed)
        t0 = time.process_time()
        five, four = QualityStage(), QualityStage(QualityOptions(rule_sets=four_sets))
        for way, stage in (("five", five), ("four", four), ("shared", shared)):
            for r in rows:
                s = stage.signals(r["text"])
                out[f"{name}/{way}/{r['id']}"] = [{k: _plain(v) for k, v in s.items()}, stage.flags(s)]
        for r in rows:
            words = five.words.words(r["text"])
            for forced in (False, True):
                top, dup = ngram_repetition(words, use_numpy=forced)
                out[f"{name}/ngrams-{'numpy' if forced else 'python'}/{r['id']}"] = [
                    sorted(top.items()), sorted(dup.items())]
        print(f"{name}: {len(rows):,} documents, {time.process_time() - t0:.1f} CPU s", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=",".join(quality.CORPORA))
    ap.add_argument("--docs", type=int, default=10_000, help="bench corpus size")
    ap.add_argument("--seed", type=int, default=7)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="write the signals to this file")
    mode.add_argument("--check", type=Path, help="compare the signals with this file")
    args = ap.parse_args(argv)
    got = json.loads(json.dumps(signals_of(args.corpora.split(","), args.docs, args.seed)))
    if args.write:
        args.write.write_text(json.dumps(got))
        print(f"wrote {len(got):,} entries to {args.write}")
        return 0
    ref = json.loads(args.check.read_text())
    corpora = set(args.corpora.split(","))
    missing = [k for k in ref if k not in got and k.split("/")[0] in corpora]
    differ = [k for k in got if k in ref and got[k] != ref[k]]
    new = [k for k in got if k not in ref]
    for k in differ[:10]:
        print(f"DIFFERS {k}:\n  ref {ref[k]}\n  got {got[k]}")
    print(f"{len(got):,} entries compared: {len(differ)} differ, {len(new)} not in the reference, "
          f"{len(missing)} of the reference's missing")
    return 1 if differ or new or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
