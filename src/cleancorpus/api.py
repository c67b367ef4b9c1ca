"""The Python API: clean a directory into a new version, repair one text, load a version."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .config import Config
from .dedup import find_duplicates
from .document import Document, Edit, Outcome, Rejection, Status
from .ingest import file_digest, iter_documents, list_inputs
from .pipeline import Pipeline, Progress, read_documents
from .store import Store, Version
from .store.store import VersionWriter, write_manifest


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


def version_id(inputs: list[dict[str, Any]], config: Config) -> str:
    """Derived from input content, configuration and package version only."""
    h = hashlib.sha256()
    h.update(f"cleancorpus {__version__}\n".encode())
    h.update(config.fingerprint().encode())
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


def clean(
    raw_dir: str | os.PathLike = "raw",
    out_dir: str | os.PathLike = "clean",
    config: Config | None = None,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
) -> CleanResult:
    """Build a new version of the corpus in ``out_dir`` from the documents in ``raw_dir``."""
    config = config or Config()
    store = Store(out_dir)
    files, inputs = describe_inputs(raw_dir)
    vid = version_id(inputs, config)
    with store.lock(lock_timeout):
        store.remove_leftovers()
        if store.has(vid):
            if store.latest_id() != vid:
                store.set_latest(vid)
            v = store.open(vid)
            return CleanResult(v, False, v.manifest["counts"])
        parent = store.latest_id()
        work = Path(tempfile.mkdtemp(prefix=".tmp-work-", dir=store.root))
        try:
            pipe = Pipeline(config)
            run = pipe.run(iter_documents(files, config.limits.max_doc_bytes), work, progress)
            previous = (lambda: store.open(parent).documents()) if parent else None
            dd = find_duplicates(lambda: read_documents(run.spill), config.dedup, previous)
            duplicates = {} if config.dedup.report_only else dd.duplicates

            def fill(tmp: Path) -> None:
                writer = VersionWriter(tmp)
                outcomes: list[Outcome] = list(run.rejected)
                for doc in read_documents(run.spill):
                    dup = duplicates.get(doc.id)
                    if dup is None:
                        writer.keep(doc)
                        outcomes.append(Outcome(doc.id, doc.source, Status.KEPT))
                    else:
                        writer.drop(doc)
                        outcomes.append(Outcome(doc.id, doc.source, Status.DUPLICATE, reason=dup.reason,
                                                duplicate_of=dup.duplicate_of, similarity=dup.similarity))
                    if progress:
                        progress("writing", 1)
                files_info = writer.close()
                outcomes.sort(key=lambda o: (o.source, o.id))
                counts = _counts(outcomes, len(inputs))
                manifest = {
                    "version": vid,
                    "parent": parent,
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "package_version": __version__,
                    "config": config.to_dict(),
                    "inputs": inputs,
                    "counts": counts,
                    "stages": {name: rep.to_dict() for name, rep in run.reports.items()},
                    "dedup": {**dd.stats, "report_only": config.dedup.report_only,
                              "clusters": _clusters(dd.duplicates)},
                    "files": files_info,
                    "outcomes": [o.to_dict() for o in outcomes],
                }
                write_manifest(tmp, manifest)

            version = store.build(vid, fill)
        finally:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
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
