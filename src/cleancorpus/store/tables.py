"""The Delta tables of a store: their schemas, and Documents, Edits and Outcomes as rows.

``metadata`` is a struct with one field per metadata key, typed by the JSON type of its values
(string, boolean, 64-bit integer, double), so that polars, pandas and DuckDB read
``metadata.title`` as a column. A value that cannot be such a field goes, with its key, to
``metadata_extra`` (a JSON object, null when empty): a nested value (list or object), an
explicit null, an integer beyond 64 bits, a value whose JSON type differs from the type the
key's field already has, or a key Delta does not allow as a column name. ``metadata_of`` puts
both back together, so a document loads with exactly the metadata it was stored with.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from typing import Any, Iterable, Iterator

import pyarrow as pa

from .. import jsonsafe
from ..document import Document, Edit, Outcome, Status

DOCUMENTS = "documents"
DUPLICATES = "duplicates"  # documents dropped as duplicates, kept for audit (with their edits)
EDITS = "edits"
OUTCOMES = "outcomes"
DATA_TABLES = (EDITS, DUPLICATES, OUTCOMES, DOCUMENTS)  # commit order: documents last
VERSIONS = "versions"  # one row per cleancorpus version: the commit that makes it exist

# Every table is partitioned by ``part``, the row's *block*: a stable hash of its input file
# (one of FILE_BUCKETS) and, for files of many records (JSONL, WARC, Parquet: sources
# "file:N"), the run of BLOCK_ROWS consecutive records it is in. Delta without deletion vectors
# rewrites a whole data file to change one row in it, and a write gives each partition its own
# files, so a block bounds what a changed document costs: k documents changed anywhere rewrite
# at most k blocks (about BLOCK_ROWS rows each for large files), an input file removed or added
# removes or adds whole files of its own blocks, and a delete scans only the touched blocks.
# (Until deltalake 1.6 the table was 16 partitions by file hash: edits spread over every input
# file rewrote the whole table. A store written that way is rewritten in blocks by its next
# version: see write.layout_changed.)
PART = "part"
FILE_BUCKETS = 256
BLOCK_ROWS = 100
_BLOCKS = 100_000  # part = bucket * _BLOCKS + block: readable in the directory name


def input_file(source: str) -> str:
    """The input file of a source: "part.jsonl:12" -> "part.jsonl", "a.txt" -> "a.txt"."""
    head, sep, tail = source.rpartition(":")
    return head if sep and tail.isdigit() else source


def part_of(source: str) -> int:
    """The block (partition value) of a source: its input file's bucket and record run."""
    head, sep, tail = source.rpartition(":")
    whole = not (sep and tail.isdigit())
    bucket = zlib.crc32((source if whole else head).encode("utf-8", "surrogatepass")) % FILE_BUCKETS
    return bucket * _BLOCKS + (0 if whole else min(int(tail) // BLOCK_ROWS, _BLOCKS - 1))


_SCALARS: dict[type, pa.DataType] = {str: pa.string(), bool: pa.bool_(), int: pa.int64(), float: pa.float64()}
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_INT64 = (-(2**63), 2**63 - 1)

EDIT_SCHEMA = pa.schema([
    (PART, pa.int32()), ("source", pa.string()), ("id", pa.string()), ("seq", pa.int32()), ("stage", pa.string()),
    ("start", pa.int64()), ("end", pa.int64()), ("before", pa.string()), ("after", pa.string()),
    ("reason", pa.string()), ("confidence", pa.float64()),
    # null for an edit of the text; the JSON Pointer of the metadata value it edits (Edit.field)
    ("field", pa.string()),
])
OUTCOME_SCHEMA = pa.schema([
    (PART, pa.int32()), ("source", pa.string()), ("id", pa.string()), ("status", pa.string()), ("reason", pa.string()),
    ("duplicate_of", pa.string()), ("similarity", pa.float64()),
    # sha256 of everything stored for this input document (outcome, text, metadata, edits):
    # what tells a new version which rows it must rewrite, and what verify re-checks
    ("digest", pa.string()),
])
TABLE_VERSIONS = pa.struct([(name, pa.int64()) for name in DATA_TABLES])
VERSION_SCHEMA = pa.schema([
    ("seq", pa.int64()),  # position in the store's history (records sort by it)
    ("version", pa.string()), ("event", pa.string()), ("parent", pa.string()), ("created", pa.string()),
    ("tables", TABLE_VERSIONS),  # the Delta version of each table that holds this version
    ("files", pa.string()),  # JSON {"table/file.parquet": sha256} of the data files it added
    ("manifest", pa.string()),  # JSON summary: counts, stage reports, dedup statistics, config
    # JSON {location, table_version} of the private table of withheld originals
    # (store/private.py); null when the version has none. Its location, never its content.
    ("private", pa.string()),
])


def document_schema(metadata: pa.StructType) -> pa.Schema:
    # Parquet has no empty struct: until some document has a metadata key there is no column
    meta = [("metadata", metadata)] if metadata.num_fields else []
    return pa.schema([
        (PART, pa.int32()), ("source", pa.string()), ("id", pa.string()), ("text", pa.string()),
        *meta, ("metadata_extra", pa.string()),
    ])


def metadata_type(schema: pa.Schema | None) -> pa.StructType:
    if schema is None or "metadata" not in schema.names:
        return pa.struct([])
    return schema.field("metadata").type


def _scalar_type(value: Any) -> pa.DataType | None:
    t = _SCALARS.get(type(value))
    if t is pa.int64() and not _INT64[0] <= value <= _INT64[1]:
        return None
    if t is pa.float64() and not math.isfinite(value):
        return None  # strict JSON: NaN/Infinity are published as null (see jsonsafe), via metadata_extra
    if t is pa.string() and jsonsafe.has_lone_surrogates(value):
        return None
    return t


class MetadataLayout:
    """The metadata struct's fields: those the table has, plus keys first seen in new rows."""

    def __init__(self, existing: pa.StructType) -> None:
        self.fields: dict[str, pa.DataType] = {f.name: f.type for f in existing}
        self._lower = {name.lower() for name in self.fields}

    def observe(self, metadata: dict[str, Any]) -> None:
        for key, value in metadata.items():
            if key in self.fields:
                continue
            t = _scalar_type(value)
            # Delta (and Spark) compare column names without case: "Year" and "year" cannot both be fields
            if t is not None and _FIELD_NAME.fullmatch(key) and key.lower() not in self._lower:
                self.fields[key] = t
                self._lower.add(key.lower())

    def observe_first(self, pairs: Iterable[tuple[str, pa.DataType]]) -> None:
        """``observe`` of a sequence of documents' metadata, given ``first_fields`` of them."""
        for key, t in pairs:
            if key not in self.fields and key.lower() not in self._lower:
                self.fields[key] = t
                self._lower.add(key.lower())

    def struct(self) -> pa.StructType:
        return pa.struct(list(self.fields.items()))

    def split(self, metadata: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in metadata.items():
            t = self.fields.get(key)
            if t is not None and value is not None and _scalar_type(value) == t:
                fields[key] = value
            else:
                extra[key] = value
        return fields, (jsonsafe.dumps(extra, sort_keys=True) if extra else None)


def first_fields(metadatas: Iterable[dict[str, Any]]) -> list[tuple[str, pa.DataType]]:
    """Each key's first occurrence that ``MetadataLayout.observe`` could add, with its type, in
    order: observing these pairs (``observe_first``) changes a layout exactly as observing every
    one of the metadata dicts does (a key's later occurrences are skipped by ``observe`` whatever
    happened at its first, since fields only grow)."""
    first: dict[str, pa.DataType] = {}
    for metadata in metadatas:
        for key, value in metadata.items():
            if key in first:
                continue
            t = _scalar_type(value)
            if t is not None and _FIELD_NAME.fullmatch(key):
                first[key] = t
    return list(first.items())


def metadata_of(fields: dict[str, Any] | None, extra: str | None) -> dict[str, Any]:
    out = {k: v for k, v in (fields or {}).items() if v is not None}
    if extra:
        out.update(json.loads(extra))
    return out


def document_row(doc: Document, layout: MetadataLayout) -> dict[str, Any]:
    fields, extra = layout.split(doc.metadata)
    row = {PART: part_of(doc.source), "source": doc.source, "id": doc.id, "text": doc.text, "metadata_extra": extra}
    if layout.fields:
        row["metadata"] = fields
    return row


def edit_rows(doc: Document) -> Iterator[dict[str, Any]]:
    for seq, e in enumerate(doc.edits):
        # an edit repairing a lone surrogate holds one in ``before``: stored, like every
        # published string, as valid UTF-8 (U+FFFD), as jsonsafe does for JSON
        d = jsonsafe.strict_value(e.to_dict())
        yield {PART: part_of(doc.source), "source": doc.source, "id": doc.id, "seq": seq, "stage": d["stage"], "start": d["start"],
               "end": d["end"], "before": d["before"], "after": d["after"], "reason": d["reason"],
               "confidence": d.get("confidence"), "field": d.get("field")}


def edit_of(row: dict[str, Any]) -> Edit:
    # a table written before metadata edits has no "field" column
    return Edit(row["stage"], row["start"], row["end"], row["before"], row["after"], row["reason"], row["confidence"],
                row.get("field"))


def outcome_row(o: Outcome, digest: str) -> dict[str, Any]:
    d = o.to_dict()
    return {PART: part_of(o.source), "source": o.source, "id": o.id, "status": d["status"], "reason": d.get("reason"),
            "duplicate_of": d.get("duplicate_of"), "similarity": d.get("similarity"), "digest": digest}


def outcome_of(row: dict[str, Any]) -> Outcome:
    return Outcome(row["id"], row["source"], Status(row["status"]), row["reason"], row["duplicate_of"],
                   row["similarity"])


def digest(outcome: Outcome, doc: Document | None) -> str:
    """sha256 of what a version stores for one input document, independent of the table layout."""
    record: dict[str, Any] = {"outcome": outcome.to_dict()}
    if doc is not None:
        record["document"] = doc.to_record()
    # strict JSON, as published: a NaN stored as null hashes the same when read back
    data = jsonsafe.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def batches(rows: Iterable[dict[str, Any]], schema: pa.Schema, size: int = 2000) -> Iterator[pa.RecordBatch]:
    buf: list[dict[str, Any]] = []
    for row in rows:
        buf.append(row)
        if len(buf) >= size:
            yield pa.RecordBatch.from_pylist(buf, schema=schema)
            buf = []
    if buf:
        yield pa.RecordBatch.from_pylist(buf, schema=schema)


def scan(dataset: Any, columns: list[str] | None = None, filter: Any = None,
         batch_size: int = 4096) -> Iterator[pa.RecordBatch]:
    """The record batches of a pyarrow dataset (a Delta table's ``to_pyarrow_dataset()``), one
    data file after another, in this thread. Arrow's multi-file asynchronous scanner hung a
    test here for good (a thread waiting forever on the mutex of its merged generator, under
    load; apache/arrow#48111 and #45214 are hangs of the same machinery); these tables are read
    into Python row by row anyway, so its parallelism bought nothing."""
    for fragment in dataset.get_fragments(filter=filter):
        yield from fragment.to_batches(schema=dataset.schema, columns=columns, filter=filter,
                                       batch_size=batch_size, use_threads=False)

