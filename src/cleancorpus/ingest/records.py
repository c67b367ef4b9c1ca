"""What a reader yields besides Documents: inputs that never became one, and records it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..document import Outcome, Status


@dataclass(frozen=True, slots=True)
class RejectedInput:
    """An input (a whole file, one JSONL line, one WARC record, one Parquet row) that never
    became a Document."""

    id: str
    source: str
    reason: str

    def outcome(self) -> Outcome:
        return Outcome(self.id, self.source, Status.REJECTED, reason=f"ingest: {self.reason}")


@dataclass(frozen=True, slots=True)
class SkippedRecords:
    """Records of one input file that are not documents by design (a WARC's request, metadata
    and revisit records, non-200 or non-HTML responses), counted by reason. They have no
    outcome; the counts go to the ingest report so that nothing disappears unaccounted."""

    source: str
    counts: dict[str, int] = field(default_factory=dict)
