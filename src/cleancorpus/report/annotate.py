"""Lay a document's whole edit history over its original text, for display.

Each stage's edits are in the coordinates of that stage's input, so they cannot simply be
drawn on the original. We keep the text as a list of pieces, each knowing what it was in the
original and what it is now; every stage pass splits untouched pieces at its edit boundaries
and replaces the covered pieces by one edited piece. Removed text stays as a piece whose
current text is empty, so it can still be shown (struck through) where it used to be.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..document import Edit


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


def stage_passes(edits: Sequence[Edit]) -> list[list[Edit]]:
    """Consecutive edits of one stage were made in one pass over that stage's input."""
    passes: list[list[Edit]] = []
    for e in edits:
        if passes and passes[-1][0].stage == e.stage:
            passes[-1].append(e)
        else:
            passes.append([e])
    return passes


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
    out: list[Piece] = []
    queue = deque(pieces)
    pos = 0  # offset, in this pass's input, of queue[0]
    for e in group:
        # pieces wholly before the edit (a removed piece sitting at e.start stays outside)
        while queue and pos + len(queue[0].text) <= e.start:
            pos += len(queue[0].text)
            out.append(queue.popleft())
        covered: list[Piece] = []
        prefix = suffix = ""
        while queue and pos < e.end:
            head = queue.popleft()
            end = pos + len(head.text)
            lo, hi = max(e.start - pos, 0), min(e.end - pos, len(head.text))
            if head.edits:  # an earlier edit's piece cannot be split: take it whole
                if lo:  # only the first covered piece can start before the edit
                    prefix = head.text[:lo]
                suffix = head.text[hi:] if end > e.end else ""
                covered.append(head)
            else:
                if lo:
                    out.append(Piece(head.text[:lo], head.original[:lo]))
                covered.append(Piece(head.text[lo:hi], head.original[lo:hi]))
                if end > e.end:
                    queue.appendleft(Piece(head.text[hi:], head.original[hi:]))
                    end = e.end
            pos = end
        joined = "".join(p.text for p in covered)
        if pos < e.end or joined[len(prefix) : len(joined) - len(suffix)] != e.before:
            raise ValueError(f"edit by {e.stage!r} at {e.start} does not match the text it names")
        history = tuple(x for p in covered for x in p.edits) + (e,)
        out.append(Piece(prefix + e.after + suffix, "".join(p.original for p in covered), history))
    out.extend(queue)
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
