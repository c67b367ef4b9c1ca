"""The records every part of cleancorpus passes around: Document, Edit, Rejection, Outcome.

A stage never mutates a Document: it returns a new one whose ``edits`` list has grown by the
edits it made, so the history of every character is kept and can be replayed or reverted.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Callable, Iterable, Sequence


@dataclass(frozen=True, slots=True)
class Edit:
    """One change a stage made to a document's text.

    ``start``/``end`` index the text as it was *before* this stage ran (the stage's input);
    all edits of one stage are non-overlapping, so applying them right-to-left to the stage's
    input gives its output (see :func:`apply_edits`).

    ``before`` is None when the original is *withheld*: personal data a published version
    does not carry (store/private.py keeps it in a separate table); :func:`revert` then needs
    the originals back (``Version.edits(private=...)``) or :func:`masked` stand-ins.

    ``field`` is None for an edit of the text. An edit of a metadata value (the pii stage
    redacting an address in an HTML title or a JSONL field) names the value by its JSON
    Pointer (RFC 6901: ``/title``, ``/author/email``, ``/tags/0``) and its span indexes that
    string as it was before the stage; :func:`revert` and :func:`replay` leave such edits
    out, :func:`revert_metadata` undoes them.
    """

    stage: str
    start: int
    end: int
    before: str | None
    after: str
    reason: str
    confidence: float | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "stage": self.stage,
            "start": self.start,
            "end": self.end,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }
        if self.confidence is not None:
            d["confidence"] = round(self.confidence, 4)
        if self.field is not None:  # absent for text edits: their records (and digests) are unchanged
            d["field"] = self.field
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Edit":
        return cls(
            stage=d["stage"],
            start=d["start"],
            end=d["end"],
            before=d["before"],
            after=d["after"],
            reason=d["reason"],
            confidence=d.get("confidence"),
            field=d.get("field"),
        )


@dataclass(frozen=True, slots=True)
class Replacement:
    """A change a stage wants to make, in the coordinates of its input text."""

    start: int
    end: int
    after: str
    reason: str
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)
    edits: tuple[Edit, ...] = ()

    def revise(
        self,
        stage: str,
        replacements: Iterable[Replacement],
        metadata: dict[str, Any] | None = None,
    ) -> "Document":
        """Apply a stage's replacements and return the new document (self if nothing changed).

        Replacements that would not change the text are dropped, so an edit is recorded only
        when the text really changed.
        """
        reps = sorted(replacements, key=lambda r: (r.start, r.end))
        edits = []
        last_end = 0
        for r in reps:
            if r.start < last_end:
                raise ValueError(f"stage {stage!r} produced overlapping edits at {r.start}")
            before = self.text[r.start : r.end]
            if before != r.after:
                edits.append(Edit(stage, r.start, r.end, before, r.after, r.reason, r.confidence))
            last_end = r.end
        new_meta = self.metadata if metadata is None else {**self.metadata, **metadata}
        if not edits:
            return self if metadata is None else Document(self.id, self.text, self.source, new_meta, self.edits)
        return Document(self.id, apply_edits(self.text, edits), self.source, new_meta, self.edits + tuple(edits))

    def with_metadata(self, **items: Any) -> "Document":
        # the constructor, not dataclasses.replace: the same document at about half the cost
        # (every stage that annotates calls this once per document)
        return Document(self.id, self.text, self.source, {**self.metadata, **items}, self.edits)

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "source": self.source, "metadata": self.metadata}

    def to_record(self) -> dict[str, Any]:
        """Everything, edits included: the form used for spill files between passes."""
        return {**self.to_row(), "edits": [e.to_dict() for e in self.edits]}

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> "Document":
        return cls(
            id=d["id"],
            text=d["text"],
            source=d["source"],
            metadata=d.get("metadata") or {},
            edits=tuple(Edit.from_dict(e) for e in d.get("edits", ())),
        )

    def edits_by(self, stage: str) -> list[Edit]:
        return [e for e in self.edits if e.stage == stage]


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply one stage's non-overlapping edits (input coordinates) to that stage's input."""
    parts = []
    pos = 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.before is not None and text[e.start : e.end] != e.before:
            raise ValueError(f"edit by {e.stage!r} at {e.start} does not match the text")
        parts.append(text[pos : e.start])
        parts.append(e.after)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)


def stage_passes(edits: Sequence[Edit]) -> list[list[Edit]]:
    """Consecutive edits of one stage were made in one pass over that stage's input."""
    passes: list[list[Edit]] = []
    for e in edits:
        if passes and passes[-1][0].stage == e.stage:
            passes[-1].append(e)
        else:
            passes.append([e])
    return passes


def text_edits(edits: Sequence[Edit]) -> list[Edit]:
    """The edits of the text (not of a metadata value: ``Edit.field``)."""
    return [e for e in edits if e.field is None]


def replay(original: str, edits: Sequence[Edit]) -> str:
    """Re-run a document's whole edit history on its original text, stage by stage."""
    text = original
    for group in stage_passes(text_edits(edits)):
        text = apply_edits(text, group)
    return text


class Withheld(ValueError):
    """An edit's original (personal data) is not in the published version, so it cannot be reverted."""


WITHHELD_MASK = "\u2588"  # FULL BLOCK: what a withheld original shows as in reports


def masked(edits: Sequence[Edit], mask: str = WITHHELD_MASK) -> list[Edit]:
    """The edits with each withheld original replaced by ``mask`` repeated to its length (the
    span is published), so the history can be laid out and reverted without the originals."""
    return [e if e.before is not None else replace(e, before=mask * (e.end - e.start)) for e in edits]


def revert(final: str, edits: Sequence[Edit]) -> str:
    """Undo a document's whole edit history, giving back the text as ingested. Raises
    :class:`Withheld` when an edit's original is withheld from the version (see :class:`Edit`).
    Edits of metadata values are left out (:func:`revert_metadata`)."""
    edits = text_edits(edits)
    _refuse_withheld(edits, "", lambda e: e.stage, "cleancorpus revert --private URI")
    text = final
    for group in reversed(stage_passes(edits)):
        text = _undo(text, group)
    return text


def _refuse_withheld(edits: Sequence[Edit], whose: str, name: Callable[[Edit], str], command: str) -> None:
    """Raise :class:`Withheld` when one of ``edits`` has its original withheld (``name`` says which
    stage or field each is, ``command`` how to revert with the private table)."""
    hidden = [e for e in edits if e.before is None]
    if hidden:
        raise Withheld(
            f"{len(hidden)} edit(s) of this document{whose} ({', '.join(sorted({name(e) for e in hidden}))}) hold "
            f"personal data withheld from the published version; reverting needs the version's private table "
            f"({command}, or Version.edits(private=URI))")


def _undo(text: str, group: Sequence[Edit]) -> str:
    """Undo one pass of one stage: map each edit's input span to its output span, swap after -> before."""
    shift = 0
    inverse = []
    for e in sorted(group, key=lambda e: e.start):
        s = e.start + shift
        inverse.append(Edit(e.stage, s, s + len(e.after), e.after, e.before, e.reason))
        shift += len(e.after) - (e.end - e.start)
    return apply_edits(text, inverse)


def revert_metadata(metadata: dict[str, Any], edits: Sequence[Edit]) -> dict[str, Any]:
    """The metadata as ingested: every edit of a metadata value undone (a copy; ``metadata`` is
    not changed). Raises :class:`Withheld` when such an edit's original is withheld."""
    import copy

    fields = [e for e in edits if e.field is not None]
    _refuse_withheld(fields, "'s metadata", lambda e: e.field or "", "cleancorpus revert --metadata --private URI")
    out = copy.deepcopy(metadata)
    for group in reversed(stage_passes(fields)):
        for path in dict.fromkeys(e.field for e in group):
            value = pointer_get(out, path)  # type: ignore[arg-type]
            if not isinstance(value, str):
                raise ValueError(f"metadata edit at {path}: no string value there")
            pointer_set(out, path, _undo(value, [e for e in group if e.field == path]))  # type: ignore[arg-type]
    return out


def pointer(parts: Sequence[str | int]) -> str:
    """The JSON Pointer (RFC 6901) of a value inside the metadata."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _parts(path: str) -> list[str]:
    if not path.startswith("/"):
        raise ValueError(f"not a JSON Pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def pointer_get(obj: Any, path: str) -> Any:
    """The value at ``path``, or None when there is none."""
    for part in _parts(path):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def pointer_set(obj: Any, path: str, value: Any) -> None:
    parts = _parts(path)
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    last = parts[-1]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


@dataclass(frozen=True, slots=True)
class Rejection:
    """A stage's verdict that a document must not go into the corpus, and why."""

    stage: str
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.stage}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


class Status(str, Enum):
    KEPT = "kept"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input document; the manifest holds one per input."""

    id: str
    source: str
    status: Status
    reason: str | None = None
    duplicate_of: str | None = None
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "source": self.source, "status": self.status.value}
        if self.reason is not None:
            d["reason"] = self.reason
        if self.duplicate_of is not None:
            d["duplicate_of"] = self.duplicate_of
        if self.similarity is not None:
            d["similarity"] = round(self.similarity, 4)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Outcome":
        return cls(
            id=d["id"],
            source=d["source"],
            status=Status(d["status"]),
            reason=d.get("reason"),
            duplicate_of=d.get("duplicate_of"),
            similarity=d.get("similarity"),
        )


def stable_id(source: str, content: bytes, key: bytes | None = None) -> str:
    """A document id from where it came from and what it holds: same file, same bytes, same id.
    With the store's ``key`` (what ingest always has: idkey.py) it is an HMAC-SHA256, so the id
    of a text with a withheld phone number cannot be used to test candidates; without, a plain
    sha256 (a text that is not going to be published: ``repair_text``, tests)."""
    if key is not None:
        h = hmac.new(key, source.encode("utf-8", "surrogatepass"), hashlib.sha256)
        h.update(b"\0")
        h.update(content)
        return h.hexdigest()[:16]
    h = hashlib.sha256()
    h.update(source.encode("utf-8", "surrogatepass"))
    h.update(b"\0")
    h.update(content)
    return h.hexdigest()[:16]
