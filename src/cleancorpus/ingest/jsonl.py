"""JSONL, plain or compressed (gzip, zstd, bz2): one document a line, its text field (``text``
unless configured) the text, every other field metadata. Read as a stream, a line at a time; a
compressed stream that is cut short or corrupt keeps the lines before the damage and ends with
one rejection saying where reading stopped.

Each line is read on its own and under the per-document time limit: a line that cannot be
parsed (invalid JSON, a number too long to convert, nesting deeper than the parser's recursion
limit) is rejected with the parser's reason and the next line is read. ``NaN``, ``Infinity``
and ``-Infinity`` (accepted by Python's parser, refused by strict JSON readers) become ``null``,
and the document's metadata names the fields that held them under ``nonfinite_to_null``.
Unpaired surrogate escapes (``"\\ud83d"``) in metadata become U+FFFD; in the text they are left
for the unicode stage, which repairs them as recorded edits.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import zlib
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

import pyarrow as pa

from ..document import Document, stable_id
from ..jsonsafe import replace_lone_surrogates
from .decode import decode_bytes

if TYPE_CHECKING:
    from ..config import Limits

COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
# what a cut or corrupt compressed stream raises part-way through
_STREAM_ERRORS = (EOFError, OSError, zlib.error, pa.ArrowException)


def decompressed(stream: BinaryIO, compression: str | None) -> BinaryIO:
    """The stream, decompressed on the fly (never whole into memory)."""
    if compression is None:
        return stream
    if compression == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if compression == "bz2":
        return bz2.BZ2File(stream, mode="rb")  # type: ignore[return-value]
    if compression == "zstd":
        # pyarrow (already a dependency) streams zstd; Python 3.11 has no zstd module
        return io.BufferedReader(pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), "zstd"))  # type: ignore[arg-type,return-value]
    raise ValueError(f"unknown compression {compression!r}")


def iter_jsonl(stream: BinaryIO, relpath: str, limits: "Limits", rejected: Callable, fail_fast: bool = False,
               compression: str | None = None, text_field: str = "text", id_field: str = "id",
               key: bytes | None = None) -> Iterator:
    from . import guard_document

    seen_any = False
    lineno = 0
    lines = iter(decompressed(stream, compression))
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            break
        except _STREAM_ERRORS as exc:
            what = "truncated or corrupt compressed stream" if compression else "unreadable file"
            where = f"{relpath}:{lineno + 1}" if seen_any else relpath
            yield rejected(stable_id(where, b"", key), where,
                           f"{what}: {exc or type(exc).__name__} after line {lineno}; the rest of the file is not read")
            return
        lineno += 1
        if not raw.strip():
            continue
        seen_any = True
        source = f"{relpath}:{lineno}"
        doc_id = stable_id(source, raw, key)
        if len(raw) > limits.max_doc_bytes:
            yield rejected(doc_id, source, f"line is {len(raw)} bytes, over the per-document limit of {limits.max_doc_bytes}")
            continue
        yield guard_document(doc_id, source,
                             lambda: _line_document(doc_id, source, raw, rejected, text_field, id_field),
                             limits.max_stage_seconds, fail_fast)
    if not seen_any:
        yield rejected(stable_id(relpath, b"", key), relpath, "empty file")


def _line_document(doc_id: str, source: str, raw: bytes, rejected: Callable, text_field: str = "text",
                   id_field: str = "id"):
    decoded = decode_bytes(raw)
    if isinstance(decoded, str):
        return rejected(doc_id, source, decoded)
    seen_nonfinite: list[str] = []

    def constant(name: str) -> _NonFinite:
        seen_nonfinite.append(name)
        return _NonFinite(name)

    try:
        obj = json.loads(decoded.text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        return rejected(doc_id, source, f"invalid JSON: {exc.msg} (column {exc.colno})")
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return rejected(doc_id, source, f"invalid JSON: {' '.join(str(exc).split())[:200]}")
    except RecursionError:
        return rejected(doc_id, source, "invalid JSON: nested deeper than the parser's recursion limit")
    nonfinite: list[str] = []
    if seen_nonfinite:
        obj = _nonfinite_to_null(obj, "", nonfinite)
    if not isinstance(obj, dict):
        return rejected(doc_id, source, f"line is a JSON {type(obj).__name__}, not an object")
    if text_field not in obj:
        return rejected(doc_id, source, f"no {text_field!r} field")
    text = obj.pop(text_field)
    if not isinstance(text, str):
        return rejected(doc_id, source, f"{text_field!r} is a {type(text).__name__}, not a string")
    if not text.strip():
        return rejected(doc_id, source, f"empty {text_field!r}")
    meta: dict[str, Any] = {"format": "jsonl", **obj}
    if obj.get(id_field) is not None and "input_id" not in obj:
        meta["input_id"] = obj[id_field]  # the input's own id, under one key for every format
    if b"\\u" in raw or b"\\U" in raw:  # only escapes can smuggle an unpaired surrogate in
        meta = replace_lone_surrogates(meta)
    if nonfinite:
        meta["nonfinite_to_null"] = nonfinite
    if decoded.reason:
        meta["encoding"] = decoded.reason
    return Document(doc_id, text, source, meta)


class _NonFinite(str):
    """What the parser gives for NaN/Infinity/-Infinity until it is replaced by None."""


def _nonfinite_to_null(value: Any, path: str, found: list[str]) -> Any:
    if isinstance(value, _NonFinite):
        found.append(f"{path or '$'}={str(value)}")
        return None
    if isinstance(value, dict):
        return {k: _nonfinite_to_null(v, f"{path}.{k}" if path else str(k), found) for k, v in value.items()}
    if isinstance(value, list):
        return [_nonfinite_to_null(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value
