"""Pass 1: exact duplicates by a hash of the normalized text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..config import DedupConfig
from ..document import Document

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Duplicate:
    id: str
    duplicate_of: str
    similarity: float
    reason: str


@dataclass
class DedupResult:
    duplicates: dict[str, Duplicate] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)


def normalize_for_hash(text: str) -> str:
    """Case, punctuation, spacing and Unicode form do not make two documents different."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(normalize_for_hash(text).encode("utf-8"), digest_size=16).digest()


def find_duplicates(
    docs: Callable[[], Iterable[Document]],
    config: DedupConfig,
    previous: Callable[[], Iterable[Document]] | None = None,
) -> DedupResult:
    """Documents whose normalized text equals an earlier one (or one already in ``previous``,
    the last stored version). The first copy in input order is kept."""
    result = DedupResult()
    if not config.enabled:
        return result
    first: dict[bytes, str] = {}
    if previous is not None:
        for doc in previous():
            first.setdefault(text_hash(doc.text), doc.id)
    seen = 0
    for doc in docs():
        seen += 1
        h = text_hash(doc.text)
        owner = first.setdefault(h, doc.id)
        if owner != doc.id:
            result.duplicates[doc.id] = Duplicate(doc.id, owner, 1.0, "exact duplicate (same normalized text)")
    result.stats = {"documents": seen, "exact_duplicates": len(result.duplicates)}
    return result
