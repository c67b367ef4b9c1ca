"""Corpus-level deduplication, as explicit passes over the cleaned documents."""

from .exact import DedupResult, Duplicate, find_duplicates, normalize_for_hash

__all__ = ["DedupResult", "Duplicate", "find_duplicates", "normalize_for_hash"]
