from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from .. import jsonsafe
from ..document import Document, Edit, Outcome

LATEST = "latest"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"
DOCS_JSONL = "documents.jsonl"
DOCS_PARQUET = "documents.parquet"
EDITS = "edits.jsonl"
DROPPED = "dropped.jsonl"
PARQUET_SCHEMA = pa.schema(
    [("id", pa.string()), ("text", pa.string()), ("source", pa.string()), ("metadata", pa.string())]
)


class StoreError(Exception):
    """A problem with the store that the user must act on; the message says how."""


class VersionNotFound(StoreError):
    pass


class LockTimeout(StoreError):
    pass


@dataclass(frozen=True)
class Version:
    """One immutable version in the store."""

    id: str
    path: Path

    @cached_property
    def manifest(self) -> dict[str, Any]:
        try:
            with open(self.path / MANIFEST, encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"version {self.id} has no readable manifest ({exc}); run `cleancorpus verify {self.id}`") from exc

    def outcomes(self) -> list[Outcome]:
        return [Outcome.from_dict(o) for o in self.manifest["outcomes"]]

    def __iter__(self) -> Iterator[Document]:
        return self.documents()

    def __len__(self) -> int:
        return int(self.manifest["counts"]["kept"])

    def documents(self, with_edits: bool = False) -> Iterator[Document]:
        edits = self.edits() if with_edits else {}
        with open(self.path / DOCS_JSONL, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                yield Document(row["id"], row["text"], row["source"], row["metadata"], tuple(edits.get(row["id"], ())))

    def dropped(self) -> Iterator[Document]:
        """Documents that reached the end but were dropped as duplicates (with their edits)."""
        path = self.path / DROPPED
        if not path.exists():
            return iter(())
        return _read_records(path)

    def edits(self) -> dict[str, list[Edit]]:
        out: dict[str, list[Edit]] = {}
        path = self.path / EDITS
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    out[row["id"]] = [Edit.from_dict(e) for e in row["edits"]]
        return out


def _read_records(path: Path) -> Iterator[Document]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield Document.from_record(json.loads(line))


class Store:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    # -- reading
    def latest_id(self) -> str | None:
        try:
            vid = (self.root / LATEST).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return vid or None

    def has(self, version_id: str) -> bool:
        return (self.root / version_id / MANIFEST).is_file()

    def open(self, version: str | None = None) -> Version:
        vid = version or self.latest_id()
        if vid is None:
            raise VersionNotFound(f"no versions in {self.root}; run `cleancorpus clean RAW_DIR --out {self.root}` first")
        if vid in ("latest", "LATEST"):
            return self.open(None)
        if not self.has(vid):
            matches = [v for v in self.version_ids() if v.startswith(vid)]
            if len(matches) == 1:
                vid = matches[0]
            else:
                known = ", ".join(self.version_ids()) or "none"
                raise VersionNotFound(f"no version {vid!r} in {self.root} (known: {known})")
        return Version(vid, self.root / vid)

    def version_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file())

    def versions(self) -> list[Version]:
        vs = [Version(v, self.root / v) for v in self.version_ids()]
        return sorted(vs, key=lambda v: (v.manifest.get("created", ""), v.id))

    # -- writing
    @contextlib.contextmanager
    def lock(self, timeout: float = 600.0):
        """Hold the store's write lock; a second writer waits up to ``timeout`` seconds."""
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
        """Delete half-built versions left by a crashed run (call while holding the lock)."""
        removed = []
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.name.startswith(TMP_PREFIX):
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                    removed.append(p.name)
        return removed

    def build(self, version_id: str, fill: Callable[[Path], None]) -> Version:
        """Build a version in a temporary directory with ``fill``, then rename it into place and
        point ``latest`` at it. A crash at any point leaves the old version and ``latest`` intact."""
        tmp = self.root / f"{TMP_PREFIX}{version_id}-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            fill(tmp)
            for f in tmp.iterdir():
                _fsync_file(f)
            _fsync_dir(tmp)
            os.rename(tmp, self.root / version_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(self.root)
        self.set_latest(version_id)
        return Version(version_id, self.root / version_id)

    def set_latest(self, version_id: str) -> None:
        tmp = self.root / f"{TMP_PREFIX}latest-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(version_id + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / LATEST)
        _fsync_dir(self.root)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- writers used while filling a version directory


class VersionWriter:
    """Streams kept documents to JSONL and Parquet (in batches), and edits and drops to JSONL."""

    def __init__(self, directory: Path, batch_size: int = 2000) -> None:
        self.dir = directory
        self.batch_size = batch_size
        self._docs = open(directory / DOCS_JSONL, "w", encoding="utf-8")
        self._edits = open(directory / EDITS, "w", encoding="utf-8")
        self._dropped = open(directory / DROPPED, "w", encoding="utf-8")
        self._parquet = pq.ParquetWriter(directory / DOCS_PARQUET, PARQUET_SCHEMA, compression="zstd")
        self._batch: list[dict[str, str]] = []
        self.kept = 0
        self._sha = hashlib.sha256()

    def keep(self, doc: Document) -> None:
        line = jsonsafe.dumps(doc.to_row()) + "\n"
        self._docs.write(line)
        self._sha.update(line.encode("utf-8"))
        self.kept += 1
        self._batch.append({"id": doc.id, "text": doc.text, "source": doc.source,
                            "metadata": jsonsafe.dumps(doc.metadata, sort_keys=True)})
        if len(self._batch) >= self.batch_size:
            self._flush()
        self._write_edits(doc)

    def drop(self, doc: Document) -> None:
        self._dropped.write(jsonsafe.dumps(doc.to_record()) + "\n")
        self._write_edits(doc)

    def _write_edits(self, doc: Document) -> None:
        if doc.edits:
            self._edits.write(jsonsafe.dumps({"id": doc.id, "edits": [e.to_dict() for e in doc.edits]}) + "\n")

    def _flush(self) -> None:
        if self._batch:
            self._parquet.write_table(pa.Table.from_pylist(self._batch, schema=PARQUET_SCHEMA))
            self._batch = []

    def close(self) -> dict[str, Any]:
        self._flush()
        self._parquet.close()
        for fh in (self._docs, self._edits, self._dropped):
            fh.close()
        return {"documents.jsonl": {"rows": self.kept, "sha256": self._sha.hexdigest()}}


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    files = manifest.setdefault("files", {})
    for name in (DOCS_PARQUET, EDITS, DROPPED):
        p = directory / name
        if p.exists():
            files.setdefault(name, {})["sha256"] = _sha256(p)
    with open(directory / MANIFEST, "w", encoding="utf-8") as fh:
        fh.write(jsonsafe.dumps(manifest, indent=1))
        fh.write("\n")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
