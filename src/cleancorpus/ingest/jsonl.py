"""JSONL: one document a line, its ``text`` field the text, every other field metadata.

Each line is read on its own and under the per-document time limit: a line that cannot be
parsed (invalid JSON, a number too long to convert, nesting deeper than the parser's recursion
limit) is rejected with the parser's reason and the next line is read. ``NaN``, ``Infinity``
and ``-Infinity`` (accepted by Python's parser, refused by strict JSON readers) become ``null``,
and the document's metadata names the fields that held them under ``nonfinite_to_null``.
Unpaired surrogate escapes (``"\\ud83d"``) in metadata become U+FFFD; in the text they are left
for the unicode stage, which repairs them as recorded edits.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

from ..document import Document, stable_id
from ..jsonsafe import replace_lone_surrogates
from .decode import decode_bytes

if TYPE_CHECKING:
    from ..config import Limits

def iter_jsonl(stream: BinaryIO, relpath: str, limits: "Limits", rejected: Callable, fail_fast: bool = False) -> Iterator:
    """The documents of one JSONL file, read line by line from an open binary ``stream``."""
    from . import guard_document

    seen_any = False
    for lineno, raw in enumerate(stream, start=1):  # the caller opens and closes the stream
        if not raw.strip():
            continue
        seen_any = True
        source = f"{relpath}:{lineno}"
        doc_id = stable_id(source, raw)
        if len(raw) > limits.max_doc_bytes:
            yield rejected(doc_id, source, f"line is {len(raw)} bytes, over the per-document limit of {limits.max_doc_bytes}")
            continue
        yield guard_document(doc_id, source, lambda: _line_document(doc_id, source, raw, rejected),
                             limits.max_stage_seconds, fail_fast)
    if not seen_any:
        yield rejected(stable_id(relpath, b""), relpath, "empty file")


def _line_document(doc_id: str, source: str, raw: bytes, rejected: Callable):
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
    if "text" not in obj:
        return rejected(doc_id, source, "no 'text' field")
    text = obj.pop("text")
    if not isinstance(text, str):
        return rejected(doc_id, source, f"'text' is a {type(text).__name__}, not a string")
    if not text.strip():
        return rejected(doc_id, source, "empty 'text'")
    meta: dict[str, Any] = {"format": "jsonl", **obj}
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
