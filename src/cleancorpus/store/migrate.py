"""Import versions of the first store layout (one folder per version: documents.jsonl,
edits.jsonl, dropped.jsonl, manifest.json with every outcome) into the Delta tables.

Each old version becomes a Delta version with the same id and creation time, oldest first,
each a child of the one before; a version already in the target store is skipped, so an
interrupted migration can simply be run again. The old folders are left as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from ..document import Document, Edit, Outcome, Status
from .store import Store, StoreError
from .write import write_version

MANIFEST = "manifest.json"


def old_versions(root: Path) -> list[tuple[str, dict[str, Any], Path]]:
    found = []
    for d in sorted(p for p in Path(root).iterdir() if p.is_dir() and (p / MANIFEST).is_file()):
        try:
            m = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{d / MANIFEST} is unreadable ({exc}); move that folder away and migrate again") from exc
        found.append((d.name, m, d))
    return sorted(found, key=lambda t: (t[1].get("created", ""), t[0]))


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)


def _items(d: Path, manifest: dict[str, Any]):
    edits = {r["id"]: tuple(Edit.from_dict(e) for e in r["edits"]) for r in _jsonl(d / "edits.jsonl")}
    docs = {r["id"]: Document(r["id"], r["text"], r["source"], r.get("metadata") or {}, edits.get(r["id"], ()))
            for r in _jsonl(d / "documents.jsonl")}
    docs.update({r["id"]: Document.from_record(r) for r in _jsonl(d / "dropped.jsonl")})
    for o in manifest.get("outcomes", []):
        outcome = Outcome.from_dict(o)
        doc = docs.get(outcome.id) if outcome.status is not Status.REJECTED else None
        if outcome.status is not Status.REJECTED and doc is None:
            raise StoreError(f"{d.name}: {outcome.source} is {outcome.status.value} but its document is missing; "
                             f"run `cleancorpus verify` on the old store")
        yield outcome, doc


def _summary(manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    from ..api import LARGEST_CLUSTERS, inputs_digest

    clusters = manifest.get("dedup", {}).get("clusters", [])
    ranked = sorted(clusters, key=lambda c: (-len(c.get("dropped", [])), c.get("kept", "")))
    dedup = {k: v for k, v in manifest.get("dedup", {}).items() if k != "clusters"}
    dedup.update({"clusters": len(clusters), "largest_clusters": [
        {"kept": c["kept"], "size": len(c.get("dropped", [])), "dropped": c.get("dropped", [])[:20]}
        for c in ranked[:LARGEST_CLUSTERS]]})
    keep = {k: v for k, v in manifest.items() if k not in ("outcomes", "files", "inputs", "dedup", "version", "parent", "created")}
    return {**keep, "dedup": dedup, "inputs": {"files": len(manifest.get("inputs", [])),
                                               "sha256": inputs_digest(manifest.get("inputs", []), None)},
            "migrated_from": str(folder)}


def _withhold(manifest: dict[str, Any]):
    """Old versions' redactions are withheld like new ones' (store/private.py): the pii stage's
    edits, and with it in the old configuration, any edit whose original holds personal data."""
    from ..stages.pii import KINDS, holds_personal_data

    kinds = KINDS if "pii" in (manifest.get("config") or {}).get("stages", ()) else ()
    return lambda edit: holds_personal_data(edit, kinds)


def migrate(old_root: str | Path, store: Store) -> tuple[list[str], list[str]]:
    """Returns (migrated, skipped) version ids."""
    versions = old_versions(Path(old_root))
    if not versions:
        raise StoreError(f"no versions of the folder layout in {old_root} (folders holding {MANIFEST})")
    migrated, skipped = [], []
    with store.lock():
        for vid, manifest, folder in versions:
            if store.has(vid):
                skipped.append(vid)
                continue
            scratch = Path(store.root) / f".tmp-migrate-{vid}" if not store.remote else Path(folder)
            scratch.mkdir(parents=True, exist_ok=True)
            try:
                meta = {"cleancorpus.parent": store.latest_id() or "", "cleancorpus.created": manifest.get("created", ""),
                        "cleancorpus.config": json.dumps(manifest.get("config", {}), sort_keys=True),
                        "cleancorpus.package_version": str(manifest.get("package_version", "")),
                        "cleancorpus.package_sha256": str(manifest.get("package_sha256", "")),
                        "cleancorpus.migrated_from": str(folder)}
                write_version(store, vid, lambda: _items(folder, manifest), lambda: _summary(manifest, folder),
                              created=manifest.get("created", ""), commit_metadata=meta, scratch=scratch,
                              withhold=_withhold(manifest))
            finally:
                if scratch != Path(folder):
                    import shutil

                    shutil.rmtree(scratch, ignore_errors=True)
            migrated.append(vid)
    return migrated, skipped
