"""Why spun (and spelling after it) recompute documents after a small corpus change, and what
spun's fit costs per run: the stage alone, outside the pipeline, on bench/gen_corpus.py's text.

    nice -n 10 .venv/bin/python bench/spun_reuse.py --corpus CORPUS.jsonl --docs 30000

CORPUS.jsonl: one {"id", "text"} a line (gen_corpus.py's raw/corpus.jsonl; the first DOCS lines
are the corpus, the next DOCS/100 the added 1%). The documents go through unicode, boilerplate
and language (fitted on all of them, as the pipeline would before spun) and are kept in
<work>/pre-DOCS.pkl for the next run. Then:

  before  spun fitted on the DOCS documents; every document applied with its reads recorded
  after   spun fitted on them plus the added 1% (``--step add``) or minus the last 1%
          (``--step delete``); every stored record checked (``Stage.miss_cause``)

and, for each document whose record no longer holds, spun applied again: was the recompute
needed (the output changed) or only cautious (same output)? An output that changed changes
spelling's input; what changed is classified (text, or only an edit's confidence, reason, or
the metadata). Spelling is then fitted on spun's outputs before and after, and its records of
the documents whose input did not change are checked too. Costs of spun's per-run work are
timed: partial_fit of the added documents, pair finding, finish_fit (the second with the memo the
first left, as work.merge_fit runs it, and without), pickling the fitted stage, unpickling the
records and checking them (without the documents: the "new lexicon word" check is then
conservative).
The summary goes to stdout as JSON.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cleancorpus.config import Config  # noqa: E402
from cleancorpus.document import Document, Rejection  # noqa: E402
from cleancorpus.incremental import FIT_CHUNK  # noqa: E402


def cpu() -> float:
    return time.process_time()


def fit(stage, docs, parts=None):
    """Fit as the pipeline does: statistics per chunk, merged. Returns the per-chunk parts."""
    if parts is None:
        parts = [stage.partial_fit(docs[i:i + FIT_CHUNK]) for i in range(0, len(docs), FIT_CHUNK)]
    stage.finish_fit(stage.merge_stats(parts))
    return parts


def pre_spun(lines: list[str], cache: Path) -> list[Document]:
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    stages = {s.name: s for s in Config().build_stages()}
    docs = []
    for i, line in enumerate(lines):
        obj = json.loads(line)
        docs.append(Document(obj["id"], obj["text"], f"corpus.jsonl:{i + 1}"))
    for name in ("unicode", "boilerplate", "language"):
        st = stages[name]
        if st.needs_corpus:
            fit(st, docs)
        out = []
        for d in docs:
            r = st.apply(d)
            if not isinstance(r, Rejection):
                out.append(r)
        docs = out
        print(f"pre-spun: {name} done, {len(docs)} documents", file=sys.stderr, flush=True)
    cache.write_bytes(pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL))
    return docs


def delta(a: Document, b: Document) -> str:
    """What differs between two outputs of the same input."""
    if a.text != b.text:
        return "text"
    ea, eb = a.edits, b.edits
    if len(ea) != len(eb) or any((x.start, x.end, x.after) != (y.start, y.end, y.after) for x, y in zip(ea, eb)):
        return "edits"
    if any(x.reason != y.reason for x, y in zip(ea, eb)):
        return "reason only" if all(x.confidence == y.confidence for x, y in zip(ea, eb)) else "reason+confidence"
    if any(x.confidence != y.confidence for x, y in zip(ea, eb)):
        return "confidence only"
    if a.metadata != b.metadata:
        keys = sorted(k for k in set(a.metadata) | set(b.metadata) if a.metadata.get(k) != b.metadata.get(k))
        return "metadata " + ",".join(keys)
    return "same"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--docs", type=int, default=30_000)
    ap.add_argument("--step", choices=("add", "delete"), default="add")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "spun_reuse")
    ap.add_argument("--no-spelling", action="store_true")
    ap.add_argument("--diagnose", action="store_true", help="write the failing budgets to <work>/diagnose.json")
    ap.add_argument("--verify", action="store_true",
                    help="also apply spun again to every document whose record holds: its output must be the same")
    args = ap.parse_args()
    per = max(1, args.docs // 100)
    with args.corpus.open(encoding="utf-8") as fh:
        lines = [ln for _, ln in zip(range(args.docs + per), fh)]
    args.work.mkdir(parents=True, exist_ok=True)
    docs = pre_spun(lines, args.work / f"pre-{args.docs}.pkl")
    n_base = sum(1 for d in docs if int(d.source.rsplit(":", 1)[1]) <= args.docs)
    base, extra = docs[:n_base], docs[n_base:]
    if args.step == "delete":
        cut = sum(1 for d in base if int(d.source.rsplit(":", 1)[1]) > args.docs - per)
        after_docs = base[:n_base - cut]
    else:
        after_docs = base + extra
    cfg = Config()
    spun_of = lambda: next(s for s in cfg.build_stages() if s.name == "spun")  # noqa: E731
    res: dict = {"docs": len(base), "step": args.step, "after_docs": len(after_docs)}

    s0 = spun_of()
    t = cpu()
    parts0 = [s0.partial_fit(base[i:i + FIT_CHUNK]) for i in range(0, len(base), FIT_CHUNK)]
    res["cpu_partial_fit_all"] = round(cpu() - t, 2)
    t = cpu()
    merged0 = s0.merge_stats(parts0)
    res["cpu_merge_stats"] = round(cpu() - t, 2)
    t = cpu()
    pairs = s0.spun_pairs(merged0.sketches) if s0.options.learn_swaps else []
    res["cpu_spun_pairs"] = round(cpu() - t, 2)
    res["pairs"] = len(pairs)
    t = cpu()
    s0.fit_memo = {}  # as work.merge_fit does: the fit leaves a memo for the next one
    s0.finish_fit(merged0)
    res["cpu_finish_fit"] = round(cpu() - t, 2)
    memo = s0.take_fit_memo()
    res["memo_mib"] = round(len(pickle.dumps(memo, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20, 1)
    t = cpu()
    blob = pickle.dumps(s0, protocol=pickle.HIGHEST_PROTOCOL)
    res["cpu_pickle"] = round(cpu() - t, 2)
    res["pickle_mib"] = round(len(blob) / 2**20, 1)
    t = cpu()
    pickle.loads(blob)
    res["cpu_unpickle"] = round(cpu() - t, 2)
    print(json.dumps(res), file=sys.stderr, flush=True)

    t = cpu()
    out0, reads0 = {}, {}
    for d in base:
        o, r = s0.apply_recorded(d)
        out0[d.id], reads0[d.id] = o, r
    res["cpu_apply_all"] = round(cpu() - t, 2)
    res["reads_json_mib"] = round(sum(len(json.dumps(r)) for r in reads0.values()) / 2**20, 1)
    print(json.dumps(res), file=sys.stderr, flush=True)

    s1 = spun_of()
    t = cpu()
    if args.step == "add":
        parts1 = parts0 + [s1.partial_fit(extra)]
    else:
        parts1 = [s1.partial_fit(after_docs[i:i + FIT_CHUNK]) for i in range(0, len(after_docs), FIT_CHUNK)]
    merged1 = s1.merge_stats(parts1)
    res["cpu_refit_counts"] = round(cpu() - t, 2)
    t = cpu()
    s1.finish_fit(merged1)
    res["cpu_finish_fit_after_without_memo"] = round(cpu() - t, 2)
    without = pickle.dumps(s1, protocol=pickle.HIGHEST_PROTOCOL)
    s1 = spun_of()
    s1.fit_memo = memo
    t = cpu()
    s1.finish_fit(merged1)
    res["cpu_finish_fit_after_with_memo"] = round(cpu() - t, 2)
    # (apart from the earlier fits' lexicon words the memo hands the check: not part of the fit)
    earlier = getattr(s1._index, "_earlier", None)
    if earlier is not None:
        s1._index._earlier = {}
    res["fitted_same_with_memo"] = pickle.dumps(s1, protocol=pickle.HIGHEST_PROTOCOL) == without
    if earlier is not None:
        s1._index._earlier = earlier
    s1.take_fit_memo()
    keep = {d.id for d in after_docs}
    fresh = pickle.dumps(s1, protocol=pickle.HIGHEST_PROTOCOL)  # (without the run's tables of moves)
    t = cpu()
    check_only = [s1.miss_cause(reads0[d.id], None) for d in base if d.id in keep]
    res["cpu_check_records_without_documents"] = round(cpu() - t, 2)
    if hasattr(s1, "affected"):  # as a run checks them: one input file's records at once (1% each)
        s2, recs = pickle.loads(fresh), [reads0[d.id] for d in base if d.id in keep]
        per, by_file = max(1, len(recs) // 100), []
        t = cpu()
        for i in range(0, len(recs), per):
            part = recs[i:i + per]
            may = s2.affected(part)
            by_file += [s2.miss_cause(r, None) if j in may else None for j, r in enumerate(part)]
        res["cpu_check_records_per_file_without_documents"] = round(cpu() - t, 2)
        res["per_file_check_same_verdicts"] = by_file == check_only
        del s2, recs, by_file
    del fresh
    blob = pickle.dumps(list(reads0.values()), protocol=pickle.HIGHEST_PROTOCOL)
    t = cpu()
    pickle.loads(blob)
    res["cpu_unpickle_records"] = round(cpu() - t, 2)
    del check_only, blob

    causes, needed, deltas, wrong = Counter(), Counter(), Counter(), Counter()
    diag: list = []
    out1 = {}
    t = cpu()
    for d in base:
        if d.id not in keep:
            continue
        why = (s1.miss_cause(reads0[d.id], d) if hasattr(s1, "miss_cause")  # (older code: no causes)
               else None if s1.reads_hold(reads0[d.id], d) else "statistics")
        if why is None:
            out1[d.id] = out0[d.id]
            if args.verify:
                again = s1.apply(d)
                k = delta(out0[d.id], again)
                wrong[k] += k != "same"
            continue
        causes[why] += 1
        if args.diagnose and why.endswith("budget"):
            from cleancorpus.spunreads import budget_sums, moves

            from cleancorpus.spunreads import budgets_of

            r0 = reads0[d.id]
            sums = budget_sums(r0, moves(r0, s1._lm))
            budgets = budgets_of(r0) if "r" in r0 else []
            for k in sorted(sums):
                if sums[k] > budgets[k]:
                    diag.append({"kind": r0["it"][k], "budget": budgets[k], "sum": sums[k]})
                    break
        o = s1.apply(d)
        out1[d.id] = o
        k = delta(out0[d.id], o)
        needed[(why, k != "same")] += 1
        deltas[k] += 1
    res["cpu_check_and_recompute"] = round(cpu() - t, 2)
    res["spun_recomputed"] = sum(causes.values())
    res["spun_causes"] = dict(causes.most_common())
    res["spun_output_changed_by_cause"] = {f"{w}": {"changed": needed[(w, True)], "same": needed[(w, False)]}
                                           for w in causes}
    res["spun_output_delta"] = dict(deltas.most_common())
    if args.diagnose:
        (args.work / "diagnose.json").write_text(json.dumps(diag))
    if args.verify:  # reused results that a recomputation would change: must be none
        res["reused_but_different"] = dict(wrong)
    print(json.dumps(res), file=sys.stderr, flush=True)

    if not args.no_spelling:
        from cleancorpus.document import Document as D  # noqa: F401

        sp0, sp1 = (next(s for s in cfg.build_stages() if s.name == "spelling") for _ in range(2))
        ins0 = [out0[d.id] for d in base if not isinstance(out0[d.id], Rejection)]
        fit(sp0, ins0)
        sreads = {}
        for d in ins0:
            _, sreads[d.id] = sp0.apply_recorded(d)
        new_spun = [s1.apply(d) for d in extra] if args.step == "add" else []
        ins1 = [out1[d.id] for d in base if d.id in keep and not isinstance(out1[d.id], Rejection)] + new_spun
        fit(sp1, ins1)
        sc = Counter()
        for d in ins1:
            if d.id not in sreads:
                sc["new document"] += 1
            elif d is not out0[d.id] and delta(out0[d.id], d) != "same":
                sc["input changed (spun output)"] += 1
            else:
                why = (sp1.miss_cause(sreads[d.id], d) if hasattr(sp1, "miss_cause")
                       else None if sp1.reads_hold(sreads[d.id], d) else "statistics")
                if why is not None:
                    sc[why] += 1
        res["spelling_causes"] = dict(sc.most_common())
        res["spelling_recomputed_old_docs"] = sum(v for k, v in sc.items() if k != "new document")
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
