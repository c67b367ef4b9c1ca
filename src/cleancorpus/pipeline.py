"""Run the configured stages over a stream of documents.

Documents flow one at a time through consecutive stages. A stage that needs the whole corpus
(``needs_corpus``) splits the run: what came before it is spilled to a JSONL file, the stage
fits on that file, and the run continues from it. Memory therefore stays bounded by one
document plus whatever statistics the stages keep, whatever the corpus size.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .config import Config, Limits
from .document import Document, Outcome, Rejection, Status
from .ingest import RejectedInput
from .stages import Stage

Progress = Callable[[str, int], None]  # (phase, documents advanced)


@dataclass
class StageReport:
    name: str
    seen: int = 0
    changed: int = 0
    edits: int = 0
    rejected: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def merge(self, other: "StageReport") -> None:
        self.seen += other.seen
        self.changed += other.changed
        self.edits += other.edits
        self.rejected.update(other.rejected)
        self.seconds += other.seconds

    def to_dict(self) -> dict:
        return {
            "seen": self.seen,
            "changed": self.changed,
            "edits": self.edits,
            "rejected": dict(sorted(self.rejected.items())),
        }


@dataclass
class RunResult:
    spill: Path  # JSONL of surviving documents, edits included
    rejected: list[Outcome]
    reports: dict[str, StageReport]
    documents_in: int


class StageTimeout(Exception):
    pass


class Pipeline:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.stages: list[Stage] = self.config.build_stages()
        self.limits: Limits = self.config.limits

    # -- one document, no corpus statistics: what `repair` and property tests use
    def apply(self, doc: Document, reports: dict[str, StageReport] | None = None) -> Document | Rejection:
        return self._through(doc, self.stages, reports if reports is not None else {})

    @property
    def segments(self) -> list[list[Stage]]:
        """Runs of stages between corpus-wide fits: each segment after the first starts with a
        stage that must ``fit`` on every document (as the earlier segments left them)."""
        return _segments(self.stages)

    def new_reports(self) -> dict[str, StageReport]:
        reports = {"ingest": StageReport("ingest")}
        reports.update({s.name: StageReport(s.name) for s in self.stages})
        return reports

    def admit(
        self, items: Iterable[Document | RejectedInput], reports: dict[str, StageReport], rejected: list[Outcome]
    ) -> Iterator[Document]:
        """Ingest bookkeeping: count inputs, turn ingest rejections and oversize documents into outcomes."""
        ingest = reports["ingest"]
        for item in items:
            ingest.seen += 1
            if isinstance(item, RejectedInput):
                ingest.rejected[item.reason.split(":")[0]] += 1
                rejected.append(item.outcome())
                continue
            if item.edits:
                ingest.changed += 1
                ingest.edits += len(item.edits)
            size = len(item.text.encode("utf-8", "surrogatepass"))
            if size > self.limits.max_doc_bytes:
                why = f"document is {size} bytes, over the limit of {self.limits.max_doc_bytes}"
                ingest.rejected["over size limit"] += 1
                rejected.append(Outcome(item.id, item.source, Status.REJECTED, reason=f"limits: {why}"))
                continue
            yield item

    def fit_segment(self, index: int, docs: Iterable[Document]) -> None:
        head = self.segments[index][0]
        if head.needs_corpus:
            head.fit(docs)

    def apply_segment(
        self, index: int, docs: Iterable[Document], reports: dict[str, StageReport], rejected: list[Outcome]
    ) -> Iterator[Document]:
        """Stream documents through one segment; rejections land in ``rejected``."""
        segment = self.segments[index]
        for doc in docs:
            out = self._through(doc, segment, reports)
            if isinstance(out, Rejection):
                rejected.append(Outcome(doc.id, doc.source, Status.REJECTED, reason=str(out)))
            else:
                yield out

    def run(
        self,
        items: Iterable[Document | RejectedInput],
        workdir: Path,
        progress: Progress | None = None,
    ) -> RunResult:
        """The whole per-document part of a run, sequentially, spilling where a stage must fit."""
        workdir.mkdir(parents=True, exist_ok=True)
        reports = self.new_reports()
        rejected: list[Outcome] = []
        stream: Iterable[Document] = self.admit(items, reports, rejected)
        for k, segment in enumerate(self.segments):
            if segment and segment[0].needs_corpus:
                path = spill(stream, workdir / f"spill-{k}.jsonl", progress, f"reading for {segment[0].name}")
                self.fit_segment(k, read_documents(path))
                stream = read_documents(path)
            stream = self.apply_segment(k, stream, reports, rejected)
        final = spill(stream, workdir / "documents.jsonl", progress, "cleaning")
        return RunResult(final, rejected, reports, reports["ingest"].seen)

    def _through(self, doc: Document, stages: list[Stage], reports) -> Document | Rejection:
        for stage in stages:
            rep = reports.setdefault(stage.name, StageReport(stage.name))
            rep.seen += 1
            t0 = time.perf_counter()
            try:
                with _time_limit(self.limits.max_stage_seconds):
                    out = stage.apply(doc)
            except StageTimeout:
                out = Rejection(stage.name, "time limit", f"over {self.limits.max_stage_seconds:g} s on one document")
            except RecursionError:
                out = Rejection(stage.name, "too deeply nested to process")
            except Exception as exc:  # a bad document must not stop the run; say what happened
                out = Rejection(stage.name, "stage error", f"{type(exc).__name__}: {exc}")
            rep.seconds += time.perf_counter() - t0
            if isinstance(out, Rejection):
                rep.rejected[out.reason] += 1
                return out
            added = len(out.edits) - len(doc.edits)
            if added:
                rep.changed += 1
                rep.edits += added
            doc = out
        return doc


def _segments(stages: list[Stage]) -> list[list[Stage]]:
    segments: list[list[Stage]] = []
    for s in stages:
        if not segments or s.needs_corpus:
            segments.append([s])
        else:
            segments[-1].append(s)
    return segments or [[]]


def spill(stream: Iterable[Document], path: Path, progress: Progress | None = None, phase: str = "") -> Path:
    """Write documents, edits included, one JSON record a line."""
    with open(path, "w", encoding="utf-8") as fh:
        for doc in stream:
            fh.write(json.dumps(doc.to_record(), ensure_ascii=False))
            fh.write("\n")
            if progress:
                progress(phase, 1)
    return path


def read_documents(path: Path) -> Iterator[Document]:
    """Documents (with edits) from a spill file."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield Document.from_record(json.loads(line))


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Interrupt a stage that runs too long on one document (main thread only; elsewhere the
    limit cannot be enforced by a signal and the stage runs to completion)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise StageTimeout()

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
