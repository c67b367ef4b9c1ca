"""Main-content extraction quality and boilerplate-stage throughput.

Quality: our HTML ingest (trafilatura-aligned, and our beautifulsoup4 rules alone), the full-text
baseline, trafilatura and jusText, side by side on the same pages and the same metric:

- ``zyte``: ../shared/benchmarks/extraction/article-extraction-benchmark (181 pages), 4-gram
  shingle precision/recall/F1 as described in that folder's README (re-implemented here);
- ``trafeval``: ../shared/benchmarks/extraction/trafilatura-eval, the 400-page subset with HTML,
  segment-level precision/recall/F1 as described in the same README.

Throughput: MB/s of text through the boilerplate stage (fit + apply), and of HTML through
``html_to_text``.

    .venv/bin/python bench/extraction.py                  # both sets, all systems
    .venv/bin/python bench/extraction.py --sets zyte --limit 50
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import justext
import trafilatura

from cleancorpus.document import Document, Rejection
from cleancorpus.ingest.html import html_to_text
from cleancorpus.stages.boilerplate import BoilerplateStage

BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "extraction"
ZYTE = BENCH / "article-extraction-benchmark"
TRAFEVAL = BENCH / "trafilatura-eval" / "tests"
OUT = Path(__file__).resolve().parent / "out" / "extraction.json"
_TOKEN = re.compile(r"\w+")


# -- systems -------------------------------------------------------------------------------------
def ours(html: str, extractor: str = "trafilatura") -> str:
    page = html_to_text(html, extractor)  # type: ignore[arg-type]
    return Document("p", page.text, "p").revise("html", page.removals).text


def ours_with_stage(html: str) -> str:
    doc = Document("p", ours(html), "p")
    out = BoilerplateStage().apply(doc)
    return "" if isinstance(out, Rejection) else out.text


def traf(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, include_tables=True) or ""


def jt(html: str) -> str:
    paragraphs = justext.justext(html.encode("utf-8"), justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


SYSTEMS: dict[str, Callable[[str], str]] = {
    "cleancorpus html ingest (trafilatura-aligned, default)": ours,
    "cleancorpus html ingest + boilerplate stage": ours_with_stage,
    "cleancorpus bs4 rules only": lambda h: ours(h, "rules"),
    "bs4 full visible text (baseline)": lambda h: ours(h, "none"),
    "trafilatura": traf,
    "jusText (English stoplist)": jt,
}


# -- Zyte metric ---------------------------------------------------------------------------------
def shingles(text: str, n: int = 4) -> Counter:
    toks = _TOKEN.findall(text)
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def zyte_doc(true: str, pred: str) -> tuple[float | None, float | None, bool]:
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    prec = 1.0 if fp == fn == 0 else (None if tp + fp == 0 else tp / (tp + fp))
    rec = 1.0 if fp == fn == 0 else (None if tp + fn == 0 else tp / (tp + fn))
    return prec, rec, _TOKEN.findall(true) == _TOKEN.findall(pred)


def zyte_score(rows: list[tuple[float | None, float | None, bool]]) -> dict[str, float]:
    def f1(rs):
        p = statistics.fmean(r[0] for r in rs if r[0] is not None)
        r = statistics.fmean(r[1] for r in rs if r[1] is not None)
        return p, r, 2 * p * r / (p + r) if p + r else 0.0

    p, r, f = f1(rows)
    rng = random.Random(0)
    boot = [f1([rng.choice(rows) for _ in rows])[2] for _ in range(1000)]
    return {"f1": f, "f1_std": statistics.pstdev(boot), "precision": p, "recall": r,
            "accuracy": sum(r[2] for r in rows) / len(rows), "documents": len(rows)}


def load_zyte(limit: int | None) -> list[tuple[str, str, str]]:
    truth = json.loads((ZYTE / "ground-truth.json").read_text("utf-8"))
    items = sorted(truth.items())[:limit]
    return [(k, gzip.decompress((ZYTE / "html" / f"{k}.html.gz").read_bytes()).decode("utf-8", "replace"),
             v["articleBody"]) for k, v in items]


# -- trafilatura-eval metric ---------------------------------------------------------------------
def load_trafeval(limit: int | None) -> list[tuple[str, str, dict]]:
    data = json.loads((TRAFEVAL / "evaldata_subset.json").read_text("utf-8"))
    out = []
    for url, entry in sorted(data.items())[:limit]:
        for folder in ("cache", "eval"):
            path = TRAFEVAL / folder / f"{entry['file']}.gz"
            if path.exists():
                out.append((url, gzip.decompress(path.read_bytes()).decode("utf-8", "replace"), entry))
                break
    return out


def trafeval_counts(pred: str, entry: dict) -> Counter:
    text = " ".join(pred.split())
    c: Counter = Counter()
    for seg in entry.get("with", []):
        c["tp" if " ".join(seg.split()) in text else "fn"] += 1
    for seg in entry.get("without", []):
        c["fp" if " ".join(seg.split()) in text else "tn"] += 1
    return c


def trafeval_score(c: Counter) -> dict[str, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r,
            "accuracy": (c["tp"] + c["tn"]) / sum(c[k] for k in ("tp", "fp", "fn", "tn")), "documents": c["docs"]}


# -- runs ----------------------------------------------------------------------------------------
def run_extractor(fn: Callable[[str], str], html: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    try:
        pred = fn(html)
    except Exception as exc:  # a crash counts as an empty extraction, as the benchmark says
        print(f"  extractor error: {type(exc).__name__}: {exc}", file=sys.stderr)
        pred = ""
    return pred, time.perf_counter() - t0


def bench_zyte(limit: int | None) -> dict[str, dict]:
    pages = load_zyte(limit)
    results = {}
    for name, fn in SYSTEMS.items():
        rows, seconds = [], 0.0
        for _, html, truth in pages:
            pred, dt = run_extractor(fn, html)
            seconds += dt
            rows.append(zyte_doc(truth, pred))
        results[name] = {**zyte_score(rows), "seconds": seconds}
        print(f"zyte  {name:58s} F1 {results[name]['f1']:.3f}  P {results[name]['precision']:.3f}  "
              f"R {results[name]['recall']:.3f}  {seconds:6.1f} s", flush=True)
    return results


def bench_trafeval(limit: int | None) -> dict[str, dict]:
    pages = load_trafeval(limit)
    results = {}
    for name, fn in SYSTEMS.items():
        counts: Counter = Counter()
        seconds = 0.0
        for _, html, entry in pages:
            pred, dt = run_extractor(fn, html)
            seconds += dt
            counts += trafeval_counts(pred, entry)
            counts["docs"] += 1
        results[name] = {**trafeval_score(counts), "seconds": seconds}
        print(f"traf  {name:58s} F1 {results[name]['f1']:.3f}  P {results[name]['precision']:.3f}  "
              f"R {results[name]['recall']:.3f}  {seconds:6.1f} s", flush=True)
    return results


def bench_throughput(limit: int | None, repeat: int = 3) -> dict[str, float]:
    """Boilerplate stage on the full visible text of the Zyte pages (junk included, the realistic
    input when extraction is off) and on the five seeds; html_to_text on the raw pages."""
    pages = load_zyte(limit)
    html_mb = sum(len(h.encode()) for _, h, _ in pages) / 1e6
    t0 = time.perf_counter()
    texts = [ours(h, "none") for _, h, _ in pages]
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _, h, _ in pages:
        ours(h)
    extract_s = time.perf_counter() - t0
    seeds = [p.read_text("utf-8") for p in sorted((Path(__file__).resolve().parents[1] / "raw").glob("*.txt"))]
    out = {"html_mb": html_mb, "html_to_text_full_mb_s": html_mb / parse_s,
           "html_to_text_extract_mb_s": html_mb / extract_s}
    for label, corpus in (("zyte_full_text", texts), ("seeds", seeds)):
        docs = [Document(str(i), t, str(i)) for i, t in enumerate(corpus) if t.strip()]
        mb = sum(len(d.text.encode()) for d in docs) / 1e6
        best = float("inf")
        for _ in range(repeat):
            stage = BoilerplateStage()
            t0 = time.perf_counter()
            stage.fit(docs)
            for d in docs:
                stage.apply(d)
            best = min(best, time.perf_counter() - t0)
        out[f"boilerplate_{label}_mb"] = mb
        out[f"boilerplate_{label}_mb_s"] = mb / best
    for k, v in out.items():
        print(f"throughput {k:40s} {v:8.3f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="zyte,trafeval,throughput", help="comma list of zyte, trafeval, throughput")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages of each set")
    args = ap.parse_args()
    sets = set(args.sets.split(","))
    results: dict[str, dict] = json.loads(OUT.read_text()) if OUT.exists() else {}
    if "zyte" in sets:
        results["zyte"] = bench_zyte(args.limit)
    if "trafeval" in sets:
        results["trafeval"] = bench_trafeval(args.limit)
    if "throughput" in sets:
        results["throughput"] = bench_throughput(args.limit)
    results["versions"] = {"trafilatura": trafilatura.__version__, "justext": getattr(justext, "__version__", "?")}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {OUT}")


if __name__ == "__main__":
    main()
