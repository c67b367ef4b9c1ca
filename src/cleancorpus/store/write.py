"""Writing a version: new rows only for the input documents whose stored result changed.

Every input document has one row in ``outcomes`` with a ``digest`` of everything stored for it
(outcome, text, metadata, edits). A new version compares its digests with its parent's, by
``source`` (one input document's unique name), and commits, in each table, one Delta write that
deletes the rows of changed and removed sources and appends the rows of changed and new ones
(``overwrite`` with a predicate: the touched partitions, then a ``starts_with`` term per input
file whose every row goes and a ``source IN (...)`` list for the rest; plain ``append`` when
nothing stored is touched). Unchanged documents keep their data files, so a new version costs
what changed (a file that holds a changed row is rewritten whole: that is Delta without
deletion vectors). Past ``FULL_REWRITE_FRACTION`` of the parent's sources, or when the
predicate would be too long for delta-rs' parser, one overwrite of the whole table.

Commit order: edits, duplicates, outcomes, documents, the private table of withheld personal
data (store/private.py; not part of the published version), then one row in ``versions``, the
commit that makes the version exist. A crash before it leaves commits no version names, which the next
writer undoes (``Store.repair``); the latest version stays what it was. Every commit is made
on the snapshot read when the write began, with no retries: if another writer committed in
between, this one fails with ``ConcurrentWrite`` instead of building on a state it never saw.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

from .. import jsonsafe
from ..records import dumps as row_bytes, encode_record, loads as row_from_bytes
from . import private
from ..document import Document, Outcome, Status
from .store import ConcurrentWrite, Store, StoreError, Version
from .tables import (
    DATA_TABLES,
    DOCUMENTS,
    DUPLICATES,
    EDIT_SCHEMA,
    EDITS,
    OUTCOME_SCHEMA,
    OUTCOMES,
    VERSION_SCHEMA,
    VERSIONS,
    PART,
    MetadataLayout,
    batches,
    digest,
    document_row,
    document_schema,
    edit_rows,
    metadata_type,
    outcome_row,
    input_file,
    part_of,
)



@dataclass
class Carried:
    """A document whose stored values the publish step's entry of its input file gives
    (incremental.PublishFiles: same spill lines, same duplicate decisions as when the entry was
    made): its digest, its private table digest when it has withheld originals, and, on a file's
    first document, the metadata fields the file's documents add to each table's layout
    (``tables.first_fields``). It is parsed only when its row must be written."""

    digest: str
    private_digest: str | None
    parse: Callable[[], Document]
    fields: dict[str, list] | None = None


Item = tuple[Outcome, "Document | Carried | None"]
FULL_REWRITE_FRACTION = 0.5
TARGET_FILE_BYTES = 8 * 2**20  # small files: a change rewrites little, reads stay few files


@dataclass
class WriteStats:
    sources: int = 0
    changed: int = 0  # new or different since the parent
    removed: int = 0
    full_rewrite: bool = False
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    bytes_added: dict[str, int] = field(default_factory=dict)  # data-file bytes added per table
    seconds: dict[str, float] = field(default_factory=dict)  # time of each table's commit

    def to_dict(self) -> dict[str, Any]:
        return {"sources": self.sources, "changed": self.changed, "removed": self.removed,
                "full_rewrite": self.full_rewrite, "rows_written": self.rows, "bytes_added": self.bytes_added,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(_q(v) for v in sorted(values))})"


# delta-rs parses the predicate with a recursive parser: an IN list of 50,000 strings crashed it
# (measured); past these sizes one overwrite of the whole table is the safe choice
MAX_IN_LIST = 10_000
MAX_FILE_TERMS = 100


def touched_predicate(touched: set[str], stored: set[str]) -> str | None:
    """A predicate matching exactly the stored rows of the ``touched`` sources (and the new rows,
    which are touched too), or None when it would be too long. An input file all of whose stored
    rows are touched (a removed or rewritten JSONL file) is one ``starts_with`` term, not a
    list of its lines."""
    stored_sorted = sorted(stored)
    files: dict[str, list[str]] = {}
    for s in stored_sorted:
        files.setdefault(input_file(s), []).append(s)
    terms: list[str] = []
    covered: set[str] = set()
    for f, sources in files.items():
        if len(sources) < 2 or not all(s in touched for s in sources) or len(terms) >= MAX_FILE_TERMS:
            continue
        # exact: every stored source the term matches must be touched, whichever file it is from
        lo = bisect.bisect_left(stored_sorted, f + ":")
        hi = bisect.bisect_left(stored_sorted, f + ";")  # ";" sorts right after ":"
        if all(s in touched for s in stored_sorted[lo:hi]):
            terms.append(f"(source = {_q(f)} OR starts_with(source, {_q(f + ':')}))")
            covered.add(f)
    rest = [s for s in touched if not (s in covered or any(s.startswith(f + ":") for f in covered))]
    if len(rest) > MAX_IN_LIST:
        return None
    where = " OR ".join(terms + ([sql_in("source", rest)] if rest else []))
    if not where:
        return None
    # the partitions first: delta-rs then reads and rewrites files of those partitions only
    parts = sorted({part_of(s) for s in touched})
    return f"{PART} IN ({', '.join(map(str, parts))}) AND ({where})"


# long free-text and hash columns: no min/max statistics (useless for skipping, and a file's
# statistics would copy two whole texts into its footer and into the Delta log) and no
# dictionary (values rarely repeat); measured at 100,000 documents in blocks of 100 rows:
# 10% fewer data bytes, 60% less log (bench/README.md "Store growth")
TEXT_COLUMNS = ("text", "metadata_extra", "before", "after", "digest")
ZSTD_LEVEL = 3  # small files compress worse: level 3 (zstd's default) over the writer's 1


def writer_properties():
    from deltalake import ColumnProperties, WriterProperties

    plain = ColumnProperties(statistics_enabled="NONE", dictionary_enabled=False)
    return WriterProperties(compression="ZSTD", compression_level=ZSTD_LEVEL,
                            column_properties={name: plain for name in TEXT_COLUMNS})


# which parent statuses and new statuses give a source rows in each data table (a status not
# known, None, may give it rows anywhere)
_HOLDS = {DOCUMENTS: {"kept", None}, DUPLICATES: {"duplicate", None}, EDITS: {"kept", "duplicate", None},
          OUTCOMES: {"kept", "duplicate", "rejected", None}}


def table_touched(name: str, touched: set[str], was: dict[str, str | None],
                  now: dict[str, str]) -> tuple[bool, str | None]:
    """For one data table: whether the parent holds rows of ``touched`` sources in it (they must
    be deleted: ``overwrite`` with the predicate, else a plain ``append``), and the predicate
    matching exactly those rows. A source has rows in a table only under some statuses
    (``_HOLDS``: a rejected document has no row in ``documents`` nor ``edits``), so a table
    is asked to delete the rows of the sources it held, and to make room for those it gets."""
    holds = _HOLDS[name]
    mine = {s for s in touched if (s in was and was[s] in holds) or now.get(s) in holds}
    stored = {s for s, st in was.items() if st in holds}
    if not mine & stored:
        return False, None
    return True, touched_predicate(mine, stored)


def layout_changed(row: dict[str, Any]) -> bool:
    """Whether a stored row's partition is not the one ``part_of`` gives its source now (a
    store written with another layout, tables.PART): a delete predicate naming the current
    blocks would miss it, so such a store's next version rewrites its tables whole."""
    return row.get(PART) != part_of(row["source"])


def _schema(dt) -> pa.Schema | None:
    return None if dt is None else pa.schema(dt.schema().to_arrow())


def _paths(dt) -> set[str]:
    if dt is None:
        return set()
    return set(pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist())


def write_version(
    store: Store,
    version_id: str,
    items: Callable[[], Iterable[Item]],
    summary: Callable[[], dict[str, Any]],
    *,
    created: str,
    commit_metadata: dict[str, str],
    scratch: Path,
    progress: Callable[[str, int], None] | None = None,
    withhold: private.Withhold | None = None,
    on_digest: Callable[[Outcome, str, str | None], None] | None = None,
) -> tuple[Version, WriteStats]:
    """Write ``items`` (every input document's outcome, with the document when it reached the
    end) as version ``version_id``, a child of the store's latest version. ``summary`` is
    called once the items were read (it may count them). The originals of the edits
    ``withhold`` picks go to the private table instead of ``edits`` (store/private.py). An item's
    document may be ``Carried``: its digests are known and it is parsed only if its row is
    written. ``on_digest(outcome, digest, private digest)`` is called for the other items."""
    from deltalake import CommitProperties, write_deltalake
    from deltalake.exceptions import CommitFailedError, DeltaError

    store.repair()
    versions_dt = store.table(VERSIONS)  # the snapshot our version's commit must follow directly
    records = store._records_of(versions_dt) if versions_dt is not None else []
    live, _, latest = store._live(records)
    parent = Version(store, latest, live[latest]) if latest else None
    prev: dict[str, str] = {}
    was: dict[str, str | None] = {}  # the parent's status of each source (which tables hold its rows)
    relayout = False  # the parent's rows are in another partition layout: rewrite every table
    for r in (parent.rows(OUTCOMES, ["source", "digest", "status", PART]) if parent else ()):
        prev[r["source"]] = r["digest"]
        was[r["source"]] = r.get("status")
        relayout = relayout or layout_changed(r)
    now: dict[str, str] = {}  # the status of each changed source
    snapshots = {name: store.table(name) for name in DATA_TABLES}
    pv = _PrivatePlan(store, parent)
    layouts = {name: MetadataLayout(metadata_type(_schema(snapshots[name]))) for name in (DOCUMENTS, DUPLICATES)}

    stats = WriteStats()
    # pass 1 puts each table's changed rows in its own scratch file, so that each table's
    # write reads only its rows (records.py: exactly what the run produced, surrogates too)
    paths = {name: scratch / f"changed-{name}.jsonl" for name in (*DATA_TABLES, PRIVATE)}
    seen: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        out = {name: stack.enter_context(open(path, "wb")) for name, path in paths.items()}
        for outcome, full in items():
            if outcome.source in seen:
                raise StoreError(f"two input documents share the source {outcome.source!r}; sources must be unique")
            table = DUPLICATES if outcome.status is Status.DUPLICATE else DOCUMENTS
            if isinstance(full, Carried):
                for name, pairs in (full.fields or {}).items():
                    layouts[name].observe_first(pairs)
                d = seen[outcome.source] = full.digest
                if full.private_digest is not None:
                    pv.seen[outcome.source] = full.private_digest
                if prev.get(outcome.source) == d and pv.same(outcome.source):
                    continue
                full = full.parse()
                doc, hidden = private.split(full, withhold) if withhold else (full, [])
            else:
                doc, hidden = private.split(full, withhold) if withhold and full is not None else (full, [])
                d = digest(outcome, doc)  # of what is published: no original withheld from it
                seen[outcome.source] = d
                if hidden:
                    pv.seen[outcome.source] = digest(outcome, full)
                if on_digest is not None:
                    on_digest(outcome, d, pv.seen.get(outcome.source) if hidden else None)
                if doc is not None:
                    layouts[table].observe(doc.metadata)
                if prev.get(outcome.source) == d and pv.same(outcome.source):
                    continue
            stats.changed += 1
            now[outcome.source] = outcome.status.value
            out[OUTCOMES].write(row_bytes(outcome_row(outcome, d)) + b"\n")
            if doc is not None:
                out[table].write(encode_record(doc) + b"\n")
                for row in edit_rows(doc):
                    out[EDITS].write(row_bytes(row) + b"\n")
                for row in private.rows(doc, hidden, pv.seen.get(outcome.source, ""), part_of(doc.source)):
                    out[PRIVATE].write(row_bytes(row) + b"\n")
    removed = prev.keys() - seen.keys()
    changed = {s for s, d in seen.items() if prev.get(s) != d or not pv.same(s)}
    touched = changed | removed
    stats.sources, stats.removed = len(seen), len(removed)
    predicate = touched_predicate(touched, set(prev)) if prev and touched else None
    stats.full_rewrite = bool(prev) and (relayout or bool(touched) and (
        len(touched) > FULL_REWRITE_FRACTION * len(prev) or predicate is None))
    # each table deletes only the rows it holds of touched sources: a kept document whose text
    # changed rewrites no block of ``duplicates`` (and a duplicate none of ``documents``)
    per_table = ({name: table_touched(name, touched, was, now) for name in DATA_TABLES}
                 if prev and touched and not stats.full_rewrite else {})
    stats.full_rewrite = stats.full_rewrite or any(needed and where is None for needed, where in per_table.values())

    def rows(name: str) -> Iterator[dict[str, Any]]:
        if stats.full_rewrite:  # every row, from the run's items again
            for outcome, full in items():
                if isinstance(full, Carried):
                    full = full.parse()
                doc, hidden = private.split(full, withhold) if withhold and full is not None else (full, [])
                if name == PRIVATE:
                    yield from private.rows(doc, hidden, pv.seen.get(outcome.source, ""), part_of(outcome.source))
                elif name == OUTCOMES:
                    yield outcome_row(outcome, seen[outcome.source])
                elif doc is None:
                    continue
                elif name == EDITS:
                    yield from edit_rows(doc)
                elif (name == DUPLICATES) == (outcome.status is Status.DUPLICATE):
                    yield document_row(doc, layouts[name])
            return
        with open(paths[name], "rb") as fh:
            for line in fh:
                r = row_from_bytes(line)
                yield document_row(Document.from_record(r), layouts[name]) if name in (DOCUMENTS, DUPLICATES) else r

    def write_private() -> str | None:
        if not pv.needed():
            return None
        t0 = time.perf_counter()
        counted = _Count(rows(PRIVATE))
        reader = pa.RecordBatchReader.from_batches(private.SCHEMA, batches(counted, private.SCHEMA))
        whole = stats.full_rewrite or not pv.continues
        if pv.continues and not whole and not touched:
            return pv.record(pv.parent_version)  # nothing changed: the parent's table version
        before = _paths(private.table(pv.uri))
        after = private.write(pv.uri, reader, mode="overwrite" if whole or predicate else "append",
                              predicate=None if whole else predicate, props=props, writer_props=writer_props,
                              target_file_size=TARGET_FILE_BYTES)
        added: dict[str, str] = {}
        size = 0
        for path in sorted(_paths(after) - before):
            sha, n = _sha256_at(pv.uri, path)
            added[path] = sha
            size += n
        # the files' sha256 go in the private table's own log (an empty commit after the data),
        # not in the published versions row: a hash of a file holding one phone number and
        # otherwise published values could be brute-forced
        sealed = private.seal(pv.uri, added, {"cleancorpus.version": version_id})
        stats.rows[PRIVATE], stats.bytes_added[PRIVATE] = counted.n, size
        stats.seconds[PRIVATE] = time.perf_counter() - t0
        return pv.record(sealed)

    schemas = {EDITS: EDIT_SCHEMA, OUTCOMES: OUTCOME_SCHEMA,
               DOCUMENTS: document_schema(layouts[DOCUMENTS].struct()),
               DUPLICATES: document_schema(layouts[DUPLICATES].struct())}
    props = CommitProperties(custom_metadata={"cleancorpus.version": version_id, **commit_metadata},
                             max_commit_retries=0)
    writer_props = writer_properties()
    table_versions: dict[str, int] = {}
    files: dict[str, str] = {}
    try:
        for name in DATA_TABLES:
            t0 = time.perf_counter()
            dt, schema = snapshots[name], schemas[name]
            before = _paths(dt)  # now: a write through ``dt`` moves it to the new version
            counted = _Count(rows(name))
            reader = pa.RecordBatchReader.from_batches(schema, batches(counted, schema))
            kwargs: dict[str, Any] = {"commit_properties": props, "writer_properties": writer_props,
                                      "target_file_size": TARGET_FILE_BYTES, "partition_by": [PART]}
            if dt is None:
                write_deltalake(store.table_uri(name), reader, mode="append", storage_options=store.options, **kwargs)
            elif stats.full_rewrite:
                write_deltalake(dt, reader, mode="overwrite", schema_mode="overwrite", **kwargs)
            elif per_table.get(name, (False, None))[0]:
                write_deltalake(dt, reader, mode="overwrite", predicate=per_table[name][1],
                                schema_mode="merge", **kwargs)
            else:  # only new sources: nothing to delete
                write_deltalake(dt, reader, mode="append", schema_mode="merge", **kwargs)
            after = store.table(name)
            table_versions[name] = after.version()
            added = _paths(after) - before
            size = 0
            for path in sorted(added):
                sha, n = _sha256(store, f"{name}/{path}")
                files[f"{name}/{path}"] = sha
                size += n
            stats.rows[name], stats.bytes_added[name] = counted.n, size
            stats.seconds[name] = time.perf_counter() - t0
            if progress:
                progress(f"writing {name}", counted.n)
        private_record = write_private()
        row = {"seq": len(records), "version": version_id, "event": "version", "parent": latest, "created": created,
               "tables": table_versions, "files": json.dumps(files, sort_keys=True),
               "manifest": jsonsafe.dumps({**summary(), "write": stats.to_dict()}, sort_keys=True),
               "private": private_record}
        data = pa.Table.from_pylist([row], schema=VERSION_SCHEMA)
        if versions_dt is None:
            write_deltalake(store.table_uri(VERSIONS), data, mode="append", commit_properties=props,
                            storage_options=store.options)
        else:  # merge: a store written before the private column gains it
            write_deltalake(versions_dt, data, mode="append", commit_properties=props, schema_mode="merge")
    except CommitFailedError as exc:
        raise ConcurrentWrite(
            f"another writer committed to {store.root} while this run was writing version {version_id}; "
            f"this run's data is not a version (the next run undoes it): run again to build on the new latest ({exc})"
        ) from exc
    except DeltaError as exc:
        raise _as_os_error(exc) from exc
    finally:
        for path in paths.values():
            path.unlink(missing_ok=True)
    return store.open(version_id), stats


def _as_os_error(exc: Exception) -> Exception:
    """A write that failed in delta-rs for an operating-system reason (full disk, file-size
    limit, permissions) as the OSError it was, so the CLI reports it like any other write error."""
    m = re.search(r"os error (\d+)", str(exc))
    if m:
        code = int(m.group(1))
        return OSError(code, os.strerror(code))
    return StoreError(f"the Delta write failed: {' '.join(str(exc).split())[:300]}")


class _Count:
    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for r in self.rows:
            self.n += 1
            yield r


def _sha256(store: Store, relpath: str) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with store.open_file(relpath) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            n += len(block)
    return h.hexdigest(), n


PRIVATE = "_private"  # the private table's scratch file and stats key (not a data table of the version)


class _PrivatePlan:
    """Where this write puts withheld originals and what the parent left there."""

    def __init__(self, store: Store, parent: Version | None) -> None:
        rec = private.record_of(parent.record) if parent else None
        # the location: given to the store, else the parent's, else the default under the store
        self.location = store.private or (rec or {}).get("location") or private.PRIVATE_DEFAULT
        self.uri = private.resolve(store.uri, self.location)
        inside = [t for t in (*DATA_TABLES, VERSIONS) if (self.uri + "/").startswith(f"{store.uri.rstrip('/')}/{t}/")]
        if self.uri.rstrip("/") == store.uri.rstrip("/") or inside:
            raise StoreError(f"the private table cannot be {self.location!r}: that is "
                             f"{'the published table ' + inside[0] if inside else 'the store itself'}; "
                             f"give --private-out a place of its own (default: {private.PRIVATE_DEFAULT})")
        same = rec is not None and private.resolve(store.uri, rec["location"]) == self.uri
        self.parent_version: int | None = rec["table_version"] if same else None
        # a table the parent's version does not name at this location is overwritten whole
        self.continues = same
        self.prev: dict[str, str] = private.digests(self.uri, self.parent_version) if same else {}
        self.seen: dict[str, str] = {}
        self.exists = private.table(self.uri) is not None

    def same(self, source: str) -> bool:
        return self.prev.get(source) == self.seen.get(source)

    def needed(self) -> bool:
        return bool(self.seen) or self.exists or self.continues

    def record(self, table_version: int | None) -> str:
        return json.dumps({"location": self.location, "table_version": table_version}, sort_keys=True)


def _sha256_at(uri: str, relpath: str) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with private.open_file(uri, relpath) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            n += len(block)
    return h.hexdigest(), n
