"""Retention: drop versions nobody keeps, and the data files only they needed (Delta vacuum)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa

from . import private
from .store import ConcurrentWrite, Store, StoreError
from .tables import DATA_TABLES, VERSION_SCHEMA, VERSIONS


@dataclass
class GcResult:
    kept: list[str]
    removed: list[str]
    deleted_files: dict[str, int] = field(default_factory=dict)  # per table


def gc(store: Store, keep: int | None = None, keep_since: datetime | None = None, dry_run: bool = False) -> GcResult:
    """Keep the latest ``keep`` versions and every version created at or after ``keep_since``
    (the latest is always kept); mark the others removed in ``versions`` (one commit), then let
    Delta's vacuum delete the data files that no kept version's table snapshot references."""
    from deltalake import CommitProperties, write_deltalake
    from deltalake.exceptions import CommitFailedError

    if keep is None and keep_since is None:
        raise StoreError("say what to keep: --keep N (the latest N versions) and/or --keep-since DATE")
    if keep is not None and keep < 1:
        raise StoreError(f"--keep must be at least 1 (the latest version is always kept), not {keep}")
    versions = store.versions()
    if not versions:
        raise StoreError(f"no versions in {store.root}; nothing to collect")
    kept = {versions[-1].id}
    if keep is not None:
        kept |= {v.id for v in versions[-keep:]}
    if keep_since is not None:
        since = keep_since if keep_since.tzinfo else keep_since.replace(tzinfo=timezone.utc)
        kept |= {v.id for v in versions if datetime.fromisoformat(v.record["created"]) >= since}
    result = GcResult([v.id for v in versions if v.id in kept], [v.id for v in versions if v.id not in kept])
    if dry_run:
        return result
    private_tables = _private_tables(store, versions, kept)  # unreachable: fail before removing anything
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if result.removed:
        dt = store.table(VERSIONS)
        seq = len(store._records_of(dt))
        rows = [{"seq": seq + i, "version": vid, "event": "removed", "parent": None, "created": now,
                 "tables": None, "files": None, "manifest": "{}", "private": None} for i, vid in enumerate(result.removed)]
        props = CommitProperties(custom_metadata={"cleancorpus.gc": json.dumps(result.removed)}, max_commit_retries=0)
        try:
            write_deltalake(dt, pa.Table.from_pylist(rows, schema=VERSION_SCHEMA), mode="append", commit_properties=props,
                            schema_mode="merge")
        except CommitFailedError as exc:
            raise ConcurrentWrite(f"another writer committed to {store.root} during gc; run gc again ({exc})") from exc
    keep_versions = {name: sorted({v.tables[name] for v in versions if v.id in kept}) for name in DATA_TABLES}
    for name in DATA_TABLES:
        dt = store.table(name)
        if dt is None:
            continue
        # retention 0: a version is kept by being named here, not by its age
        deleted = dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False,
                            keep_versions=keep_versions[name])
        result.deleted_files[name] = len(deleted)
    result.deleted_files.update(_vacuum_private(private_tables))
    return result


def _private_tables(store: Store, versions, kept: set[str]) -> dict[str, set[int]]:
    """The private tables (one per location versions recorded) and the table versions kept
    versions name in each. A location gc cannot reach is an error, not a silent skip: the
    originals of removed versions would stay behind."""
    by_uri: dict[str, set[int]] = {}
    for v in versions:
        rec = private.record_of(v.record)
        if rec is None:
            continue
        uri = private.resolve(store.uri, rec["location"])
        versions_kept = by_uri.setdefault(uri, set())
        if v.id in kept and rec["table_version"] is not None:
            versions_kept.add(rec["table_version"])
    for uri in by_uri:
        if private.table(uri) is None:
            raise StoreError(f"gc cannot reach the private table {uri} that versions of {store.root} name; "
                             f"run gc where it is readable so the originals of removed versions go too")
    return by_uri


def _vacuum_private(by_uri: dict[str, set[int]]) -> dict[str, int]:
    """Keep the table versions kept versions name; every data file only removed versions needed
    goes, with the originals in it (the log holds no statistics of them: store/private.py)."""
    deleted: dict[str, int] = {}
    for uri, keep_versions in by_uri.items():
        if not keep_versions:  # no kept version reads this table: its rows go too
            from deltalake import CommitProperties

            private.table(uri).delete(commit_properties=CommitProperties(
                custom_metadata={"cleancorpus.gc": "no kept version names this private table"}))
        n = private.vacuum(uri, sorted(keep_versions))
        deleted["private" if len(by_uri) == 1 else f"private {uri}"] = n
    return deleted
