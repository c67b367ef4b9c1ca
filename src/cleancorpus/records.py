"""The spill record codec: a document (edits included) as one JSON line, and back, exactly.

Every pass between two corpus-wide fits writes each document to a scratch file and reads it
back (pipeline.spill, the flow's passes, the store's write): with the language and quality
metadata a record is about 1.9 KB, and Python's ``json`` spends most of its time on the
metadata's floats. orjson does the same work in a fraction of the CPU, but it is not
``json``: it writes NaN and infinities as ``null``, refuses unpaired surrogates, integers
beyond 64 bits and non-string keys, and reads integers beyond 64 bits as floats. So:

- :func:`dumps` writes orjson's compact JSON, after one space, when orjson can write the value
  exactly, and ``json.dumps`` (compact, surrogates passed through) when it cannot: when orjson
  refuses it, or its output holds a ``null`` that was not a None (a NaN). JSON allows the space;
  it tells :func:`loads` that orjson wrote the line and can read it back exactly.
- :func:`loads` reads any JSON ``json.dumps`` writes (either separators, ``NaN``,
  ``Infinity``, surrogates raw or escaped) into exactly what ``json.loads`` gives: a line
  starting with the space with orjson (json if orjson refuses it), any other line with json.
  (orjson cannot read every line: it reads integers beyond 64 bits as floats, and telling by
  looking costs more than it saves.)

A spill line therefore decodes to what the record was under ``json.dumps`` + ``json.loads``
(tuples as lists, non-string keys as strings, NaN as NaN), the round trip the pipeline always
had. Spill lines are scratch: nothing published or digested is written by this module (the
store's rows, digests and version ids are made by store/, with ``json``), so a version id
does not depend on which encoder wrote a spill.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .document import Document

# orjson encodes subclasses of str/int/dict/list, dataclasses and datetimes its own way; handed
# back (TypeError) they go to json.dumps, which encodes them (or refuses them) as it always did
_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
ORJSON_MARK = b" "  # a line orjson wrote (JSON whitespace before the value)


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON bytes that :func:`loads` turns into ``json.loads(json.dumps(value))``."""
    try:
        out = orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # a surrogate, an integer beyond 64 bits, a non-string key, another type
        return _json_dumps(value)
    if b"null" in out and orjson.loads(out) != value:
        # a NaN or an infinity, which orjson writes as null (a None reads back equal; so does
        # every other value, tuples aside: they read back as lists and go to json, harmlessly)
        return _json_dumps(value)
    return ORJSON_MARK + out


def _json_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def loads(line: bytes) -> Any:
    """What ``json.loads`` gives for ``line`` (UTF-8 bytes, surrogates passed through)."""
    if line[:1] == ORJSON_MARK:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:  # not a line orjson wrote after all: json decides
            pass
    return json.loads(line.decode("utf-8", "surrogatepass"))


def encode_record(doc: Document) -> bytes:
    """One spill line (without its newline): the document, edits included."""
    return dumps(doc.to_record())


def decode_record(line: bytes) -> Document:
    """The document of a spill line (from :func:`encode_record`, or ``json.dumps`` of a record)."""
    return Document.from_record(loads(line))
