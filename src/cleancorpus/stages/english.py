"""Where a document is English, by the language stage's decision: for the English-only repairs.

spun and spelling repair English wording with English lexicons and word lists; on other
languages they can only do harm. When the language stage ran, its ``language_lines`` metadata
says which lines are English; this module turns that into character spans of the current text
(line numbers survive the stages in between, which change words, never line breaks). When it did
not run (``repair_text``, a pipeline without it) there is no decision, and the stages fall back
on their own guards.
"""

from __future__ import annotations

import bisect
import re
from typing import Sequence, TypeVar

from ..document import Document

T = TypeVar("T")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


def english_spans(doc: Document, code: str = "en") -> list[tuple[int, int]] | None:
    """Sorted, non-overlapping (start, end) spans of the lines the language stage found English;
    None when the document has no paragraph decisions (the language stage did not run)."""
    runs = doc.metadata.get("language_lines")
    if not isinstance(runs, list):
        return None
    wanted = [(int(r[0]), int(r[1])) for r in runs if len(r) == 3 and r[2] == code]
    if not wanted:
        return []
    lines = doc.text.count("\n") + (not doc.text.endswith("\n"))
    if len(wanted) == 1 and wanted[0][0] <= 0 and wanted[0][1] >= lines:
        return [(0, len(doc.text))]  # the whole text is English: the usual case, no line scan
    starts, pos = [], 0
    for m in _LINE.finditer(doc.text):
        starts.append(pos)
        pos = m.end()
    starts.append(pos)  # the end of the last line
    last = len(starts) - 1
    spans: list[tuple[int, int]] = []
    for first, end in wanted:
        first, end = min(max(first, 0), last), min(max(end, 0), last)
        if first < end:
            spans.append((starts[first], starts[end]))
    return spans


def within(items: Sequence[T], spans: Sequence[tuple[int, int]]) -> list[T]:
    """The items (anything with a ``start``, in order) that start inside the sorted spans."""
    if len(spans) == 1 and (not items or spans[0][0] <= items[0].start and items[-1].start < spans[0][1]):
        return list(items)  # one span holding them all (a text all English): the usual case
    out, k = [], 0
    for item in items:
        while k < len(spans) and spans[k][1] <= item.start:
            k += 1
        if k == len(spans):
            break
        if spans[k][0] <= item.start:
            out.append(item)
    return out


def inside(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether a character position lies in one of the sorted spans."""
    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]
