"""End-to-end benchmark: cleancorpus against datatrove and text-dedup on the same generated corpus.

For each size it generates (or reuses) a corpus with bench/gen_corpus.py, then runs, one after
the other on the same machine, each tool in its own child process while a sampling thread reads
the child's resident memory (its whole process tree) with psutil:

- cleancorpus, same steps as datatrove (unicode stage + dedup), the full pipeline (all
  registered stages + dedup), and ingest + dedup + publish only (ours-dedup: the corpus-level
  part, where memory could grow), via bench/compare/cleancorpus_run.py in .venv;
- datatrove: JSONL reader, ftfy formatter, its four MinHash steps (bench/compare/datatrove_dedup.py),
  with its default 14 bands x 8 rows and (datatrove-32x4) with cleancorpus's 32 x 4,
- text-dedup: its MinHash command (bench/compare/textdedup_minhash.py),

the last two installed by this script into their own virtualenvs under bench/out/venvs/ at pinned
versions. It scores the duplicates each tool removed against the planted truth, and for the full
cleancorpus run how much planted boilerplate and spinning is gone, and writes
bench/out/results-<sizes>.json and .md (a table ready for bench/README.md).

    .venv/bin/python bench/run.py --sizes 1k,10k,100k
    .venv/bin/python bench/run.py --sizes 1m --tools ours-same,ours-full      # long: run with nohup
    .venv/bin/python bench/run.py --sizes 10k --tools ours-full --profile     # pyinstrument HTML
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import resource
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
VENVS = OUT / "venvs"
WORK = OUT / "work"
sys.path.insert(0, str(BENCH))
import gen_corpus  # noqa: E402

# Pinned so that every run compares against the same code (checked with `pip index versions`).
# spacy: datatrove's English word tokenizer for MinHash shingles; orjson: its JSONL reader ([io]).
PINS = {
    "datatrove": ["datatrove[io,processing]==0.10.1", "spacy==3.8.18"],
    "text-dedup": ["text-dedup==0.4.0"],
}
TOOLS = ("ours-same", "ours-full", "ours-dedup", "datatrove", "datatrove-32x4", "text-dedup")
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
console = Console(stderr=True)


@dataclass
class Measured:
    tool: str
    size: int
    seconds: float
    cpu_seconds: float  # user + system of the child and its children: fairer than wall time under load
    peak_rss: int
    returncode: int
    steps: dict[str, float] = field(default_factory=dict)
    removed_lines: set[int] = field(default_factory=set)
    extra: dict = field(default_factory=dict)
    error: str = ""


# -- virtualenvs for the other tools
def ensure_venv(name: str) -> Path:
    """A virtualenv with the pinned packages, built once; a marker file records what it holds."""
    venv = VENVS / name
    marker = venv / ".bench-pins"
    want = "\n".join(PINS[name])
    if marker.exists() and marker.read_text() == want:
        return venv / "bin" / "python"
    console.print(f"installing {' '.join(PINS[name])} into {venv} ...")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    proc = subprocess.run(pip + PINS[name], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"cannot install {name}: {proc.stderr.strip()[-2000:]}")
    marker.write_text(want)
    return venv / "bin" / "python"


# -- corpora
def ensure_corpus(n: int, seed: int) -> Path:
    out = OUT / f"corpus-{n}"
    meta = out / "meta.json"
    if meta.exists():
        m = json.loads(meta.read_text())
        if (m["documents"], m["seed"], m.get("generator_version")) == (n, seed, gen_corpus.GENERATOR_VERSION):
            return out
    with Progress(TextColumn("generating {task.fields[n]:,} documents"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("gen", total=n, n=n)
        tmp = out.with_name(out.name + f".tmp-{os.getpid()}")  # renamed into place: never read half-written
        shutil.rmtree(tmp, ignore_errors=True)
        gen_corpus.generate(n, tmp, seed, progress=lambda k: bar.advance(task, k))
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out


def load_truth(corpus: Path) -> dict[int, dict]:
    with open(corpus / "truth.jsonl", encoding="utf-8") as fh:
        return {t["line"]: t for t in map(json.loads, fh)}


# -- running a child while watching its memory
def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_child(cmd: list[str], label: str, bar: Progress, progress_file: Path | None, total: int,
              log: Path, env: dict | None = None, timeout: float = 6 * 3600) -> tuple[float, float, int, int]:
    """Run cmd, sampling its tree's RSS every 0.2 s.

    Returns (wall seconds, CPU seconds, peak RSS bytes, return code); CPU time is the rusage of
    the reaped child and its reaped descendants."""
    task = bar.add_task(label, total=total if progress_file else None, rss="")
    with open(log, "w") as log_fh:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=log_fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                 env={**os.environ, **(env or {})})
        proc = psutil.Process(child.pid)
        peak = 0
        trace = open(log.with_name("trace.tsv"), "w")  # elapsed, RSS, progress: what a killed run leaves
        next_trace = 0.0
        while child.poll() is None:
            rss = tree_rss(proc)
            peak = max(peak, rss)
            if time.perf_counter() - t0 >= next_trace:
                next_trace += 5.0
                counts = progress_file.read_text() if progress_file and progress_file.exists() else ""
                trace.write(f"{time.perf_counter() - t0:.1f}\t{rss / 2**20:.0f}\t{counts}\n")
                trace.flush()
            bar.update(task, rss=f"{peak / 2**20:,.0f} MiB peak")
            if progress_file and progress_file.exists():
                try:
                    counts = json.loads(progress_file.read_text())
                    phase, done = list(counts.items())[-1]
                    bar.update(task, completed=done, description=f"{label} · {phase}")
                except (ValueError, OSError):
                    pass
            if time.perf_counter() - t0 > timeout:
                child.kill()
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        trace.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    bar.update(task, completed=total, description=f"{label} · done in {seconds:,.1f} s ({cpu:,.1f} s CPU)")
    return seconds, cpu, peak, child.returncode


def measure(tool: str, corpus: Path, n: int, bar: Progress, profile: bool, reuse: bool = False) -> Measured:
    work = WORK / f"{tool}-{n}"
    saved = work / "measured.json"
    if reuse and saved.exists():
        m = json.loads(saved.read_text())
        if m["returncode"] == 0 and m.get("corpus_generator") == gen_corpus.GENERATOR_VERSION:
            console.print(f"reusing {tool} @ {n:,} measured {m['when']}")
            return finish(Measured(tool, n, m["seconds"], m["cpu_seconds"], m["peak_rss"], 0), work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result = work / "result.json"
    progress_file = None
    if tool.startswith("ours"):
        progress_file = work / "progress.json"
        fixed = {"ours-same": "unicode", "ours-dedup": ""}
        stages = fixed[tool] if tool in fixed else ",".join(registered_stages())
        cmd = [str(ROOT / ".venv/bin/python"), str(BENCH / "compare/cleancorpus_run.py"), str(corpus / "raw"),
               str(work / "clean"), str(result), "--stages", stages, "--progress-file", str(progress_file)]
        if profile:
            cmd += ["--profile", str(OUT / f"profile-{tool}-{n}.html")]
    elif tool.startswith("datatrove"):
        cmd = [str(ensure_venv("datatrove")), str(BENCH / "compare/datatrove_dedup.py"), str(corpus / "raw"),
               str(work), str(result)]
        if tool == "datatrove-32x4":  # the band layout cleancorpus uses (Jaccard ~0.42 at the S-curve's middle)
            cmd += ["--buckets", "32", "--rows", "4"]
    else:
        cmd = [str(ensure_venv("text-dedup")), str(BENCH / "compare/textdedup_minhash.py"),
               str(corpus / "raw/corpus.jsonl"), str(work), str(result)]
    seconds, cpu, peak, rc = run_child(cmd, f"{tool} @ {n:,}", bar, progress_file, n, work / "log.txt")
    saved.write_text(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss": peak, "returncode": rc,
                                 "corpus_generator": gen_corpus.GENERATOR_VERSION,
                                 "when": time.strftime("%Y-%m-%d %H:%M:%S"), "command": cmd}))
    return finish(Measured(tool, n, seconds, cpu, peak, rc), work)


def finish(m: Measured, work: Path) -> Measured:
    """Read what the child wrote: its step timings and the documents it removed."""
    result, rc = work / "result.json", m.returncode
    if rc or not result.exists():
        m.error = f"exit status {rc}; last lines of {work / 'log.txt'}: " + tail(work / "log.txt")
        return m
    res = json.loads(result.read_text())
    m.steps = res["steps"]
    if m.tool.startswith("ours"):
        m.removed_lines = {int(s.rsplit(":", 1)[1]) for s in res["removed_sources"]}
        m.extra = {"rejected": len(res["rejected"]), "dedup_stats": res["dedup_stats"], "version": res["version"]}
    else:
        m.removed_lines = {int(i[1:]) for i in res["removed"]}
    m.extra["config"] = res.get("config")
    return m


def registered_stages() -> list[str]:
    out = subprocess.run([str(ROOT / ".venv/bin/python"), "-c",
                          "from cleancorpus.config import DEFAULT_STAGES; print(','.join(DEFAULT_STAGES))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().split(",")


def tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- scoring against the planted truth
def score_duplicates(removed: set[int], truth: dict[int, dict]) -> dict:
    """Cluster-aware precision/recall: in a planted cluster of s copies, removing any s-1 is right.

    A planted duplicate counts as found (per kind, per similarity band) when it was removed, or
    when its original was removed and it was kept in its place."""
    clusters: dict[int, list[int]] = defaultdict(list)
    for line, t in truth.items():
        if "dup_of" in t:
            clusters[t["dup_of"]].append(line)
    members = {m for orig, dups in clusters.items() for m in (orig, *dups)}
    tp = fp = 0
    for orig, dups in clusters.items():
        r = len(removed & {orig, *dups})
        tp += min(r, len(dups))
        fp += max(0, r - len(dups))
    fp += len(removed - members)
    planted = sum(len(d) for d in clusters.values())
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for line, t in truth.items():
        if "dup_of" not in t:
            continue
        found = line in removed or t["dup_of"] in removed
        for key in (f"kind {t['kind']}", band(t["jaccard_raw"])):
            by_kind[key]["planted"] += 1
            by_kind[key]["found"] += found
    return {"planted": planted, "removed": len(removed), "true_positives": tp, "false_positives": fp,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / planted if planted else 1.0,
            "recall_by": {k: round(v["found"] / v["planted"], 4) for k, v in sorted(by_kind.items())}}


def band(j: float) -> str:
    return "raw J >= 0.8" if j >= 0.8 else "raw J 0.5-0.8" if j >= 0.5 else "raw J < 0.5"


SPUN_AFTER = {after for _, after in gen_corpus.SPIN_SWAPS}


def score_cleaning(version: Path, truth: dict[int, dict], corpus: Path) -> dict:
    """Planted boilerplate lines gone; boilerplate edits in documents with none planted (false
    removals); spinner phrases left in spun documents (approximate: some occur naturally)."""
    originals = {}
    with open(corpus / "raw/corpus.jsonl", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if "spun" in truth.get(line_no, {}):
                originals[line_no] = json.loads(line)["text"]
    removals: Counter = Counter()
    with open(version / "edits.jsonl", encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            removals[row["id"]] = sum(1 for e in row["edits"] if e["stage"] == "boilerplate" and not e["after"].strip())
    c: Counter = Counter()
    with open(version / "documents.jsonl", encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            line_no = int(row["source"].rsplit(":", 1)[1])
            t = truth.get(line_no, {})
            lines = {ln.strip() for ln in row["text"].split("\n")}
            planted = t.get("boilerplate", [])
            c["bp_planted"] += len(planted)
            c["bp_left"] += sum(1 for ln in planted if ln in lines)
            if not planted:
                c["clean_docs"] += 1
                c["clean_docs_with_removal"] += removals[row["id"]] > 0
                c["clean_removals"] += removals[row["id"]]
            if "spun" in t:
                c["spun_before"] += count_spun(originals[line_no])
                c["spun_after"] += count_spun(row["text"])
    return {
        "boilerplate_lines_removed": 1 - c["bp_left"] / c["bp_planted"] if c["bp_planted"] else None,
        "clean_docs_with_boilerplate_removal": c["clean_docs_with_removal"] / c["clean_docs"] if c["clean_docs"] else None,
        "spun_phrases_left": c["spun_after"] / c["spun_before"] if c["spun_before"] else None,
        "counts": dict(c),
    }


_SPUN_RE = re.compile(r"\b(" + "|".join(sorted((re.escape(a) for a in SPUN_AFTER), key=len, reverse=True)) + r")\b")


def count_spun(text: str) -> int:
    return len(_SPUN_RE.findall(text))


# -- reporting
def exponent(a: float, b: float, na: int, nb: int) -> float | None:
    if a <= 0 or b <= 0 or na == nb:
        return None
    return math.log(b / a) / math.log(nb / na)


def summarize(results: list[Measured], corpora: dict[int, Path], truth: dict[int, dict[int, dict]]) -> dict:
    rows = []
    for m in results:
        mb = json.loads((corpora[m.size] / "meta.json").read_text())["bytes"] / 1e6
        row = {"tool": m.tool, "documents": m.size, "MB": round(mb, 1), "seconds": round(m.seconds, 2),
               "cpu_seconds": round(m.cpu_seconds, 2), "docs_per_cpu_s": round(m.size / max(m.cpu_seconds, 1e-9)),
               "MB_per_cpu_s": round(mb / max(m.cpu_seconds, 1e-9), 3),
               "docs_per_s": round(m.size / m.seconds), "MB_per_s": round(mb / m.seconds, 3),
               "peak_rss_MiB": round(m.peak_rss / 2**20), "steps": {k: round(v, 2) for k, v in m.steps.items()},
               "error": m.error, **{k: v for k, v in m.extra.items() if k != "version"}}
        if not m.error:
            row["duplicates"] = score_duplicates(m.removed_lines, truth[m.size])
            if m.tool == "ours-full":
                row["cleaning"] = score_cleaning(Path(m.extra["version"]), truth[m.size], corpora[m.size])
        rows.append(row)
    return {"machine": machine(), "rows": relate(rows)}


def relate(rows: list[dict]) -> list[dict]:
    """Add each row's time ratios to the other tools at its size and growth exponents from the
    next smaller size measured for the same tool."""
    by = {(r["tool"], r["documents"]): r for r in rows}
    sizes = sorted({r["documents"] for r in rows})
    for r in rows:
        if r["error"]:
            continue
        for other in ("datatrove", "datatrove-32x4", "text-dedup"):
            o = by.get((other, r["documents"]))
            if r["tool"].startswith("ours") and o and not o["error"]:
                r[f"time_ratio_vs_{other}"] = round(r["seconds"] / o["seconds"], 3)
                r[f"cpu_ratio_vs_{other}"] = round(r["cpu_seconds"] / max(o["cpu_seconds"], 1e-9), 3)
        smaller = [s for s in sizes if s < r["documents"] and (r["tool"], s) in by]
        if smaller:
            prev = by[(r["tool"], smaller[-1])]
            r["growth_time"] = rnd(exponent(prev["seconds"], r["seconds"], prev["documents"], r["documents"]))
            r["growth_cpu"] = rnd(exponent(prev["cpu_seconds"], r["cpu_seconds"], prev["documents"], r["documents"]))
            r["growth_rss"] = rnd(exponent(prev["peak_rss_MiB"], r["peak_rss_MiB"], prev["documents"], r["documents"]))
    return rows


def merge(files: list[Path], name: str) -> int:
    """One table from several result files (later files win for the same tool and size; rows
    that failed never replace rows that did not)."""
    rows: dict[tuple, dict] = {}
    commands = []
    for f in files:
        summary = json.loads(f.read_text())
        commands.append(summary["command"])
        for r in summary["rows"]:
            key = (r["tool"], r["documents"])
            if r["error"] and key in rows and not rows[key]["error"]:
                continue
            rows[key] = {k: v for k, v in r.items() if not k.startswith(("time_ratio", "cpu_ratio", "growth"))}
    for (tool, n), r in rows.items():
        found = sorted(OUT.glob(f"work*/{tool}-{n}/result.json"))
        if tool == "ours-full" and not r["error"] and found:  # re-score with the current scorer
            version = Path(json.loads(found[-1].read_text())["version"])
            corpus = OUT / f"corpus-{n}"
            r["cleaning"] = score_cleaning(version, load_truth(corpus), corpus)
    order = {t: i for i, t in enumerate(TOOLS)}
    ordered = relate(sorted(rows.values(), key=lambda r: (r["documents"], order.get(r["tool"], 99))))
    summary = {"machine": machine(), "rows": ordered, "command": " ; ".join(commands), "merged_from": [str(f) for f in files]}
    (OUT / f"{name}.json").write_text(json.dumps(summary, indent=1))
    (OUT / f"{name}.md").write_text(markdown(summary, summary["command"]))
    print_table(summary)
    console.print(f"wrote {OUT / name}.json and .md")
    return 0


def rnd(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def machine() -> dict:
    return {"cpus": os.cpu_count(), "ram_GiB": round(psutil.virtual_memory().total / 2**30, 1),
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0],
            "note": "shared 2-core machine: other agents' jobs ran at the same time"}


def markdown(summary: dict, command: str) -> str:
    head = ("| tool | docs | MB | wall s | CPU s | docs/CPU s | MB/CPU s | peak RSS MiB | CPU exp. | RSS exp. "
            "| dup precision | dup recall | CPU vs datatrove | wall vs datatrove |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [f"Command: `{command}`", "", head]
    for r in summary["rows"]:
        d = r.get("duplicates", {})
        lines.append(
            f"| {r['tool']} | {r['documents']:,} | {r['MB']} | {r['seconds']:,} | {r['cpu_seconds']:,} "
            f"| {r['docs_per_cpu_s']:,} | {r['MB_per_cpu_s']} | {r['peak_rss_MiB']:,} | {fmt(r.get('growth_cpu'))} "
            f"| {fmt(r.get('growth_rss'))} | {fmt(d.get('precision'), 3)} | {fmt(d.get('recall'), 3)} "
            f"| {fmt(r.get('cpu_ratio_vs_datatrove'), 2)} | {fmt(r.get('time_ratio_vs_datatrove'), 2)} |"
            + (f" ERROR: {r['error'][:200]}" if r["error"] else ""))
    lines += ["", "Recall by kind of planted duplicate and by raw word-5-gram Jaccard of the pair:", ""]
    keys = sorted({k for r in summary["rows"] for k in r.get("duplicates", {}).get("recall_by", {})})
    lines.append("| tool | docs | " + " | ".join(keys) + " |")
    lines.append("|---|---:|" + "---:|" * len(keys))
    for r in summary["rows"]:
        rb = r.get("duplicates", {}).get("recall_by", {})
        if rb:
            lines.append(f"| {r['tool']} | {r['documents']:,} | " + " | ".join(fmt(rb.get(k), 3) for k in keys) + " |")
    lines += ["", "Where the time goes (seconds per step):", ""]
    for r in summary["rows"]:
        lines.append(f"- {r['tool']} @ {r['documents']:,}: " + ", ".join(f"{k} {v:,}" for k, v in r["steps"].items()))
    for r in summary["rows"]:
        if "cleaning" in r:
            c = r["cleaning"]
            lines.append(f"- cleaning quality (ours-full @ {r['documents']:,}): planted boilerplate lines removed "
                         f"{fmt(c['boilerplate_lines_removed'], 3)}; documents with no planted boilerplate that "
                         f"lost a line or span to the boilerplate stage {fmt(c['clean_docs_with_boilerplate_removal'], 4)}; "
                         f"spinner phrases left in spun documents {fmt(c['spun_phrases_left'], 3)} (approximate)")
    return "\n".join(lines) + "\n"


def fmt(x, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def print_table(summary: dict) -> None:
    t = Table(title="end-to-end benchmark")
    for col in ("tool", "docs", "wall s", "CPU s", "docs/CPU s", "peak MiB", "exp CPU", "exp mem", "P", "R", "CPU/dt"):
        t.add_column(col, justify="right")
    for r in summary["rows"]:
        d = r.get("duplicates", {})
        t.add_row(r["tool"], f"{r['documents']:,}", f"{r['seconds']:,.1f}", f"{r['cpu_seconds']:,.1f}",
                  f"{r['docs_per_cpu_s']:,}", f"{r['peak_rss_MiB']:,}", fmt(r.get("growth_cpu")), fmt(r.get("growth_rss")),
                  fmt(d.get("precision"), 3), fmt(d.get("recall"), 3), fmt(r.get("cpu_ratio_vs_datatrove")))
    console.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="end-to-end benchmark against datatrove and text-dedup")
    ap.add_argument("--sizes", default="1k,10k", help=f"comma-separated, from {', '.join(SIZES)}")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {', '.join(TOOLS)}")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="profile the cleancorpus runs with pyinstrument")
    ap.add_argument("--name", help="results file name (default: from the sizes and tools)")
    ap.add_argument("--reuse", action="store_true",
                    help="take a size/tool already measured under bench/out/work/ instead of running it again")
    ap.add_argument("--work-dir", default="work", help="scratch directory under bench/out/ (one per concurrent run)")
    ap.add_argument("--merge", nargs="+", type=Path, help="only merge these results-*.json files into one table")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.name or "results-merged")
    global WORK
    WORK = OUT / args.work_dir
    try:
        sizes = [SIZES[s.strip().lower()] for s in args.sizes.split(",")]
        tools = [t.strip() for t in args.tools.split(",")]
        if bad := [t for t in tools if t not in TOOLS]:
            raise KeyError(", ".join(bad))
    except KeyError as exc:
        ap.error(f"unknown size or tool {exc}; sizes: {', '.join(SIZES)}; tools: {', '.join(TOOLS)}")
    corpora = {n: ensure_corpus(n, args.seed) for n in sizes}
    for tool in ("datatrove", "text-dedup"):
        if any(t.startswith(tool) for t in tools):
            ensure_venv(tool)
    truth = {n: load_truth(c) for n, c in corpora.items()}
    results = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rss]}"),
                  TimeElapsedColumn(), console=console) as bar:
        for n in sizes:
            for tool in tools:
                results.append(measure(tool, corpora[n], n, bar, args.profile, args.reuse))
    summary = summarize(results, corpora, truth)
    name = args.name or f"results-{'-'.join(s.strip() for s in args.sizes.split(','))}-{'-'.join(tools)}"
    command = ".venv/bin/python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    summary["command"] = command
    (OUT / f"{name}.json").write_text(json.dumps(summary, indent=1))
    (OUT / f"{name}.md").write_text(markdown(summary, command))
    print_table(summary)
    console.print(f"wrote {OUT / name}.json and .md")
    return 1 if any(r["error"] for r in summary["rows"]) else 0


if __name__ == "__main__":
    sys.exit(main())
