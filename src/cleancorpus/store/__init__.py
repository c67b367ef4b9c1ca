"""The versioned, immutable corpus store under ``clean/``.

Layout of one version ``clean/<version>/``:
  documents.jsonl   kept documents: id, text, source, metadata
  documents.parquet the same rows (metadata as a JSON string)
  edits.jsonl       every edit of every document that reached the end (kept or duplicate)
  dropped.jsonl     duplicates, with their text, for audit
  report.html       the audit report (see cleancorpus.report)
  manifest.json     inputs, config, counts, and the outcome of every input document
``clean/latest`` holds the current version id.
"""

from .store import (
    LockTimeout,
    Store,
    StoreError,
    Version,
    VersionNotFound,
)

__all__ = ["LockTimeout", "Store", "StoreError", "Version", "VersionNotFound"]
