"""The Python API: clean a directory into a new version, repair one text, load a version."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config
from .dedup import DedupResult, find_duplicates
from .document import Document, Edit, Outcome, Rejection, Status
from .ingest import file_digest, iter_documents, list_inputs
from .pipeline import Pipeline, Progress, RunResult, read_documents
from .store import Store, Version
from .store.store import TMP_PREFIX, VersionWriter, write_manifest
from .report import REPORT_FILE, write_report
from .signals import Tally


@dataclass(frozen=True)
class CleanResult:
    version: Version
    created: bool  # False when an identical version already existed and nothing was written
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Repaired:
    text: str
    edits: tuple[Edit, ...]
    rejected: str | None = None


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """The fingerprint of this installed package (computed once per process)."""
    return fingerprint_tree(Path(__file__).resolve().parent)


def fingerprint_tree(root: Path) -> str:
    """A hash of the package's own files: code, rule lists, lexicons, templates. Editing any of
    them can change the output, so it must change the version id too, even when the package
    version does not (a Dask worker running other code would otherwise write the same id)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix not in (".pyc", ".pyo")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def version_id(inputs: list[dict[str, Any]], config: Config) -> str:
    """Derived from input content, configuration and the package (version and files) only."""
    h = hashlib.sha256()
    h.update(f"cleancorpus {__version__}\n".encode())
    h.update(config.fingerprint().encode())
    h.update(package_fingerprint().encode())
    for item in inputs:
        h.update(f"\n{item['path']}\0{item.get('sha256') or item.get('problem')}".encode())
    return "v" + h.hexdigest()[:16]


def describe_inputs(raw_dir: str | os.PathLike):
    files = list_inputs(raw_dir)
    described = []
    for f in files:
        item: dict[str, Any] = {"path": f.relpath}
        if f.problem:
            item["problem"] = f.problem
        else:
            try:
                item["sha256"] = file_digest(f.path)
                item["bytes"] = f.path.stat().st_size
            except OSError as exc:
                item["problem"] = f"unreadable file: {exc.strerror or exc}"
        described.append(item)
    return files, described


@dataclass(frozen=True)
class Plan:
    """What a run will build: the inputs, their digests and the version id they determine."""

    store: Store
    files: list
    inputs: list[dict[str, Any]]
    config: Config
    version_id: str


def plan(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, config: Config | None = None) -> Plan:
    config = config or Config()
    store = Store(out_dir)
    files, inputs = describe_inputs(raw_dir)
    return Plan(store, files, inputs, config, version_id(inputs, config))


def deduplicate(p: Plan, spill: Path, map_fn=None) -> DedupResult:
    """The corpus-level duplicate passes over the cleaned documents of a run."""
    parent = p.store.latest_id()
    previous = (lambda: p.store.open(parent).documents()) if parent and parent != p.version_id else None
    kwargs = {"map_fn": map_fn} if map_fn is not None else {}
    # scratch files (text batches, signatures) next to the spill: same disk, removed with it
    return find_duplicates(lambda: read_documents(spill), p.config.dedup, previous,
                           workdir=spill.parent, **kwargs)


def publish(p: Plan, run: RunResult, dd: DedupResult, progress: Progress | None = None) -> Version:
    """Write the version (documents, edits, drops, manifest) and make it the latest."""
    parent = p.store.latest_id()
    duplicates = {} if p.config.dedup.report_only else dd.duplicates

    def fill(tmp: Path) -> None:
        writer = VersionWriter(tmp)
        outcomes: list[Outcome] = list(run.rejected)
        signals = Tally()
        for doc in read_documents(run.spill):
            dup = duplicates.get(doc.id)
            if dup is None:
                writer.keep(doc)
                signals.add(doc)
                outcomes.append(Outcome(doc.id, doc.source, Status.KEPT))
            else:
                writer.drop(doc)
                outcomes.append(Outcome(doc.id, doc.source, Status.DUPLICATE, reason=dup.reason,
                                        duplicate_of=dup.duplicate_of, similarity=dup.similarity))
            if progress:
                progress("writing", 1)
        files_info = writer.close()
        outcomes.sort(key=lambda o: (o.source, o.id))
        manifest = {
            "version": p.version_id,
            "parent": parent,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "package_version": __version__,
            "package_sha256": package_fingerprint(),
            "config": p.config.to_dict(),
            "inputs": p.inputs,
            "counts": _counts(outcomes, len(p.inputs)),
            "stages": {name: rep.to_dict() for name, rep in run.reports.items()},
            "dedup": {**dd.stats, "report_only": p.config.dedup.report_only,
                      "clusters": _clusters(dd.duplicates)},
            "files": files_info,
            "outcomes": [o.to_dict() for o in outcomes],
            "signals": signals.to_dict(),  # language mix, quality flags, PII redactions (signals.py)
        }
        manifest["files"][REPORT_FILE] = write_report(tmp, manifest)  # part of the version, hashed
        write_manifest(tmp, manifest)

    return p.store.build(p.version_id, fill)


@contextlib.contextmanager
def building(p: Plan, lock_timeout: float = 600.0):
    """Hold the store lock for a build and give a scratch directory inside the store.

    Yields None when the version already exists (nothing to build; ``latest`` now names it).
    """
    with p.store.lock(lock_timeout):
        p.store.remove_leftovers()
        if p.store.has(p.version_id):
            if p.store.latest_id() != p.version_id:
                p.store.set_latest(p.version_id)
            yield None
            return
        work = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "work-", dir=p.store.root))
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)


def clean(
    raw_dir: str | os.PathLike = "raw",
    out_dir: str | os.PathLike = "clean",
    config: Config | None = None,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
    fail_fast: bool = False,
) -> CleanResult:
    """Build a new version of the corpus in ``out_dir`` from the documents in ``raw_dir``.

    A document that breaks a reader or a stage is rejected with the error in its outcome and
    the run goes on; ``fail_fast=True`` lets the error escape instead (to debug a stage)."""
    p = plan(raw_dir, out_dir, config)
    with building(p, lock_timeout) as work:
        if work is None:
            v = p.store.open(p.version_id)
            return CleanResult(v, False, v.manifest["counts"])
        pipe = Pipeline(p.config, fail_fast=fail_fast)
        run = pipe.run(iter_documents(p.files, p.config.limits, fail_fast), work, progress)
        dd = deduplicate(p, run.spill)
        version = publish(p, run, dd, progress)
    return CleanResult(version, True, version.manifest["counts"])


def _counts(outcomes: list[Outcome], files: int) -> dict[str, int]:
    counts = {"input_files": files, "documents": len(outcomes), "kept": 0, "duplicate": 0, "rejected": 0}
    for o in outcomes:
        counts[o.status.value] += 1
    return counts


def _clusters(duplicates) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in duplicates.values():
        groups.setdefault(d.duplicate_of, []).append({"id": d.id, "similarity": round(d.similarity, 4), "reason": d.reason})
    return [{"kept": k, "dropped": sorted(v, key=lambda x: x["id"])} for k, v in sorted(groups.items())]


def repair_text(text: str, config: Config | None = None) -> Repaired:
    """Repair one text with the stages that make sense without a corpus (no boilerplate, no dedup)."""
    config = config or repair_config()
    doc = Document("text", text, "<text>")
    out = Pipeline(config).apply(doc)
    if isinstance(out, Rejection):
        return Repaired(text, (), str(out))
    return Repaired(out.text, out.edits)


REPAIR_STAGES = ("unicode", "spun", "spelling")


def repair_config() -> Config:
    from .stages import REGISTRY

    return Config(stages=tuple(s for s in REPAIR_STAGES if s in REGISTRY))


def load(out_dir: str | os.PathLike = "clean", version: str | None = None) -> Version:
    """A stored version (the latest by default): iterate it for Documents; ``.manifest`` for the rest."""
    return Store(out_dir).open(version)
