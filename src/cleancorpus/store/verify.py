"""Re-check a stored version against what was recorded when it was written, and compare two."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..document import Document, Status
from . import private
from .store import StoreError, Version
from .tables import DATA_TABLES, DOCUMENTS, DUPLICATES, OUTCOMES, digest, outcome_of


@dataclass
class VerifyReport:
    version: str
    problems: list[str] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(version: Version, private_location: str | None = None) -> VerifyReport:
    """Every data file of the version's table snapshots against the sha256 recorded by the
    version that added it; then the rows: unique sources and ids, every stored document's
    outcome and digest, counts against the summary. Then the private table of withheld
    originals, where the version recorded it or at ``private_location``, when it is readable
    (``checked["private"]`` says what was checked; named explicitly and missing is a problem)."""
    rep = VerifyReport(version.id)
    try:
        files = _check_files(version, rep)
        if rep.problems:
            return rep
        _check_rows(version, rep)
        rep.checked["files"] = files
        _check_private(version, rep, private_location)
        _check_id_key(version, rep, private_location)
    except StoreError as exc:
        rep.problems.append(str(exc))
    except Exception as exc:  # a damaged data file or log raises many kinds of errors
        rep.problems.append(f"cannot read the version's tables: {type(exc).__name__}: {exc}")
    return rep


def _check_files(version: Version, rep: VerifyReport) -> int:
    recorded = version.store.recorded_files()
    n = 0
    for name in DATA_TABLES:
        dt = version.table(name)
        paths = pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist()
        for path in paths:
            key = f"{name}/{path}"
            n += 1
            want = recorded.get(key)
            if want is None:
                rep.problems.append(f"{key} is in the table but was not written by any cleancorpus version")
                continue
            got = _sha256(lambda: version.store.open_file(key))
            if got is None:
                rep.problems.append(f"{key} is missing")
                continue
            if got != want:
                rep.problems.append(f"{key} does not match the sha256 recorded when it was written")
    return n


def _check_rows(version: Version, rep: VerifyReport) -> None:
    outcomes = {}
    for row in version.rows(OUTCOMES):
        if row["source"] in outcomes:
            rep.problems.append(f"outcomes: source {row['source']!r} appears twice")
        outcomes[row["source"]] = row
    edits = version.published_edits()
    stored: dict[str, str] = {}
    for table, status in ((DOCUMENTS, Status.KEPT), (DUPLICATES, Status.DUPLICATE)):
        for doc in version._documents(table, False):
            doc = Document(doc.id, doc.text, doc.source, doc.metadata, tuple(edits.get(doc.id, ())))
            if doc.source in stored:
                rep.problems.append(f"{table}: source {doc.source!r} is stored twice")
            stored[doc.source] = table
            row = outcomes.get(doc.source)
            if row is None or row["status"] != status.value or row["id"] != doc.id:
                rep.problems.append(f"{table}: {doc.source} ({doc.id}) has no {status.value} outcome")
            elif digest(outcome_of(row), doc) != row["digest"]:
                rep.problems.append(f"{table}: {doc.source} ({doc.id}) does not match its recorded digest")
    counts = {"kept": 0, "duplicate": 0, "rejected": 0}
    for source, row in outcomes.items():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if row["status"] == "rejected":
            if not row["reason"]:
                rep.problems.append(f"rejected {source} has no reason")
            elif digest(outcome_of(row), None) != row["digest"]:
                rep.problems.append(f"outcomes: {source} does not match its recorded digest")
        elif source not in stored:
            rep.problems.append(f"{row['status']} {source} ({row['id']}) is not stored")
        if row["status"] == "duplicate" and not row["duplicate_of"]:
            rep.problems.append(f"duplicate {source} does not name what it duplicates")
    expected = version.manifest.get("counts", {})
    for key, n in counts.items():
        if expected.get(key) != n:
            rep.problems.append(f"the summary counts {expected.get(key)} {key}, the tables hold {n}")
    if expected.get("documents") != len(outcomes):
        rep.problems.append(f"the summary counts {expected.get('documents')} documents, outcomes holds {len(outcomes)}")
    rep.checked.update({"documents": counts["kept"], "outcomes": len(outcomes)})


def _check_private(version: Version, rep: VerifyReport, location: str | None) -> None:
    rec = version.private_record
    published = version.published_edits()
    withheld = {(i, seq): e for i, es in published.items() for seq, e in enumerate(es) if e.before is None}
    if rec is None or rec["table_version"] is None:
        if withheld:
            rep.problems.append(f"{len(withheld)} edit(s) withhold their original but the version names no private table")
        rep.checked["private"] = "none"
        return
    uri = private.resolve(version.store.uri, location or rec["location"])
    try:
        dt = private.table(uri, rec["table_version"])
    except Exception as exc:  # no such table version, no permission
        dt, why = None, f"{type(exc).__name__}: {exc}"
    else:
        why = "no Delta table there"
    if dt is None:
        if location is not None:
            rep.problems.append(f"the private table at {uri} cannot be read ({why})")
        rep.checked["private"] = f"not checked: not readable at {uri} (pass its location to check it)"
        return
    recorded = private.recorded_files(uri)
    paths = pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist()
    for path in paths:
        want = recorded.get(path)
        if want is None:
            rep.problems.append(f"private table {path} was not written by any cleancorpus version")
            continue
        got = _sha256(lambda: private.open_file(uri, path))
        if got is None:
            rep.problems.append(f"private table {path} is missing")
            continue
        if got != want:
            rep.problems.append(f"private table {path} does not match the sha256 recorded when it was written")
    if rep.problems:
        return
    originals: dict[str, dict[int, str]] = {}
    full_digest: dict[str, str] = {}
    for row in private.private_rows_of(uri, rec["table_version"]):
        e = withheld.get((row["id"], row["seq"]))
        if e is None or (e.stage, e.start, e.end) != (row["stage"], row["start"], row["end"]):
            rep.problems.append(f"private: {row['source']} ({row['id']}) edit {row['seq']} is not a withheld edit")
            continue
        originals.setdefault(row["id"], {})[row["seq"]] = row["before"]
        full_digest[row["id"]] = row["digest"]
    missing = [k for k in withheld if k[1] not in originals.get(k[0], {})]
    if missing:
        rep.problems.append(f"{len(missing)} withheld original(s) are not in the private table, e.g. document {missing[0][0]}")
    outcomes = {r["id"]: outcome_of(r) for r in version.rows(OUTCOMES) if r["status"] != "rejected"}
    for table in (DOCUMENTS, DUPLICATES):
        for doc in version._documents(table, False):
            if doc.id not in originals:
                continue
            full = Document(doc.id, doc.text, doc.source, doc.metadata,
                            tuple(private.fill(published.get(doc.id, []), originals[doc.id])))
            if doc.id in outcomes and digest(outcomes[doc.id], full) != full_digest[doc.id]:
                rep.problems.append(f"private: {doc.source} ({doc.id}) with its originals does not match its digest")
    rep.checked["private"] = f"{sum(map(len, originals.values()))} withheld originals of {len(originals)} documents at {uri}"


def _check_id_key(version: Version, rep: VerifyReport, location: str | None) -> None:
    """Is the key the version's ids were made with still beside the private table (idkey.py)?
    Only said, not a problem, when it is not readable (a reader without access to it) or is
    another key (the store's key was lost or replaced: the next build changes every id);
    a damaged key file is a problem (the next build cannot read it)."""
    from ..idkey import IdKey, IdKeyError, _read
    from ..idkey import location as key_location

    want = version.manifest.get("inputs", {}).get("id_key")
    if want is None:
        rep.checked["id_key"] = "none: built before keyed ids (its ids are unkeyed hashes)"
        return
    uri = private.resolve(version.store.uri, location) if location else private.location_for(version.store)[0]
    where = key_location(uri)
    try:
        text = _read(where)
    except Exception as exc:  # no permission, no such bucket
        text, why = None, f"{type(exc).__name__}: {exc}"
    else:
        why = "no key file"
    if text is None:
        rep.checked["id_key"] = (f"not checked: not readable at {where} ({why}); if it is lost, the next build makes "
                                 f"a new key and every id changes: restore it from a backup")
        return
    try:
        key = IdKey.loads(text, where)
    except IdKeyError as exc:
        rep.problems.append(f"the id key is damaged: {exc}; restore it from a backup (else the next build cannot run)")
        return
    if key.fingerprint == want:
        rep.checked["id_key"] = f"the store's key (fingerprint {want}) at {where}"
    else:
        rep.checked["id_key"] = (f"built with key {want}; the key at {where} is {key.fingerprint}: the next build "
                                 f"changes every id (restore the old key from a backup to keep them)")


def diff(old: Version, new: Version) -> dict[str, list[dict[str, Any]]]:
    """Kept documents added, removed and changed between two versions, matched by source."""
    def kept(v: Version) -> dict[str, tuple[str, str]]:
        return {r["source"]: (r["id"], r["digest"]) for r in v.rows(OUTCOMES) if r["status"] == "kept"}

    a, b = kept(old), kept(new)
    changed_sources = {s for s in a.keys() & b.keys() if a[s][1] != b[s][1]}
    chars = {}
    if changed_sources:
        for v, side in ((old, 0), (new, 1)):
            for row in v.rows(DOCUMENTS, ["source", "text"]):
                if row["source"] in changed_sources:
                    chars[(side, row["source"])] = len(row["text"])
    added = [{"source": s, "id": b[s][0]} for s in sorted(b.keys() - a.keys())]
    removed = [{"source": s, "id": a[s][0]} for s in sorted(a.keys() - b.keys())]
    changed = [
        {"source": s, "old_id": a[s][0], "new_id": b[s][0], "old_chars": chars.get((0, s)), "new_chars": chars.get((1, s))}
        for s in sorted(changed_sources)
    ]
    return {"added": added, "removed": removed, "changed": changed}


__all__ = ["VerifyReport", "verify", "diff"]


def _sha256(open_file) -> str | None:
    """The sha256 of a file read in 1 MiB blocks (``open_file()`` opens it), None if it is missing."""
    h = hashlib.sha256()
    try:
        with open_file() as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        return None
    return h.hexdigest()
