"""Strict JSON out: RFC 8259 (no NaN or Infinity) and valid UTF-8, whatever a document holds.

Python's ``json`` writes ``NaN``/``Infinity`` and passes unpaired surrogates through, which
jq, DuckDB, browsers and Spark refuse. Every JSON file cleancorpus publishes goes through
:func:`dumps`: non-finite numbers become ``null`` and unpaired surrogates in strings (metadata
values and keys) become U+FFFD. Text never reaches this point with a surrogate in it (the
unicode stage repairs them as recorded edits, and a run without that stage rejects such
documents), so this never silently rewrites a document's text.
"""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that always produces strict JSON encodable as UTF-8 (fast path: as is)."""
    kwargs.setdefault("ensure_ascii", False)
    try:
        s = json.dumps(obj, allow_nan=False, **kwargs)
        s.encode("utf-8")
        return s
    except ValueError:  # NaN/Infinity, or an unpaired surrogate (UnicodeEncodeError)
        return json.dumps(strict_value(obj), allow_nan=False, **kwargs)


def strict_value(value: Any) -> Any:
    """A copy of a JSON-like value with non-finite floats as None and strings repaired."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _repair(value)
    if isinstance(value, dict):
        return {_repair(str(k)): strict_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_value(v) for v in value]
    return value


def replace_lone_surrogates(value: Any) -> Any:
    """Strings (and dict keys) inside ``value`` with unpaired surrogates replaced by U+FFFD;
    a surrogate pair written as two escapes becomes the character it encodes."""
    if isinstance(value, str):
        return _repair(value)
    if isinstance(value, dict):
        return {_repair(k) if isinstance(k, str) else k: replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(v) for v in value]
    return value


def _repair(s: str) -> str:
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def has_lone_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True
