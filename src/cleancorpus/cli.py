"""The `cleancorpus` command: build versions, repair one text, inspect the store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import api
from .config import Config
from .idkey import IdKeyError
from .signals import describe
from .stages.base import ConfigError
from .store import Store, StoreError
from .store.verify import diff as diff_versions
from .store.verify import verify as verify_version

app = typer.Typer(
    help="Clean a folder of raw documents into a versioned corpus, and inspect the versions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

OutOpt = typer.Option("clean", "--out", "-o", help="Store holding the versions: a directory or an s3:// prefix.")
VersionArg = typer.Argument("latest", help="Version id (a unique prefix will do) or 'latest'.")


@contextlib.contextmanager
def _write_errors_as_exceptions():
    """Past a file-size limit (RLIMIT_FSIZE, ``ulimit -f``) the kernel kills the writer with
    SIGXFSZ; ignored, the write fails with EFBIG instead and is reported like a full disk."""
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN) if hasattr(signal, "SIGXFSZ") else None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGXFSZ, old)


def _os_error(exc: OSError, out_dir: Path) -> str:
    import errno

    what = exc.strerror or str(exc)
    code = errno.errorcode.get(exc.errno or 0)
    where = exc.filename or out_dir
    return f"cannot write to {where}: {what}" + (f" ({code})" if code else "")


def fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def with_fields(cfg: Config, text_field: Optional[str], id_field: Optional[str]) -> Config:
    """The configuration with --text-field/--id-field applied (they override the file's)."""
    if text_field is None and id_field is None:
        return cfg
    import dataclasses

    try:
        fields = dataclasses.replace(cfg.input, **{k: v for k, v in
                                                  (("text_field", text_field), ("id_field", id_field)) if v is not None})
        return dataclasses.replace(cfg, input=fields)
    except ConfigError as exc:
        fail(str(exc), 2)
        raise


def _config(path: Optional[Path]) -> Config:
    try:
        return Config.load(str(path)) if path else Config()
    except ConfigError as exc:
        fail(str(exc), 2)
        raise  # unreachable; keeps type checkers calm


@app.command()
def clean(
    raw_dir: str = typer.Argument("raw", help="Directory (or s3:// prefix) of raw documents: .txt, .html, .jsonl (also .gz/.zst/.bz2), .warc(.gz), WET, .parquet."),
    out_dir: str = OutOpt,
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="JSON configuration file."),
    report_only_duplicates: bool = typer.Option(False, "--report-duplicates-only", help="Find duplicate clusters but keep every document."),
    lock_timeout: float = typer.Option(600.0, help="Seconds to wait for another run writing to the same store."),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="Stop at the first document a reader or stage fails on, with its traceback (to debug a stage); by default such a document is rejected with the error and the run goes on."),
    text_field: Optional[str] = typer.Option(None, "--text-field", help="JSONL/Parquet field holding the text (default 'text'; e.g. content, raw_content)."),
    id_field: Optional[str] = typer.Option(None, "--id-field", help="JSONL/Parquet field holding the input's own id, copied to metadata.input_id (default 'id')."),
    full: bool = typer.Option(False, "--full", help="Recompute every document and every pass from the inputs instead of reusing the stored results of unchanged documents (the result is the same, byte for byte)."),
    scratch_dir: Optional[str] = typer.Option(None, "--scratch", help="Directory or s3:// prefix for the run's scratch files (removed after the run); default: inside a local store, else the system's temporary directory."),
    private_out: Optional[str] = typer.Option(None, "--private-out", help="Where the originals of redacted personal data go, outside the published tables: a directory, an s3:// prefix, or a path relative to the store (default: where the latest version put them, else <out>/_private/pii)."),
    id_key: Optional[str] = typer.Option(None, "--id-key", help="Key file (path or s3:// URL) to key document ids and input digests with, which becomes the store's key: the same inputs then give the same ids and version id as in the store it came from (default: the store's key, <private location>.id-key, created at its first build)."),
) -> None:
    """Build a new version of the corpus from RAW_DIR into the store."""
    cfg = with_fields(_config(config), text_field, id_field)
    if report_only_duplicates:
        import dataclasses

        cfg = dataclasses.replace(cfg, dedup=dataclasses.replace(cfg.dedup, report_only=True))
    from .ingest.remote import is_remote

    if not is_remote(raw_dir) and not Path(raw_dir).is_dir():
        fail(f"input directory {raw_dir} does not exist; pass the folder of raw documents (default: raw/)")
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, n: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=None)
            bar.advance(tasks[phase], n)

        try:
            with _write_errors_as_exceptions():
                result = api.clean(raw_dir, out_dir, cfg, progress=progress, lock_timeout=lock_timeout,
                                   fail_fast=fail_fast, full=full, scratch_dir=scratch_dir, private_out=private_out,
                                   id_key=id_key)
        except (StoreError, ConfigError, IdKeyError) as exc:
            fail(str(exc))
            return
        except OSError as exc:
            if fail_fast:
                raise
            # a full disk, a file-size limit, a read-only store: nothing was published and
            # `latest` still names the previous version; the next run removes the leftovers
            fail(f"{_os_error(exc, out_dir)}; no version was written and in {out_dir} the latest is unchanged")
            return
    c = result.summary
    state = "new version" if result.created else "unchanged, existing version"
    out.print(result.version.id)
    err.print(
        f"{state} {result.version.id} in {out_dir}: {c['documents']} documents from {c['input_files']} files, "
        f"{c['kept']} kept, {c['duplicate']} duplicates, {c['rejected']} rejected",
        highlight=False,
    )
    work = result.version.manifest.get("work") if result.created else None
    if work:
        stages = ", ".join(f"{k} {v['recomputed']}" for k, v in work["stages"].items() if "recomputed" in v)
        err.print(f"recomputed: {work['documents_from_scratch']} documents from scratch; per stage: {stages}",
                  highlight=False)


@app.command()
def repair(
    file: str = typer.Argument("-", help="Text file to repair, or - for standard input."),
    explain: bool = typer.Option(False, "--explain", help="Print every edit on stderr."),
) -> None:
    """Repair one text (Unicode, spun wording, misspellings) and print it on stdout."""
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
        return
    from .ingest.decode import decode_bytes

    decoded = decode_bytes(data)
    if isinstance(decoded, str):
        fail(f"{file}: {decoded}")
        return
    result = api.repair_text(decoded.text)
    if result.rejected:
        fail(f"{file}: {result.rejected}")
    sys.stdout.write(result.text)
    if result.text and not result.text.endswith("\n"):
        sys.stdout.write("\n")
    if explain:
        for e in result.edits:
            conf = f" (confidence {e.confidence:.2f})" if e.confidence is not None else ""
            err.print(f"{e.stage} @{e.start}: {e.before!r} -> {e.after!r}: {e.reason}{conf}", highlight=False, markup=False)
        err.print(f"{len(result.edits)} edit(s)", highlight=False)


@app.command()
def versions(out_dir: str = OutOpt) -> None:
    """List the versions in the store, oldest first; * marks the latest."""
    store = Store(out_dir)
    vs = store.versions()
    if not vs:
        fail(f"no versions in {out_dir}; run `cleancorpus clean RAW_DIR --out {out_dir}` first")
    latest = store.latest_id()
    table = Table("")
    for col in ("version", "created", "parent"):
        table.add_column(col, no_wrap=True, min_width=17)
    for col in ("kept", "duplicates", "rejected"):
        table.add_column(col, justify="right")
    for v in vs:
        c = v.manifest["counts"]
        table.add_row("*" if v.id == latest else "", v.id, v.manifest["created"], v.manifest.get("parent") or "-",
                      str(c["kept"]), str(c["duplicate"]), str(c["rejected"]))
    out.print(table)
    removed = store.removed()
    if removed:
        err.print(f"{len(removed)} version(s) removed by gc: {', '.join(r['version'] for r in removed)}", highlight=False)


def _open(out_dir: str, version: Optional[str]):
    try:
        return Store(out_dir).open(version)
    except StoreError as exc:
        fail(str(exc))


@app.command()
def show(
    version: str = VersionArg,
    out_dir: str = OutOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    list_: Optional[str] = typer.Option(None, "--list", help="Also list documents: rejected, duplicate, kept or all."),
    limit: int = typer.Option(20, "--limit", help="At most this many documents with --list."),
    top: int = typer.Option(10, "--top", help="How many rejection reasons and clusters the summary shows."),
) -> None:
    """Summarise a version: counts, stage reports, top rejection reasons, largest clusters."""
    v = _open(out_dir, version)
    m = v.manifest
    if as_json:
        out.print_json(json.dumps(m))
        return
    if list_ not in (None, "rejected", "duplicate", "kept", "all"):
        fail(f"--list takes rejected, duplicate, kept or all, not {list_!r}", 2)
    if limit < 0 or top < 0:
        fail("--limit and --top must not be negative", 2)
    c = m["counts"]
    out.print(f"[bold]{v.id}[/]  created {m['created']}  parent {m.get('parent') or '-'}  cleancorpus {m['package_version']}")
    out.print(f"{c['documents']} documents from {c['input_files']} files: {c['kept']} kept, {c['duplicate']} duplicates, {c['rejected']} rejected")
    table = Table("stage", "seen", "changed", "edits", "rejected")
    for name, s in m["stages"].items():
        table.add_row(name, str(s["seen"]), str(s["changed"]), str(s["edits"]), str(sum(s["rejected"].values())))
    out.print(table)
    skipped = m["stages"].get("ingest", {}).get("skipped")
    if skipped:  # WARC records that are not documents by design (requests, non-200, non-HTML, ...)
        out.print("skipped input records (not documents): " + ", ".join(f"{k}: {n}" for k, n in skipped.items()),
                  highlight=False)
    for line in describe(m.get("signals", {}), m["stages"]):  # language mix, quality flags, PII
        out.print(line, highlight=False)
    rec = v.private_record
    if rec is not None:  # where the originals of the redactions are: not in this version's tables
        out.print(f"personal data withheld from the published tables; originals in the private table at "
                  f"{rec['location']} (Delta version {rec['table_version']}; `cleancorpus revert --private`)",
                  highlight=False)
    reasons: dict[str, int] = {}
    for s in m["stages"].values():
        for reason, n in s["rejected"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    if reasons and top:
        t = Table("rejection reason", "documents", title=f"top {min(top, len(reasons))} of {len(reasons)} rejection reasons")
        for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
            t.add_row(reason, str(n))
        out.print(t)
    clusters = m.get("dedup", {}).get("largest_clusters", [])
    if clusters and top:
        t = Table("kept document", "dropped copies", title=f"largest {min(top, len(clusters))} of {m['dedup'].get('clusters', len(clusters))} duplicate clusters")
        for cl in clusters[:top]:
            t.add_row(cl["kept"], str(cl["size"]))
        out.print(t)
    if list_:
        t = Table("source", "id", "outcome", "detail")
        shown = 0
        for o in v.outcome_rows():
            if list_ != "all" and o["status"] != list_:
                continue
            if shown >= limit:
                break
            detail = o.get("reason") or ""
            if o["status"] == "duplicate":
                detail = f"duplicate of {o['duplicate_of']} (similarity {o.get('similarity')}): {detail}"
            t.add_row(o["source"], o["id"], o["status"], detail)
            shown += 1
        out.print(t)
        total = c["documents"] if list_ == "all" else c.get(list_, 0)
        if total > shown:
            err.print(f"{shown} of {total} {list_} documents listed; --limit N for more", highlight=False)


@app.command()
def diff(old: str, new: str = VersionArg, out_dir: str = OutOpt) -> None:
    """Documents added, removed and changed between two versions."""
    a, b = _open(out_dir, old), _open(out_dir, new)
    d = diff_versions(a, b)
    out.print(f"{a.id} -> {b.id}: {len(d['added'])} added, {len(d['removed'])} removed, {len(d['changed'])} changed")
    for kind, sign in (("added", "+"), ("removed", "-")):
        for item in d[kind]:
            out.print(f"{sign} {item['source']} ({item['id']})", highlight=False)
    for item in d["changed"]:
        out.print(f"~ {item['source']} ({item['old_id']} -> {item['new_id']}, {item['old_chars']} -> {item['new_chars']} chars)", highlight=False)


PrivateOpt = typer.Option(None, "--private", help="The private table of withheld personal data (a directory, an s3:// prefix, or a path relative to the store, e.g. _private/pii).")


@app.command()
def revert(
    document: str = typer.Argument(..., help="The document's id or source."),
    version: str = typer.Option("latest", "--version", help="Version id (a unique prefix will do) or 'latest'."),
    out_dir: str = OutOpt,
    private: Optional[str] = PrivateOpt,
    metadata: bool = typer.Option(False, "--metadata", help="Print the document's metadata (JSON) with every edit of a value undone (redacted personal data in a title or a JSONL field) instead of its text."),
) -> None:
    """Print a stored document as it was ingested, every edit undone. Originals withheld as
    personal data come back only from the private table named by --private."""
    from .document import Withheld

    try:
        text = api.revert(out_dir, document, None if version in ("latest", "LATEST") else version, private, metadata)
        if metadata:
            text = json.dumps(text, ensure_ascii=False, indent=1) + "\n"
    except Withheld as exc:
        fail(f"{document}: {exc}")
        return
    except StoreError as exc:
        fail(str(exc))
        return
    sys.stdout.write(text)


@app.command()
def verify(version: str = VersionArg, out_dir: str = OutOpt, private: Optional[str] = PrivateOpt) -> None:
    """Re-check a stored version: data-file hashes, row digests, counts against the summary; and
    its private table of withheld originals where it is readable."""
    v = _open(out_dir, version)
    rep = verify_version(v, private)
    if not rep.ok:
        for p in rep.problems:
            err.print(f"[red]✗[/] {p}", highlight=False)
        fail(f"version {v.id} failed verification with {len(rep.problems)} problem(s)")
    out.print(f"version {v.id} verified: {rep.checked['documents']} documents, {rep.checked['outcomes']} outcomes")
    if rep.checked.get("private", "none") != "none":
        out.print(f"private table: {rep.checked['private']}", highlight=False)
    if "id_key" in rep.checked:
        out.print(f"id key: {rep.checked['id_key']}", highlight=False)


@app.command()
def report(
    version: str = VersionArg,
    out_dir: str = OutOpt,
    to: Optional[Path] = typer.Option(None, "--to", help="Where to write the HTML (default: <store>/_reports/<version>.html)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the report in a web browser."),
) -> None:
    """Write a version's self-contained HTML audit report (generated from the tables) and print its path."""
    from .report import report_path, write_report

    v = _open(out_dir, version)
    path = (to or report_path(v)).resolve()
    try:
        write_report(v, path)
    except (OSError, StoreError, ValueError, KeyError, TypeError) as exc:
        fail(f"cannot write the report of {v.id} to {path}: {exc}; run `cleancorpus verify {v.id}`")
    out.print(str(path), highlight=False)
    if open_browser:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            fail(f"no web browser found; open {path} by hand")


@app.command()
def gc(
    out_dir: str = OutOpt,
    keep: Optional[int] = typer.Option(None, "--keep", help="Keep the latest N versions."),
    keep_since: Optional[str] = typer.Option(None, "--keep-since", help="Keep every version created since this date (ISO 8601, UTC)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be removed."),
) -> None:
    """Remove the versions nobody keeps and the data files only they needed (Delta vacuum)."""
    from datetime import datetime

    from .store.gc import gc as collect

    since = None
    if keep_since is not None:
        try:
            since = datetime.fromisoformat(keep_since)
        except ValueError:
            fail(f"--keep-since {keep_since!r} is not an ISO 8601 date (e.g. 2026-11-01 or 2026-11-01T03:00)", 2)
    try:
        res = collect(Store(out_dir), keep, since, dry_run)
    except StoreError as exc:
        fail(str(exc), 2 if "--keep" in str(exc) else 1)
        return
    verb = "would remove" if dry_run else "removed"
    out.print(f"{verb} {len(res.removed)} version(s){': ' + ', '.join(res.removed) if res.removed else ''}; "
              f"kept {len(res.kept)}: {', '.join(res.kept)}", highlight=False)
    if not dry_run:
        out.print(f"data files deleted: {sum(res.deleted_files.values())} "
                  f"({', '.join(f'{k} {n}' for k, n in res.deleted_files.items())})", highlight=False)


@app.command()
def export(
    version: str = VersionArg,
    out_dir: str = OutOpt,
    to: Path = typer.Option(..., "--to", help="Directory to write the files into."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or parquet."),
) -> None:
    """Write a version as plain files: documents, duplicates, edits, outcomes and manifest.json."""
    from .store.export import FORMATS, export as export_version

    if fmt not in FORMATS:
        fail(f"--format takes {' or '.join(FORMATS)}, not {fmt!r}", 2)
    v = _open(out_dir, version)
    try:
        files = export_version(v, to, fmt)
    except (OSError, StoreError) as exc:
        fail(f"cannot export {v.id} to {to}: {exc}")
        return
    for name, path in files.items():
        out.print(str(path), highlight=False)


@app.command()
def migrate(
    old_dir: Path = typer.Argument(..., help="A store of the folder layout (clean/<version>/manifest.json, ...)."),
    out_dir: str = OutOpt,
) -> None:
    """Import versions of the old folder layout into the Delta tables (same ids, oldest first)."""
    from .store.migrate import migrate as run_migration

    if not old_dir.is_dir():
        fail(f"{old_dir} is not a directory; pass the old store's folder")
    try:
        done, skipped = run_migration(old_dir, Store(out_dir))
    except StoreError as exc:
        fail(str(exc))
        return
    for vid in done:
        out.print(vid, highlight=False)
    err.print(f"{len(done)} version(s) migrated into {out_dir}, {len(skipped)} already there", highlight=False)


@app.command()
def serve(
    raw_dir: Path = typer.Argument(Path("raw"), help="Directory of raw documents each run cleans."),
    out_dir: str = OutOpt,
    cron: Optional[str] = typer.Option(None, "--cron", help='Cron schedule, e.g. "0 3 * * *" (03:00 every day).'),
    interval: Optional[float] = typer.Option(None, "--interval", help="Run every SECONDS instead of on a cron schedule."),
    name: str = typer.Option("scheduled", "--name", help="Deployment name (the flow is clean-corpus)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="JSON configuration file."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Run each flow run on a local Dask cluster of N processes."),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="Run each flow run on this Dask scheduler (tcp://HOST:PORT)."),
) -> None:
    """Serve the Prefect flow as a deployment on a schedule, until interrupted (needs a Prefect server)."""
    if (cron is None) == (interval is None):
        fail("give exactly one of --cron or --interval", 2)
    if interval is not None and interval <= 0:
        fail("--interval must be a positive number of seconds", 2)
    if workers is not None and (workers < 1 or dask_address):
        fail("--workers must be at least 1, and cannot be combined with --dask-address", 2)
    if not raw_dir.is_dir():
        fail(f"input directory {raw_dir} does not exist; pass the folder of raw documents (default: raw/)")
    if config:
        _config(config)  # fail now, not at 03:00
    import os

    # read by the flow module when a run imports it (the runner starts each run afresh)
    if workers is not None:
        os.environ["CLEANCORPUS_FLOW_WORKERS"] = str(workers)
    if dask_address:
        os.environ["CLEANCORPUS_DASK_ADDRESS"] = dask_address
    try:  # Prefect only now, so every other command works without it
        from cleancorpus_flows.env import apply_defaults

        apply_defaults()
        from prefect.client.schemas.schedules import CronSchedule
        from prefect.settings import get_current_settings

        from cleancorpus_flows import flow as flows
    except ImportError as exc:
        fail(f"the Prefect flow needs the 'flow' extra ({exc}); install it with pip install 'cleancorpus[flow]'")
        return
    if cron is not None:
        try:
            CronSchedule(cron=cron)
        except ValueError as exc:
            fail(f"invalid --cron {cron!r}: {exc}", 2)
    if not get_current_settings().api.url:
        fail("schedules need a Prefect server: start one with `prefect server start --host 127.0.0.1 --port 4200` "
             "and set PREFECT_API_URL=http://127.0.0.1:4200/api (see README, 'Prefect flow')")
    err.print(f"serving {flows.FLOW_NAME}/{name} ({'cron ' + cron if cron else f'every {interval:g} s'}); Ctrl-C stops it",
              highlight=False)
    flows.serve(str(raw_dir), str(out_dir), name=name, cron=cron, interval=interval,
                config_path=str(config) if config else None)


def main() -> None:  # pragma: no cover
    """The `cleancorpus` command. When the command is done (its files written and synced), the
    process ends with ``os._exit``: delta-rs and Arrow keep background threads whose teardown
    races the interpreter's at exit and can abort a finished run with "terminate called without
    an active exception" (delta-io/delta-rs#2184), which a scheduler would read as a failure."""
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
