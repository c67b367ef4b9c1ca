"""One page's bytes to a Document: decoding (an ``ingest`` edit when not UTF-8) and, for HTML,
extraction (the full visible text, non-main content removed as ``html`` edits). Shared by
.html/.txt files and WARC/WET records, so a page reads the same whichever container it came in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from ..document import Document
from .decode import decode_bytes
from .html import html_to_text, precheck_html
from .records import RejectedInput

if TYPE_CHECKING:
    from ..config import Limits


def page_document(
    doc_id: str,
    source: str,
    data: bytes,
    is_html: bool,
    metadata: dict[str, Any],
    limits: "Limits",
    declared: Sequence[tuple[str, str]] = (),
) -> Document | RejectedInput:
    """``declared``: (charset, where it was declared) pairs, tried in order when the bytes are
    not UTF-8, before detection."""
    decoded = decode_bytes(data, declared)
    if isinstance(decoded, str):
        return RejectedInput(doc_id, source, decoded)
    doc = Document(doc_id, decoded.naive, source, dict(metadata))
    doc = decoded.apply_to(doc)
    if is_html:
        problem = precheck_html(doc.text, limits.max_html_tags, limits.max_html_attributes)
        if problem:
            return RejectedInput(doc_id, source, f"HTML pre-check: {problem}")
        page = html_to_text(doc.text)
        # built from the page's full text; what extraction drops is recorded as "html" edits
        doc = Document(doc_id, page.text, source, {**doc.metadata, **page.meta, **metadata})
        doc = doc.revise("html", page.removals)
    if not doc.text.strip():
        why = "empty file" if not data else "no text content"
        if is_html and data.strip():
            why = "HTML page has no visible text (all script, style or markup)"
        return RejectedInput(doc_id, source, why)
    return doc
