from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from ..document import Document, Edit, Outcome
from . import private as _private
from .tables import (
    DATA_TABLES,
    DOCUMENTS,
    DUPLICATES,
    EDITS,
    OUTCOMES,
    VERSIONS,
    edit_of,
    metadata_of,
    outcome_of,
    scan,
)

LOCK = ".lock"
TMP_PREFIX = ".tmp-"
MANIFEST = "manifest"  # the summary's key in the versions table


class StoreError(Exception):
    """A problem with the store that the user must act on; the message says how."""


class VersionNotFound(StoreError):
    pass


class VersionRemoved(VersionNotFound):
    """The version existed but ``cleancorpus gc`` removed its data."""


class LockTimeout(StoreError):
    pass


class ConcurrentWrite(StoreError):
    pass


class PrivateUnavailable(StoreError):
    """The private table of withheld originals is not there or not readable."""


def is_remote(location: str | os.PathLike) -> bool:
    s = str(location)
    return "://" in s and not s.startswith("file://")


def storage_options() -> dict[str, str] | None:
    """deltalake reads the standard AWS_* variables itself; nothing to pass."""
    return None


@dataclass(frozen=True)
class Version:
    """One cleancorpus version: one Delta version of each table, named in the versions table."""

    store: "Store"
    id: str
    record: dict[str, Any]

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The summary: counts, stage reports, dedup statistics, config, inputs digest."""
        summary = json.loads(self.record["manifest"])
        return {"version": self.id, "parent": self.record["parent"], "created": self.record["created"],
                "tables": dict(self.record["tables"]), **summary}

    @property
    def tables(self) -> dict[str, int]:
        return dict(self.record["tables"])

    @property
    def parent(self) -> str | None:
        return self.record["parent"]

    def table(self, name: str):
        return self.store.table(name, self.tables[name])

    def rows(self, name: str, columns: list[str] | None = None, filter=None) -> Iterator[dict[str, Any]]:
        dt = self.table(name)
        if columns is not None:
            have = set(pa.schema(dt.schema().to_arrow()).names)
            columns = [c for c in columns if c in have]
        for batch in scan(dt.to_pyarrow_dataset(), columns, filter):
            yield from batch.to_pylist()

    def outcomes(self) -> list[Outcome]:
        return [outcome_of(r) for r in self.rows(OUTCOMES)]

    def outcome_rows(self) -> Iterator[dict[str, Any]]:
        return self.rows(OUTCOMES)

    def __iter__(self) -> Iterator[Document]:
        return self.documents()

    def __len__(self) -> int:
        return int(self.manifest["counts"]["kept"])

    def documents(self, with_edits: bool = False) -> Iterator[Document]:
        return self._documents(DOCUMENTS, with_edits)

    def dropped(self) -> Iterator[Document]:
        """Documents that reached the end but were dropped as duplicates (with their edits)."""
        return self._documents(DUPLICATES, True)

    def _documents(self, table: str, with_edits: bool) -> Iterator[Document]:
        edits = self.edits() if with_edits else {}
        for row in self.rows(table, ["source", "id", "text", "metadata", "metadata_extra"]):
            yield Document(row["id"], row["text"], row["source"], metadata_of(row.get("metadata"), row["metadata_extra"]),
                           tuple(edits.get(row["id"], ())))

    def edits(self, private: str | None = None) -> dict[str, list[Edit]]:
        """Every stored document's edits by id. Withheld originals (personal data) are None
        unless ``private`` names the private table (or the store was opened with it)."""
        edits = self.published_edits()
        location = private or self.store.private
        if location is not None:
            originals = self.originals(location)
            edits = {k: _private.fill(v, originals.get(k, {})) for k, v in edits.items()}
        return edits

    def published(self) -> "Version":
        """This version as published: read without its private table, whatever the store was opened with."""
        if self.store.private is None:
            return self
        return Version(Store(self.store.root), self.id, self.record)

    def published_edits(self) -> dict[str, list[Edit]]:
        """The edits as the published table holds them: withheld originals are None."""
        out: dict[str, list[tuple[int, Edit]]] = {}
        for row in self.rows(EDITS):
            out.setdefault(row["id"], []).append((row["seq"], edit_of(row)))
        return {k: [e for _, e in sorted(v, key=lambda x: x[0])] for k, v in out.items()}

    @property
    def private_record(self) -> dict[str, Any] | None:
        """Where this version's withheld originals are (location, table version), or None."""
        return _private.record_of(self.record)

    def originals(self, location: str) -> dict[str, dict[int, str]]:
        """document id -> {edit position: original} from the private table at ``location``
        (a URI, a path, or a path relative to the store), at this version's table version."""
        rec = self.private_record
        if rec is None or rec["table_version"] is None:
            return {}
        uri = _private.resolve(self.store.uri, location)
        try:
            return _private.originals(uri, rec["table_version"])
        except FileNotFoundError:
            raise PrivateUnavailable(f"no private table at {uri}: version {self.id} keeps its withheld originals "
                                     f"at {rec['location']} (relative paths are under the store)") from None
        except Exception as exc:  # a table without that version, no permission, ...
            raise PrivateUnavailable(f"cannot read version {self.id}'s originals (Delta version "
                                     f"{rec['table_version']}) from {uri}: {type(exc).__name__}: {exc}") from exc


class Store:
    """The Delta tables under one location (a directory or an ``s3://`` prefix)."""

    def __init__(self, root: str | os.PathLike, private: str | os.PathLike | None = None) -> None:
        # where withheld originals are read from (and written to): a URI, a path, or a path
        # relative to the store; None: readers see them withheld, writers use the recorded place
        self.private = None if private is None else str(private)
        self.remote = is_remote(root)
        if self.remote:
            self.uri = str(root).rstrip("/")
            self.root: Any = self.uri
        else:
            path = Path(str(root).removeprefix("file://"))
            self.root = path
            self.uri = str(path.resolve())
        self.options = storage_options()

    def __repr__(self) -> str:
        return f"Store({self.uri!r})"

    def table_uri(self, name: str) -> str:
        return f"{self.uri}/{name}"

    def table(self, name: str, version: int | None = None):
        """The Delta table ``name`` (at ``version``), or None when it does not exist yet."""
        from deltalake import DeltaTable

        uri = self.table_uri(name)
        if not DeltaTable.is_deltatable(uri, storage_options=self.options):
            return None
        return DeltaTable(uri, version=version, storage_options=self.options)

    # -- the versions table
    def _records(self) -> list[dict[str, Any]]:
        dt = self.table(VERSIONS)
        if dt is None:
            return []
        return self._records_of(dt)

    @staticmethod
    def _records_of(dt) -> list[dict[str, Any]]:
        rows = [row for batch in scan(dt.to_pyarrow_dataset()) for row in batch.to_pylist()]
        # file order is not commit order; the sequence number is
        return sorted(rows, key=lambda r: r["seq"])

    def _live(self, records: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], str | None]:
        live: dict[str, dict[str, Any]] = {}
        removed: dict[str, dict[str, Any]] = {}
        latest = None
        for r in records:
            if r["event"] == "version":
                live[r["version"]] = r
                removed.pop(r["version"], None)
                latest = r["version"]
            elif r["event"] == "removed":
                if r["version"] in live:
                    removed[r["version"]] = r
                    del live[r["version"]]
        return live, removed, latest

    def latest_id(self) -> str | None:
        return self._live(self._records())[2]

    def has(self, version_id: str) -> bool:
        return version_id in self._live(self._records())[0]

    def open(self, version: str | None = None) -> Version:
        live, removed, latest = self._live(self._records())
        vid = version if version not in (None, "latest", "LATEST") else latest
        if vid is None:
            raise VersionNotFound(f"no versions in {self.root}; run `cleancorpus clean RAW_DIR --out {self.root}` first")
        if vid not in live:
            matches = [v for v in live if v.startswith(vid)]
            gone = [v for v in removed if v.startswith(vid)]
            if len(matches) == 1:
                vid = matches[0]
            elif not matches and len(gone) == 1:
                r = removed[gone[0]]
                raise VersionRemoved(f"version {gone[0]} was removed by `cleancorpus gc` on {r['created']}; "
                                     f"its data is gone (known versions: {', '.join(live) or 'none'})")
            else:
                known = ", ".join(live) or "none"
                raise VersionNotFound(f"no version {vid!r} in {self.root} (known: {known})")
        return Version(self, vid, live[vid])

    def version_ids(self) -> list[str]:
        return [v.id for v in self.versions()]

    def versions(self) -> list[Version]:
        """Live versions, oldest first."""
        live, _, _ = self._live(self._records())
        return sorted((Version(self, vid, r) for vid, r in live.items()), key=lambda v: v.record["seq"])

    def removed(self) -> list[dict[str, Any]]:
        return list(self._live(self._records())[1].values())

    def recorded_files(self) -> dict[str, str]:
        """sha256 of every data file any version added ("table/file" -> hex)."""
        files: dict[str, str] = {}
        for r in self._records():
            if r["event"] == "version" and r["files"]:
                files.update(json.loads(r["files"]))
        return files

    # -- writing
    @contextlib.contextmanager
    def lock(self, timeout: float = 600.0):
        """Hold the store's write lock (a local store; on object storage Delta's conditional
        commits stop a second writer instead); a second local writer waits up to ``timeout`` s."""
        if self.remote:
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / LOCK, "a+")
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"another cleancorpus run is writing to {self.root} (lock held for over {timeout:g} s); "
                            "wait for it to finish or stop it, then run again"
                        ) from None
                    time.sleep(0.2)
            yield
        finally:
            fh.close()

    def remove_leftovers(self) -> list[str]:
        """Delete scratch directories left by a crashed run (call while holding the lock)."""
        import shutil

        removed = []
        if not self.remote and self.root.is_dir():
            for p in self.root.iterdir():
                if p.name.startswith(TMP_PREFIX):
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                    removed.append(p.name)
        return removed

    def repair(self) -> list[str]:
        """Undo commits of a write that crashed before its version was recorded: each table
        goes back (by a Delta restore) to the state the latest version names. Returns what was
        done, one line per table."""
        from deltalake import CommitProperties

        live, _, latest = self._live(self._records())
        done = []
        for name in DATA_TABLES:
            dt = self.table(name)
            if dt is None:
                continue
            want = live[latest]["tables"][name] if latest else None
            note = CommitProperties(custom_metadata={
                "cleancorpus.repair": f"undo an interrupted write; back to the state of version {latest or '(none)'}"})
            if want is None:
                if dt.version() >= 0 and len(dt.file_uris()):
                    dt.delete(commit_properties=note)
                    done.append(f"{name}: rows of an interrupted first write deleted")
            elif dt.version() > want:
                dt.restore(want, commit_properties=note)
                done.append(f"{name}: restored to Delta version {want}")
        rec = _private.record_of(live[latest]) if latest else None
        if rec is not None:
            done += _private.repair(_private.resolve(self.uri, self.private or rec["location"]),
                                    rec["table_version"] if self.private is None or
                                    _private.resolve(self.uri, self.private) == _private.resolve(self.uri, rec["location"])
                                    else None)
        return done

    def open_file(self, relpath: str):
        """A data file of the store, by its path relative to the store."""
        if not self.remote:
            return open(Path(self.uri) / relpath, "rb")
        import fsspec

        # no listing cache: other writers (and deltalake) add files under our feet
        fs, root = fsspec.core.url_to_fs(self.uri, use_listings_cache=False)
        return fs.open(f"{root.rstrip('/')}/{relpath}", "rb")
