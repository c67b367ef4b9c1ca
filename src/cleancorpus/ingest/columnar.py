"""Parquet: one document a row, its text column (``text`` unless configured) the text, every other
column metadata. Read a batch at a time within row groups (pyarrow), never the whole file."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ..document import Document, stable_id
from .records import RejectedInput

if TYPE_CHECKING:
    from ..config import Limits

BATCH_ROWS = 1024  # rows decoded to Python at once: bounds memory whatever the row group size


def iter_parquet(stream: BinaryIO, source: str, limits: "Limits", fail_fast: bool = False,
                 text_field: str = "text", id_field: str = "id", key: bytes | None = None
                 ) -> Iterator[Document | RejectedInput]:
    """Documents from one Parquet file (``stream`` must be seekable: the footer is at the end).
    Row ``i`` (0-based, counted over the whole file) has source ``<file>:row i``."""
    try:
        pf = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError, ValueError) as exc:
        why = "empty file" if _is_empty(stream) else f"not a readable Parquet file: {exc}"
        yield RejectedInput(stable_id(source, b"", key), source, why)
        return
    names = pf.schema_arrow.names
    if text_field not in names:
        yield RejectedInput(stable_id(source, b"", key), source,
                            f"no {text_field!r} column (columns: {', '.join(names)}); choose one with --text-field")
        return
    kind = pf.schema_arrow.field(text_field).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        yield RejectedInput(stable_id(source, b"", key), source, f"column {text_field!r} holds {kind}, not strings")
        return
    if pf.metadata.num_rows == 0:
        yield RejectedInput(stable_id(source, b"", key), source, "no rows")
        return
    from . import guard_document

    row = 0
    batches = pf.iter_batches(batch_size=BATCH_ROWS)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError) as exc:  # a corrupt row group or page
            where = f"{source}:row {row}"
            yield RejectedInput(stable_id(where, b"", key), where,
                                f"corrupt Parquet data: {exc} from row {row} on; the rest of the file is not read")
            return
        for record in batch.to_pylist():
            where = f"{source}:row {row}"
            yield guard_document(stable_id(where, b"", key), where,
                                 lambda: _row(record, where, limits.max_doc_bytes, text_field, id_field, key),
                                 limits.max_stage_seconds, fail_fast)
            row += 1


def _row(record: dict[str, Any], source: str, max_doc_bytes: int, text_field: str, id_field: str,
         key: bytes | None = None) -> Document | RejectedInput:
    meta = {k: _jsonable(v) for k, v in record.items() if k != text_field}
    text = record[text_field]
    # the id hashes what the row holds: same file, same row, same id
    content = json.dumps({"text": text, "meta": meta}, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    doc_id = stable_id(source, content, key)
    if text is None:
        return RejectedInput(doc_id, source, f"{text_field!r} is null")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_doc_bytes:
        return RejectedInput(doc_id, source, f"row text is {size} bytes, over the per-document limit of {max_doc_bytes}")
    if not text.strip():
        return RejectedInput(doc_id, source, f"empty {text_field!r}")
    out = {"format": "parquet", **meta}
    if meta.get(id_field) is not None and "input_id" not in meta:
        out["input_id"] = meta[id_field]
    return Document(doc_id, text, source, out)


def _jsonable(v: Any) -> Any:
    """Parquet values as JSON values (metadata is stored as JSON): dates as ISO strings, bytes
    as base64, decimals as strings, NaN/infinity as null."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        # a Parquet map comes as a list of (key, value) pairs
        return [_jsonable(x) for x in v]
    return str(v)


def _is_empty(stream: BinaryIO) -> bool:
    try:
        return stream.seek(0, 2) == 0
    except (OSError, ValueError):
        return False
