"""The versioned corpus store: Delta Lake tables under ``clean/`` (or an ``s3://`` prefix).

  documents/   kept documents: source, id, text, metadata (a struct), metadata_extra
  duplicates/  documents dropped as near-duplicates, for audit (same columns)
  edits/       one row per edit of every document that reached the end (kept or duplicate)
  outcomes/    one row per input document: kept / duplicate (duplicate_of, similarity) / rejected (reason)
  versions/    one row per cleancorpus version: its id, parent, the Delta version of each table,
               the sha256 of every data file it added, and its summary (counts, stages, dedup, config)

Not published with a version: the originals of redacted personal data, withheld from ``edits``
and kept in a private table (``_private/pii`` or another location; store/private.py).

A cleancorpus version is one Delta commit per table (commit metadata: cleancorpus.version,
parent, config, package), made visible by its row in ``versions``. Any Delta reader reads any
version by time travel; ``cleancorpus.load`` maps version ids to table versions.
"""

from .store import (
    ConcurrentWrite,
    LockTimeout,
    PrivateUnavailable,
    Store,
    StoreError,
    Version,
    VersionNotFound,
    VersionRemoved,
)

__all__ = ["ConcurrentWrite", "LockTimeout", "PrivateUnavailable", "Store", "StoreError", "Version", "VersionNotFound", "VersionRemoved"]
