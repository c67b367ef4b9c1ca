"""Lay a document's whole edit history over its original text, for display.

Each stage's edits are in the coordinates of that stage's input, so they cannot simply be
drawn on the original. We keep the text as a list of pieces, each knowing what it was in the
original and what it is now; every stage pass splits untouched pieces at its edit boundaries
and replaces the covered pieces by one edited piece. Removed text stays as a piece whose
current text is empty, so it can still be shown (struck through) where it used to be.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Iterable, Sequence

from ..document import Edit, apply_edits, stage_passes


@dataclass(frozen=True, slots=True)
class Piece:
    text: str  # what this piece is in the final text ("" when removed)
    original: str  # what it was in the original text ("" when inserted)
    edits: tuple[Edit, ...] = ()  # empty for text no stage touched

    @property
    def kind(self) -> str:
        if not self.edits:
            return "same"
        if not self.text:
            return "removed"
        return "inserted" if not self.original else "replaced"


def annotate(original: str, edits: Sequence[Edit]) -> list[Piece]:
    """The original text cut into pieces, each untouched or carrying the edits that made it.

    Joining the pieces' ``original`` gives ``original``; joining their ``text`` gives the
    text after every edit. Raises ValueError when an edit does not match the text it names.
    """
    pieces = [Piece(original, original)] if original else []
    for group in stage_passes(edits):
        pieces = _apply_pass(pieces, sorted(group, key=lambda e: (e.start, e.end)))
    return _merge_untouched(pieces)


def _apply_pass(pieces: list[Piece], group: list[Edit]) -> list[Piece]:
    pieces = _split_untouched(pieces, sorted({x for e in group for x in (e.start, e.end)}))
    starts = list(accumulate((len(p.text) for p in pieces), initial=0))
    out: list[Piece] = []
    done = 0
    for lo, hi, edits in _cover(pieces, starts, group):
        out.extend(pieces[done:lo])
        base = starts[lo]
        text = apply_edits("".join(p.text for p in pieces[lo:hi]),
                           [replace(e, start=e.start - base, end=e.end - base) for e in edits])
        history = tuple(x for p in pieces[lo:hi] for x in p.edits) + tuple(edits)
        out.append(Piece(text, "".join(p.original for p in pieces[lo:hi]), history))
        done = hi
    out.extend(pieces[done:])
    return out


def _cover(pieces: list[Piece], starts: list[int], group: list[Edit]) -> list[tuple[int, int, list[Edit]]]:
    """For each run of edits, the pieces [lo, hi) it rewrites. Edits that touch the same earlier
    edit's piece share one run, since such a piece cannot be cut."""
    runs: list[tuple[int, int, list[Edit]]] = []
    i = 0
    for e in group:
        # pieces wholly before the edit (a removed piece sitting at e.start stays outside)
        while i < len(pieces) and starts[i + 1] <= e.start:
            i += 1
        j = i
        while j < len(pieces) and starts[j] < e.end:
            j += 1
        if runs and i < runs[-1][1]:
            lo, hi, edits = runs.pop()
            runs.append((lo, max(hi, j), edits + [e]))
        else:
            runs.append((i, j, [e]))
        if e.end > starts[-1]:
            raise ValueError(f"edit by {e.stage!r} at {e.start} is past the end of the text")
    return runs


def _split_untouched(pieces: list[Piece], cuts: list[int]) -> list[Piece]:
    """Cut untouched pieces at the pass's edit boundaries (edited pieces stay whole)."""
    out: list[Piece] = []
    pos = 0
    for p in pieces:
        end = pos + len(p.text)
        inner = [c - pos for c in cuts[bisect_right(cuts, pos) : bisect_left(cuts, end)]]
        if p.edits or not inner:
            out.append(p)
        else:
            bounds = [0, *inner, len(p.text)]
            out.extend(Piece(p.text[a:b], p.text[a:b]) for a, b in zip(bounds, bounds[1:]))
        pos = end
    return out


def _merge_untouched(pieces: Iterable[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for p in pieces:
        if not p.edits and not p.text:
            continue
        if merged and not p.edits and not merged[-1].edits:
            merged[-1] = Piece(merged[-1].text + p.text, merged[-1].original + p.original)
        else:
            merged.append(p)
    return merged
