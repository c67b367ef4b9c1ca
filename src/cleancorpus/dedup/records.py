"""Small typed records shared by the dedup passes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Duplicate:
    """One input document that is a copy of another: ``duplicate_of`` names the kept copy."""

    id: str
    duplicate_of: str
    similarity: float
    reason: str


@dataclass
class DedupResult:
    duplicates: dict[str, Duplicate] = field(default_factory=dict)
    # deterministic counts, written into the manifest
    stats: dict[str, int] = field(default_factory=dict)
    # wall seconds per pass; for benchmarks and logs, kept out of the manifest
    timings: dict[str, float] = field(default_factory=dict)
    # signature rows taken from the store's dedup index / computed now (depends on history:
    # in the manifest's "work", not in "dedup")
    work: dict[str, int] = field(default_factory=dict)
