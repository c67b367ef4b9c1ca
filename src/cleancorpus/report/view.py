"""Read a stored version into what the report shows: summary, documents, clusters, rejects."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..document import Document, Edit, masked, revert, text_edits
from ..stages.pii import edit_kind
from ..store import Version
from .annotate import Piece, annotate


@dataclass(frozen=True)
class ReportOptions:
    # Past this many documents only the most edited are shown in full (the rest are listed),
    # so the page stays small enough for a browser to open.
    max_documents: int = 500
    # duplicate pairs drawn side by side
    max_pairs: int = 100
    # longer texts are shown side by side without word-level highlighting (difflib is quadratic)
    max_diff_words: int = 20_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 1:
                raise ValueError(f"report option {f.name} must be at least 1, not {getattr(self, f.name)}")


@dataclass
class DocView:
    doc: Document
    status: str
    pieces: list[Piece]
    problem: str | None = None  # why the edits could not be laid over the text, if they could not
    duplicate_of: str | None = None  # id of the kept copy, for a dropped duplicate

    @property
    def by_stage(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.doc.edits:
            counts[e.stage] = counts.get(e.stage, 0) + 1
        return counts

    @property
    def language(self) -> str:
        """"en", "en 83% · fr 17%" for a mix, "" when the language stage did not run."""
        meta = self.doc.metadata
        if "language" not in meta:
            return ""
        mix = meta.get("languages") or {}
        if len(mix) > 1:
            return " · ".join(f"{k} {v:.0%}" for k, v in mix.items())
        return meta["language"] or "none"

    @property
    def quality_flags(self) -> list[str]:
        return list(self.doc.metadata.get("quality_flags") or [])

    @property
    def pii(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind in filter(None, map(edit_kind, self.doc.edits)):
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    @property
    def removed_chars(self) -> int:
        return sum(len(p.original) for p in self.pieces if p.kind == "removed")

    @property
    def original_chars(self) -> int:
        return sum(len(p.original) for p in self.pieces)


@dataclass
class PairView:
    kept_id: str
    dropped: dict[str, Any]  # id, similarity, reason
    dropped_source: str
    kept_source: str | None  # None when the kept copy is not in this version
    left: list[tuple[str, bool]] = field(default_factory=list)  # (text, only on this side)
    right: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class ReportView:
    manifest: dict[str, Any]
    documents: list[DocView]
    hidden: list[dict[str, Any]]  # kept documents not shown in full: id, source, edits
    clusters: list[dict[str, Any]]
    pairs: dict[str, PairView]  # by dropped id
    rejected: list[dict[str, Any]]
    stages: list[str]
    source_of: dict[str, str]  # document id -> source, for every input of this version


def document_view(doc: Document, status: str = "kept", duplicate_of: str | None = None) -> DocView:
    """The document's original text with its edits laid over it; never raises on bad edits."""
    try:
        # withheld originals (personal data, store/private.py) show as a span of their length
        # edits of metadata values (Edit.field) are listed with the edits, not laid over the text
        edits = text_edits(masked(doc.edits))
        return DocView(doc, status, annotate(revert(doc.text, edits), edits), None, duplicate_of)
    except ValueError as exc:
        plain = [Piece(doc.text, doc.text)] if doc.text else []
        why = f"edits could not be laid over the text ({exc}); shown as stored"
        return DocView(doc, status, plain, why, duplicate_of)


def build_view(version: Version, options: ReportOptions) -> ReportView:
    manifest = version.manifest
    outcomes = [o.to_dict() for o in sorted(version.outcomes(), key=lambda o: (o.source, o.id))]
    edits = version.edits()
    shown, hidden = _choose_documents(outcomes, edits, options.max_documents)
    # dropped duplicates too: their repairs (and what was cut from them) are part of the audit
    docs = [document_view(d, "kept") for d in version.documents(with_edits=True) if d.id in shown]
    docs += [document_view(d, "duplicate", shown[d.id]) for d in version.dropped() if d.id in shown]
    order = {o["id"]: i for i, o in enumerate(outcomes)}
    docs.sort(key=lambda v: order.get(v.doc.id, len(order)))
    clusters = clusters_of(outcomes)
    pairs = _pairs(version, clusters, options)
    rejected = [o for o in outcomes if o.get("status") == "rejected"]
    stages = [s for s in manifest.get("stages", {})]
    stages += sorted({e.stage for es in edits.values() for e in es} - set(stages))
    source_of = {o["id"]: o["source"] for o in outcomes}
    return ReportView(manifest, docs, hidden, clusters, pairs, rejected, stages, source_of)


def clusters_of(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Duplicate clusters from the outcomes: each kept copy with its dropped duplicates."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for o in outcomes:
        if o.get("status") == "duplicate":
            groups.setdefault(o["duplicate_of"], []).append(
                {"id": o["id"], "similarity": o.get("similarity"), "reason": o.get("reason")})
    return [{"kept": k, "dropped": sorted(v, key=lambda x: x["id"])} for k, v in sorted(groups.items())]


def _choose_documents(
    outcomes: list[dict[str, Any]], edits: dict[str, list[Edit]], limit: int
) -> tuple[dict[str, str | None], list[dict[str, Any]]]:
    """The documents drawn in full (id -> duplicate_of), the most edited first, and the rest."""
    ended = [o for o in outcomes if o.get("status") in ("kept", "duplicate")]
    ranked = sorted(ended, key=lambda o: -len(edits.get(o["id"], ())))
    shown = {o["id"]: o.get("duplicate_of") for o in ranked[:limit]}
    hidden = [{**o, "edits": len(edits.get(o["id"], ()))} for o in ended if o["id"] not in shown]
    return shown, hidden


def _pairs(version: Version, clusters: list[dict[str, Any]], options: ReportOptions) -> dict[str, PairView]:
    wanted = [(c["kept"], d) for c in clusters for d in c.get("dropped", [])][: options.max_pairs]
    if not wanted:
        return {}
    dropped_ids = {d["id"] for _, d in wanted}
    dropped = {d.id: d for d in version.dropped() if d.id in dropped_ids}
    kept_ids = {k for k, _ in wanted}
    kept = {d.id: d for d in _chain(version.documents(), version.dropped()) if d.id in kept_ids}
    pairs = {}
    for kept_id, d in wanted:
        a, b = kept.get(kept_id), dropped.get(d["id"])
        if b is None:
            continue
        pair = PairView(kept_id, d, b.source, a.source if a else None)
        if a is not None:
            pair.left, pair.right = side_by_side(a.text, b.text, options.max_diff_words)
        pairs[d["id"]] = pair
    return pairs


def _chain(*streams: Iterable[Document]) -> Iterator[Document]:
    for s in streams:
        yield from s


_TOKEN = re.compile(r"\s+|[^\s]+")


def side_by_side(left: str, right: str, max_words: int) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both texts as runs of (text, differs): words found on one side only are marked."""
    a, b = _TOKEN.findall(left), _TOKEN.findall(right)
    if len(a) > 2 * max_words or len(b) > 2 * max_words:
        return [(left, False)], [(right, False)]
    # compare words only: a different line break must not count as a difference
    wa, wb = [t if t.strip() else " " for t in a], [t if t.strip() else " " for t in b]
    sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    out_a: list[tuple[str, bool]] = []
    out_b: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            out_a.append(("".join(a[i1:i2]), not same))
        if j2 > j1:
            out_b.append(("".join(b[j1:j2]), not same))
    return out_a, out_b


def metadata_rows(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in metadata.items()]
