"""Re-check a stored version against its manifest, and compare two versions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from .store import DOCS_JSONL, DOCS_PARQUET, MANIFEST, StoreError, Version, _sha256


@dataclass
class VerifyReport:
    version: str
    problems: list[str] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(version: Version) -> VerifyReport:
    rep = VerifyReport(version.id)
    try:
        m = version.manifest
    except StoreError as exc:
        rep.problems.append(str(exc))
        return rep
    if m.get("version") != version.id:
        rep.problems.append(f"manifest names version {m.get('version')!r}, directory is {version.id!r}")
    files = m.get("files", {})
    for name, info in files.items():
        path = version.path / name
        if not path.exists():
            rep.problems.append(f"{name} is listed in the manifest but missing")
            continue
        if name != DOCS_JSONL and "sha256" in info and _sha256(path) != info["sha256"]:
            rep.problems.append(f"{name} does not match its sha256 in the manifest")
    docs_path = version.path / DOCS_JSONL
    if not docs_path.exists():
        rep.problems.append(f"{DOCS_JSONL} is missing")
        return rep
    ids: list[str] = []
    sha = hashlib.sha256()
    with open(docs_path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            sha.update(raw)
            try:
                ids.append(json.loads(raw)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                rep.problems.append(f"{DOCS_JSONL} line {n} is not a document row")
    expected = files.get(DOCS_JSONL, {})
    if expected.get("sha256") and sha.hexdigest() != expected["sha256"]:
        rep.problems.append(f"{DOCS_JSONL} does not match its sha256 in the manifest")
    if len(ids) != len(set(ids)):
        rep.problems.append(f"{DOCS_JSONL} holds {len(ids) - len(set(ids))} repeated document id(s)")
    counts = m.get("counts", {})
    if counts.get("kept") != len(ids):
        rep.problems.append(f"manifest counts {counts.get('kept')} kept documents, {DOCS_JSONL} holds {len(ids)}")
    outcomes = m.get("outcomes", [])
    kept = {o["id"] for o in outcomes if o.get("status") == "kept"}
    if kept != set(ids):
        rep.problems.append(
            f"kept outcomes and stored documents disagree: {len(kept - set(ids))} kept but not stored, "
            f"{len(set(ids) - kept)} stored but not kept"
        )
    if counts.get("documents") != len(outcomes):
        rep.problems.append(f"manifest counts {counts.get('documents')} documents but lists {len(outcomes)} outcomes")
    for o in outcomes:
        if o.get("status") == "duplicate" and o.get("duplicate_of") is None:
            rep.problems.append(f"duplicate {o.get('id')} does not name what it duplicates")
        if o.get("status") == "rejected" and not o.get("reason"):
            rep.problems.append(f"rejected {o.get('id')} has no reason")
    pq_path = version.path / DOCS_PARQUET
    if pq_path.exists():
        try:
            rows = pq.ParquetFile(pq_path).metadata.num_rows
            if rows != len(ids):
                rep.problems.append(f"{DOCS_PARQUET} holds {rows} rows, {DOCS_JSONL} {len(ids)}")
        except Exception as exc:  # a damaged parquet file raises many kinds of errors
            rep.problems.append(f"{DOCS_PARQUET} is unreadable: {exc}")
    else:
        rep.problems.append(f"{DOCS_PARQUET} is missing")
    rep.checked = {"documents": len(ids), "outcomes": len(outcomes), "files": len(files) + 1}
    return rep


def diff(old: Version, new: Version) -> dict[str, list[dict[str, Any]]]:
    """Kept documents added, removed and changed between two versions, matched by source."""
    def by_source(v: Version) -> dict[str, tuple[str, str]]:
        return {d.source: (d.id, d.text) for d in v.documents()}

    a, b = by_source(old), by_source(new)
    added = [{"source": s, "id": b[s][0]} for s in sorted(b.keys() - a.keys())]
    removed = [{"source": s, "id": a[s][0]} for s in sorted(a.keys() - b.keys())]
    changed = [
        {"source": s, "old_id": a[s][0], "new_id": b[s][0], "old_chars": len(a[s][1]), "new_chars": len(b[s][1])}
        for s in sorted(a.keys() & b.keys())
        if a[s][1] != b[s][1]
    ]
    return {"added": added, "removed": removed, "changed": changed}


__all__ = ["VerifyReport", "verify", "diff", "MANIFEST"]
