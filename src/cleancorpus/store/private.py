"""Personal data a version does not publish: the originals of its redactions, in a private table.

The pii stage replaces an e-mail address by ``<EMAIL>`` with an Edit whose ``before`` is the
address. Published, that edit would republish what the stage removed, so a version splits it:

- the published ``edits`` table keeps the edit (stage, span, after, reason, confidence) with
  ``before`` null: *withheld*. Withheld are every ``pii`` edit and every other stage's edit
  whose original holds what the pii stage redacts (``stages.pii.holds_personal_data``: a
  boilerplate footer cut before the pii stage ran can carry a contact address);
- the originals go to a separate Delta table, by default ``<store>/_private/pii`` (a local
  directory created with mode 0700; on S3 a prefix a bucket policy can deny), or wherever
  ``Store(private=...)`` / ``cleancorpus clean --private-out URI`` points: another bucket.
  Columns: part, source, id, seq (the edit's position in the document's history, as in
  ``edits``), stage, start, end, before, and ``digest``: the sha256 of the document's whole
  record *with* its originals, which is what tells a later write that only an original changed
  and what ``verify`` re-checks. The published ``outcomes.digest`` hashes the record with the
  originals withheld: an unkeyed hash over a known text with one phone number missing could be
  brute-forced, so no published value depends on an original.

One write: the private table is committed with the data tables, before the ``versions`` row
(whose ``private`` column records its location and its Delta version; the sha256 of the files
a version added there are in the table's own log, an empty commit after the data, since a hash
of a file holding one phone number and otherwise published values could be brute-forced): a
crash leaves no version naming it, and ``repair`` restores it like the others. No column statistics of ``before`` are written to its Delta log
(``delta.dataSkippingStatsColumns``), so vacuum (gc) removing a data file removes its originals:
a Delta log never holds them.

Reading originals back needs the location explicitly (``Store(out, private=URI)``,
``cleancorpus revert --private URI``): ``load``, ``export``, ``show`` and the report read the
published tables only and show a withheld original as a span of its length.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa

from .. import jsonsafe
from ..document import Document, Edit
from .tables import scan

PRIVATE_DEFAULT = "_private/pii"  # relative: under the store
PART = "part"
SCHEMA = pa.schema([
    (PART, pa.int32()), ("source", pa.string()), ("id", pa.string()), ("seq", pa.int32()), ("stage", pa.string()),
    ("start", pa.int64()), ("end", pa.int64()), ("before", pa.string()), ("digest", pa.string()),
])
# statistics (min/max) only of these columns: the originals and their digest never reach the log
STATS_COLUMNS = "part,source,id,seq,stage,start,end"

Withhold = Callable[[Edit], bool]


def split(doc: Document, withhold: Withhold) -> tuple[Document, list[tuple[int, Edit]]]:
    """The document as published (withheld originals as None) and its withheld edits with their
    position in the document's history."""
    hidden: list[tuple[int, Edit]] = []
    edits: list[Edit] = []
    for seq, e in enumerate(doc.edits):
        if withhold(e):
            hidden.append((seq, e))
            edits.append(replace(e, before=None))
        else:
            edits.append(e)
    return (replace(doc, edits=tuple(edits)) if hidden else doc), hidden


def rows(doc: Document, hidden: list[tuple[int, Edit]], digest: str, part: int) -> Iterator[dict[str, Any]]:
    for seq, e in hidden:
        # a lone surrogate is stored as U+FFFD, as every stored string (tables.edit_rows)
        yield {PART: part, "source": doc.source, "id": doc.id, "seq": seq, "stage": e.stage, "start": e.start,
               "end": e.end, "before": jsonsafe.strict_value(e.before), "digest": digest}


def fill(edits: list[Edit], originals: dict[int, str]) -> list[Edit]:
    """A document's published edits with the withheld originals put back (by position)."""
    return [replace(e, before=originals[i]) if e.before is None and i in originals else e for i, e in enumerate(edits)]


# -- where the table is
def is_remote(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def resolve(store_uri: str, location: str) -> str:
    """A location as given or recorded: a URI, an absolute path, or a path relative to the store."""
    location = location.removeprefix("file://") if location.startswith("file://") else location
    if is_remote(location):
        return location.rstrip("/")
    if os.path.isabs(location):
        return os.path.normpath(location)
    if is_remote(store_uri):
        return f"{store_uri.rstrip('/')}/{location.strip('/')}"
    return os.path.normpath(os.path.join(store_uri, location))


def prepare(uri: str) -> None:
    """A local private table's directories are readable by their owner only."""
    if is_remote(uri):
        return
    path = Path(uri)
    for d in reversed([path, *path.parents]):
        if not d.exists():
            d.mkdir(mode=0o700)


def restrict_local(store_uri: str, name: str) -> None:
    """Make ``<store>/<name>`` (a local directory) readable by its owner only: the incremental
    cache holds every stage's results, originals of redactions included."""
    if is_remote(store_uri):
        return
    path = Path(store_uri) / name
    if path.is_dir():
        path.chmod(0o700)


def table(uri: str, version: int | None = None):
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(uri):
        return None
    return DeltaTable(uri, version=version)


def open_file(uri: str, relpath: str):
    if not is_remote(uri):
        return open(Path(uri) / relpath, "rb")
    import fsspec

    fs, root = fsspec.core.url_to_fs(uri, use_listings_cache=False)
    return fs.open(f"{root.rstrip('/')}/{relpath}", "rb")


def record_of(version_record: dict[str, Any]) -> dict[str, Any] | None:
    """The ``private`` entry of a versions row: location, table_version (or None)."""
    raw = version_record.get("private")
    return json.loads(raw) if raw else None


def digests(uri: str, version: int) -> dict[str, str]:
    """source -> digest of the full record, for the sources with withheld originals."""
    dt = table(uri, version)
    if dt is None:
        return {}
    out: dict[str, str] = {}
    for batch in scan(dt.to_pyarrow_dataset(), ["source", "digest"]):
        for s, d in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            out[s] = d
    return out


def originals(uri: str, version: int) -> dict[str, dict[int, str]]:
    """document id -> {seq: original} from the private table at ``version``."""
    dt = table(uri, version)
    if dt is None:
        raise FileNotFoundError(uri)
    out: dict[str, dict[int, str]] = {}
    for batch in scan(dt.to_pyarrow_dataset(), ["id", "seq", "before"]):
        for i, s, b in zip(*(c.to_pylist() for c in batch.columns)):
            out.setdefault(i, {})[s] = b
    return out


def private_rows_of(uri: str, version: int) -> Iterator[dict[str, Any]]:
    dt = table(uri, version)
    for batch in scan(dt.to_pyarrow_dataset()):
        yield from batch.to_pylist()


def write(uri: str, reader: pa.RecordBatchReader, *, mode: str, predicate: str | None, props, writer_props,
          target_file_size: int) -> Any:
    """One commit to the private table (created on first use); returns the table after it."""
    from deltalake import write_deltalake

    dt = table(uri)
    kwargs: dict[str, Any] = {"commit_properties": props, "writer_properties": writer_props,
                              "target_file_size": target_file_size, "partition_by": [PART]}
    if dt is None:
        prepare(uri)
        write_deltalake(uri, reader, mode="append", configuration={"delta.dataSkippingStatsColumns": STATS_COLUMNS},
                        **kwargs)
    elif mode == "overwrite" and predicate is None:
        write_deltalake(dt, reader, mode="overwrite", schema_mode="overwrite", **kwargs)
    elif mode == "overwrite":
        write_deltalake(dt, reader, mode="overwrite", predicate=predicate, **kwargs)
    else:
        write_deltalake(dt, reader, mode="append", **kwargs)
    return table(uri)


FILES_KEY = "cleancorpus.files"


def seal(uri: str, files: dict[str, str], metadata: dict[str, str]) -> int:
    """Record the sha256 of the data files a write added in the table's own log: an empty
    commit carrying them. Returns the table's version after it (what the version records)."""
    from deltalake import CommitProperties, write_deltalake

    props = CommitProperties(custom_metadata={**metadata, FILES_KEY: json.dumps(files, sort_keys=True)},
                             max_commit_retries=0)
    write_deltalake(table(uri), pa.Table.from_pylist([], schema=SCHEMA), mode="append", commit_properties=props)
    return table(uri).version()


def recorded_files(uri: str) -> dict[str, str]:
    """sha256 of every data file cleancorpus added to the table ("part=…/….parquet" -> hex)."""
    files: dict[str, str] = {}
    for commit in sorted(table(uri).history(), key=lambda c: c.get("version", 0)):
        if FILES_KEY in commit:
            files.update(json.loads(commit[FILES_KEY]))
    return files


def repair(uri: str, want: int | None) -> list[str]:
    """Undo a write that crashed before its version was recorded (``want``: the Delta version
    the latest version names at this location, None when it names none there: then the next
    write overwrites the table whole anyway)."""
    from deltalake import CommitProperties

    dt = table(uri)
    if dt is None or want is None or dt.version() <= want:
        return []
    dt.restore(want, commit_properties=CommitProperties(custom_metadata={
        "cleancorpus.repair": "undo an interrupted write; back to the state of the latest version"}))
    return [f"private table {uri}: restored to Delta version {want}"]


def vacuum(uri: str, keep_versions: list[int]) -> int:
    dt = table(uri)
    if dt is None:
        return 0
    return len(dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False,
                         keep_versions=keep_versions))


# -- the store's id key (idkey.py), kept beside this table
def location_for(store: Any) -> tuple[str, str | None]:
    """(where the next write puts the private table, where the latest version put it or None),
    both resolved: the place given to the store, else the recorded one, else the default."""
    records = store._live(store._records())
    latest = records[0].get(records[2]) if records[2] else None
    rec = record_of(latest) if latest else None
    recorded = resolve(store.uri, rec["location"]) if rec else None
    location = store.private or (rec or {}).get("location") or PRIVATE_DEFAULT
    return resolve(store.uri, location), recorded


def id_key(store: Any, given: Any = None) -> Any:
    """The store's id key, read at plan time (created at its first build): see idkey.py."""
    from ..idkey import load_or_create

    here, recorded = location_for(store)
    return load_or_create(here, given, recorded)
