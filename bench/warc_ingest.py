"""WARC input speed: the same real pages read from one .warc.gz and from .html files.

    nice -n 10 .venv/bin/python bench/warc_ingest.py --pages 2000 [--no-pipeline]

Builds, in a scratch directory, a crawl WARC (warcinfo, then request, response and metadata
records per page, one gzip member per record, as crawlers write them) of ``--pages`` pages taken
in turn from the extraction benchmark's 581 HTML pages (../shared/benchmarks/extraction; each
page under its own URL), and the same pages as .html files. Then measures, in CPU seconds of
this process (fairer than wall time on a shared machine):

1. ``parse``: the WARC libraries alone, every record iterated and each response payload read
   (FastWARC raw, as ingest reads it; FastWARC decoding; warcio): the choice of library;
2. ``ingest``: cleancorpus ingest alone (``iter_documents``: WARC parsing, decoding, HTML
   extraction with its edits) over the WARC and over the .html files;
3. ``pipeline``: ``cleancorpus.clean`` (ingest, every stage, dedup, writing the version) over
   each. Pages repeat past 581, so dedup drops the repeats the same way in both.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from warcs import Page, crawl_records, extraction_pages, write_warc  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn):
    c0, w0 = cpu(), time.perf_counter()
    out = fn()
    return out, cpu() - c0, time.perf_counter() - w0


def build(work: Path, n: int) -> tuple[Path, Path, int]:
    pages = extraction_pages()
    chosen = [(f"{i:05d}-{name[:24]}", html) for i, (name, html) in
              enumerate((pages[i % len(pages)] for i in range(n)))]
    html_dir, warc_dir = work / "html", work / "warc"
    html_dir.mkdir(), warc_dir.mkdir()
    for name, html in chosen:
        (html_dir / f"{name}.html").write_bytes(html)
    write_warc(warc_dir / "crawl.warc.gz", crawl_records([Page(f"https://bench.example/{name}", html) for name, html in chosen]))
    return html_dir, warc_dir, sum(len(h) for _, h in chosen)


def parse_only(warc: Path) -> dict:
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from warcio.archiveiterator import ArchiveIterator as WarcioIterator

    def fast(decode: str):
        def run():
            n = 0
            with open(warc, "rb") as fh:
                for r in ArchiveIterator(fh, parse_http=True, auto_decode=decode):
                    if r.record_type == WarcRecordType.response:
                        n += len(r.reader.read()) > 0
                    else:
                        r.reader.consume()
            return n
        return run

    def slow():
        n = 0
        with open(warc, "rb") as fh:
            for r in WarcioIterator(fh):
                body = r.content_stream().read()
                n += r.rec_type == "response" and len(body) > 0
        return n

    out = {}
    for name, fn in (("fastwarc (raw payload, as ingest reads it)", fast("none")),
                     ("fastwarc (auto_decode=all)", fast("all")), ("warcio", slow)):
        n, c, w = measure(fn)
        out[name] = {"pages": n, "cpu_s": round(c, 3), "wall_s": round(w, 3)}
    return out


def ingest_only(raw: Path) -> tuple[int, dict, float, float]:
    from collections import Counter

    from cleancorpus.document import Document
    from cleancorpus.ingest import iter_documents, list_inputs

    def run():
        docs, rejected = 0, Counter()
        for item in iter_documents(list_inputs(raw)):
            if isinstance(item, Document):
                docs += 1
            elif hasattr(item, "reason"):
                rejected[item.reason.split(":")[0]] += 1  # e.g. the time limit on a loaded machine
        return docs, dict(rejected)

    (docs, rejected), c, w = measure(run)
    return docs, rejected, c, w


def pipeline(raw: Path, out: Path) -> tuple[dict, float, float]:
    import cleancorpus

    res, c, w = measure(lambda: cleancorpus.clean(raw, out))
    return res.summary, c, w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--no-pipeline", action="store_true", help="parse and ingest only")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--only", choices=["parse", "ingest-warc", "ingest-html", "clean-warc", "clean-html"],
                    action="append", help="run only these measurements (repeatable; several processes "
                                          "can then share the work, each timing its own CPU)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="warc-bench-"))
    try:
        html_dir, warc_dir, html_bytes = build(work, args.pages)
        warc = warc_dir / "crawl.warc.gz"
        result: dict = {"pages": args.pages, "html_mb": round(html_bytes / 2**20, 1),
                        "warc_gz_mb": round(warc.stat().st_size / 2**20, 1)}
        print(f"{args.pages} pages, {result['html_mb']} MB of HTML; WARC {result['warc_gz_mb']} MB gzipped", flush=True)
        wanted = set(args.only or ["parse", "ingest-warc", "ingest-html", "clean-warc", "clean-html"])
        if args.no_pipeline:
            wanted -= {"clean-warc", "clean-html"}
        if "parse" in wanted:
            result["parse"] = parse_only(warc)
            for name, r in result["parse"].items():
                print(f"parse  {name:45s} {r['cpu_s']:7.2f} CPU s  {r['pages'] / max(r['cpu_s'], 1e-9):9.0f} pages/CPU s", flush=True)
        for label, raw in (("warc", warc_dir), ("html", html_dir)):
            if f"ingest-{label}" not in wanted:
                continue
            docs, rej, c, w = ingest_only(raw)
            result[f"ingest_{label}"] = {"documents": docs, "rejected": rej, "cpu_s": round(c, 2), "wall_s": round(w, 2),
                                         "pages_per_cpu_s": round(args.pages / c, 2)}
            print(f"ingest {label:5s} {docs} docs, rejected {rej}: {c:7.1f} CPU s, {args.pages / c:6.2f} pages/CPU s "
                  f"(wall {w:.1f} s)", flush=True)
        if wanted & {"clean-warc", "clean-html"}:
            # warm-up: the stages' dictionaries and language model load once per process; without
            # this the first measured run would pay for them
            warm = work / "warm"
            warm.mkdir()
            shutil.copy(next(html_dir.iterdir()), warm / "page.html")
            pipeline(warm, work / "clean-warm")
            for label, raw in (("warc", warc_dir), ("html", html_dir)):
                if f"clean-{label}" not in wanted:
                    continue
                summary, c, w = pipeline(raw, work / f"clean-{label}")
                result[f"pipeline_{label}"] = {**summary, "cpu_s": round(c, 2), "wall_s": round(w, 2),
                                               "pages_per_cpu_s": round(args.pages / c, 2)}
                print(f"clean  {label:5s} {summary}: {c:7.1f} CPU s, {args.pages / c:6.2f} pages/CPU s (wall {w:.1f} s)",
                      flush=True)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
