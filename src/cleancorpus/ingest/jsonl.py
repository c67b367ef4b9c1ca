"""JSONL: one document a line, its ``text`` field the text, every other field metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

from ..document import Document, stable_id
from .decode import decode_bytes


def iter_jsonl(path: Path, relpath: str, max_doc_bytes: int, rejected: Callable) -> Iterator:
    seen_any = False
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            seen_any = True
            source = f"{relpath}:{lineno}"
            doc_id = stable_id(source, raw)
            if len(raw) > max_doc_bytes:
                yield rejected(doc_id, source, f"line is {len(raw)} bytes, over the per-document limit of {max_doc_bytes}")
                continue
            decoded = decode_bytes(raw)
            if isinstance(decoded, str):
                yield rejected(doc_id, source, decoded)
                continue
            try:
                obj = json.loads(decoded.text)
            except json.JSONDecodeError as exc:
                yield rejected(doc_id, source, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                yield rejected(doc_id, source, f"line is a JSON {type(obj).__name__}, not an object")
                continue
            if "text" not in obj:
                yield rejected(doc_id, source, "no 'text' field")
                continue
            text = obj.pop("text")
            if not isinstance(text, str):
                yield rejected(doc_id, source, f"'text' is a {type(text).__name__}, not a string")
                continue
            if not text.strip():
                yield rejected(doc_id, source, "empty 'text'")
                continue
            meta = {"format": "jsonl", **{k: v for k, v in obj.items()}}
            if decoded.reason:
                meta["encoding"] = decoded.reason
            yield Document(doc_id, text, source, meta)
    if not seen_any:
        yield rejected(stable_id(relpath, b""), relpath, "empty file")
