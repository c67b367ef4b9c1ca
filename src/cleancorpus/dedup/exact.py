"""Pass 1: exact duplicates by a hash of the normalized text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

import numpy as np

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
HASH_DTYPE = np.dtype("S16")


def normalize_for_hash(text: str) -> str:
    """Case, punctuation, spacing and Unicode form do not make two documents different."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def normalized_hash(normalized: str) -> bytes:
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def text_hash(text: str) -> bytes:
    return normalized_hash(normalize_for_hash(text))


def exact_hashes(normalized_texts: Iterable[str]) -> np.ndarray:
    """One 128-bit digest per (already normalized) text: equal digests mean exact duplicates."""
    return np.array([normalized_hash(t) for t in normalized_texts], dtype=HASH_DTYPE)


def exact_groups(hashes: np.ndarray) -> np.ndarray:
    """For each row, the index of the first row with the same digest (its exact-copy leader)."""
    if hashes.size == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    return first[inverse.reshape(-1)].astype(np.int64)
