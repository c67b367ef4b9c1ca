"""Corpus-level deduplication, as explicit passes over the cleaned documents.

exact digests -> MinHash signatures -> LSH band candidates -> verification on shingle sets
-> union-find clusters -> one representative per cluster. See run.py for the driver.
"""

from .exact import normalize_for_hash, text_hash
from .records import DedupResult, Duplicate
from .run import DedupError, find_duplicates, serial_map

__all__ = ["DedupError", "DedupResult", "Duplicate", "find_duplicates", "normalize_for_hash",
           "serial_map", "text_hash"]
