"""What a version's kept documents say about themselves: language mix, quality flags, PII redacted.

Counted once when a version is written (``manifest["signals"]``), so that ``cleancorpus show``
and the report's summary need not read every document. The per-document values are in each
document's metadata (language stage: ``language``, ``languages``; quality stage: ``quality``,
``quality_flags``) and its ``pii`` edits.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from .document import Document
from .stages.pii import edit_kind

NO_LANGUAGE = "none"  # key for documents the language stage found no language in


class Tally:
    def __init__(self) -> None:
        self.documents = 0
        self.languages: Counter = Counter()  # documents per main language
        self.language_chars: Counter = Counter()  # characters per paragraph language
        self.has_language = 0
        self.quality_flags: Counter = Counter()
        self.has_quality = 0
        self.flagged = 0
        self.pii: Counter = Counter()
        self.pii_documents = 0

    def add(self, doc: Document) -> None:
        self.replay(self.record(doc))

    @staticmethod
    def record(doc: Document) -> tuple:
        """What ``add`` reads of a document, computed as ``add`` computes it: replaying the
        records of a version's documents in order gives the same tally, float sums included
        (an unchanged input file's records are kept by the publish step, incremental.py)."""
        meta = doc.metadata
        lang = None
        if "language" in meta:
            size = len(doc.text)
            lang = (meta["language"] or NO_LANGUAGE,
                    [(code, share * size) for code, share in (meta.get("languages") or {}).items()])
        quality = None
        if "quality" in meta or "quality_flags" in meta:
            quality = meta.get("quality_flags") or []
        return lang, quality, [k for k in map(edit_kind, doc.edits) if k]

    def replay(self, record: tuple) -> None:
        lang, flags, kinds = record
        self.documents += 1
        if lang is not None:
            self.has_language += 1
            self.languages[lang[0]] += 1
            for code, chars in lang[1]:
                self.language_chars[code] += chars
        if flags is not None:
            self.has_quality += 1
            self.flagged += bool(flags)
            self.quality_flags.update(flags)
        if kinds:
            self.pii_documents += 1
            self.pii.update(kinds)

    def to_dict(self) -> dict[str, Any]:
        total_chars = sum(self.language_chars.values()) or 1
        return {
            "documents": self.documents,
            "language": {
                "documents": self.has_language,
                "by_document": _ranked(self.languages),
                "share_of_text": {k: round(v / total_chars, 4) for k, v in _ranked(self.language_chars).items()},
            },
            "quality": {"documents": self.has_quality, "flagged": self.flagged, "flags": _ranked(self.quality_flags)},
            "pii": {"documents": self.pii_documents, "redactions": _ranked(self.pii)},
        }


def tally(docs: Iterable[Document]) -> dict[str, Any]:
    t = Tally()
    for d in docs:
        t.add(d)
    return t.to_dict()


def _ranked(counter: Counter) -> dict[str, Any]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def describe(signals: dict[str, Any], stages: Iterable[str] = (), top: int = 8) -> list[str]:
    """One line each for the language mix, the quality flags and the PII redactions (for ``show``)."""
    lines = []
    lang = signals.get("language", {})
    if lang.get("documents"):
        share = lang.get("share_of_text", {})
        parts = [f"{code} {n}" + (f" ({share[code]:.1%} of text)" if code in share else "")
                 for code, n in list(lang["by_document"].items())[:top]]
        more = len(lang["by_document"]) - top
        lines.append("languages (kept documents by main language): " + ", ".join(parts) + (f", {more} more" if more > 0 else ""))
    q = signals.get("quality", {})
    if q.get("documents"):
        flags = ", ".join(f"{k} {n}" for k, n in q["flags"].items()) or "none"
        lines.append(f"quality flags: {q['flagged']} of {q['documents']} kept documents flagged; {flags}")
    p = signals.get("pii", {})
    if p.get("redactions"):
        kinds = ", ".join(f"{k} {n}" for k, n in p["redactions"].items())
        lines.append(f"PII redacted: {kinds} (in {p['documents']} documents)")
    elif "pii" in stages:
        lines.append("PII redacted: none")
    return lines
