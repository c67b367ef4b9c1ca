"""Run the configured stages over a stream of documents.

Documents flow through consecutive stages, one at a time, or in a segment of several stages a
batch of at most ``BATCH_DOCS`` documents at a time, stage by stage (``Pipeline._batched``: the
same results, cheaper on the CPU's caches). A stage that needs the whole corpus
(``needs_corpus``) splits the run: what came before it is spilled to a JSONL file, the stage
fits on that file, and the run continues from it. Memory therefore stays bounded by one batch
of documents plus whatever statistics the stages keep, whatever the corpus size.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import scratch
from .config import Config, Limits
from .document import Document, Outcome, Rejection, Status
from .incremental import UNCACHEABLE, StageCache, Work, cached_partial_fit, input_file
from .ingest import RejectedInput, SkippedRecords, describe_error
from .jsonsafe import has_lone_surrogates
from .records import decode_record, encode_record
from .stages import Stage
from .timeout import TimeLimitExceeded, time_limit

Progress = Callable[[str, int], None]  # (phase, documents advanced)

# a segment of several stages takes documents through them in batches (Pipeline._batched): at most
# this many documents, or this many characters of text, at a time
BATCH_DOCS = 128
BATCH_CHARS = 1 << 20


@dataclass
class StageReport:
    name: str
    seen: int = 0
    changed: int = 0
    edits: int = 0
    rejected: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    # documents a corpus stage's fit failed on: left out of its statistics (id -> why)
    fit_skipped: dict[str, str] = field(default_factory=dict)
    # ingest only: input records that are not documents by design (a WARC's request records,
    # non-200 responses, ...), counted by reason; they have no outcome
    skipped: Counter = field(default_factory=Counter)

    def merge(self, other: "StageReport") -> None:
        self.seen += other.seen
        self.changed += other.changed
        self.edits += other.edits
        self.rejected.update(other.rejected)
        self.seconds += other.seconds
        self.fit_skipped.update(other.fit_skipped)
        self.skipped.update(other.skipped)

    def to_dict(self) -> dict:
        d = {
            "seen": self.seen,
            "changed": self.changed,
            "edits": self.edits,
            "rejected": dict(sorted(self.rejected.items())),
        }
        if self.fit_skipped:
            d["fit_skipped"] = dict(sorted(self.fit_skipped.items()))
        if self.skipped:
            d["skipped"] = dict(sorted(self.skipped.items()))
        return d


@dataclass
class RunResult:
    spill: Path  # JSONL of surviving documents, edits included
    rejected: list[Outcome]
    reports: dict[str, StageReport]
    documents_in: int
    work: Work = field(default_factory=Work)  # what was reused and recomputed (incremental.py)
    # the spill's lines per input file, in order (None: not known): lets dedup and publish take
    # an unchanged file's results from their stored entries without parsing its documents
    layout: tuple[tuple[str, int], ...] | None = None


class Pipeline:
    """The configured stages. ``fail_fast`` lets a stage's exception escape instead of turning
    it into a rejection of the document (for someone debugging a stage); it changes no output
    of a run that completes, so it is not part of the configuration or the version id."""

    def __init__(self, config: Config | None = None, fail_fast: bool = False) -> None:
        self.config = config or Config()
        self.stages: list[Stage] = self.config.build_stages()
        self.limits: Limits = self.config.limits
        self.fail_fast = fail_fast
        # without the unicode stage nothing repairs an unpaired surrogate, and no strict output
        # can hold one: such documents are rejected at admission instead of silently rewritten
        self._surrogates_repaired = "unicode" in self.config.stages

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
        self, items: Iterable[Document | RejectedInput | SkippedRecords], reports: dict[str, StageReport], rejected: list[Outcome]
    ) -> Iterator[Document]:
        """Ingest bookkeeping: count inputs, turn ingest rejections and oversize documents into outcomes."""
        ingest = reports["ingest"]
        for item in items:
            if isinstance(item, SkippedRecords):
                ingest.skipped.update(item.counts)
                continue
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
            if not self._surrogates_repaired and has_lone_surrogates(item.text):
                ingest.rejected["unpaired surrogate"] += 1
                rejected.append(Outcome(item.id, item.source, Status.REJECTED, reason=(
                    "ingest: text holds an unpaired surrogate (not valid Unicode); the unicode stage, "
                    "not in this configuration, would repair it")))
                continue
            yield item

    def fit_segment(self, index: int, docs: Callable[[], Iterable[Document]],
                    reports: dict[str, StageReport] | None = None, cache: str | None = None,
                    read: bool = True, work: Work | None = None) -> None:
        """Fit the segment's corpus stage on ``docs()`` (a fresh iterator per call); with a
        ``cache`` (a store location) the counts of unchanged chunks of documents are reused."""
        head = self.segments[index][0]
        if head.needs_corpus:
            stats, skipped = self.partial_fit(head, docs, cache, read, work)
            head.finish_fit(stats)
            if reports is not None:
                reports.setdefault(head.name, StageReport(head.name)).fit_skipped.update(skipped)

    def partial_fit(self, stage: Stage, docs: Callable[[], Iterable[Document]], cache: str | None = None,
                    read: bool = True, work: Work | None = None) -> tuple[Any, dict[str, str]]:
        """The stage's statistics of ``docs()`` and the documents left out of them."""
        def fit(d: Callable[[], Iterable[Document]]) -> tuple[Any, dict[str, str]]:
            return guarded_partial_fit(stage, d, self.limits.max_stage_seconds, self.fail_fast)
        return cached_partial_fit(stage, docs, fit, cache, read, work)

    def apply_segment(
        self, index: int, docs: Iterable[Document], reports: dict[str, StageReport], rejected: list[Outcome],
        cache: StageCache | None = None,
    ) -> Iterator[Document]:
        """Stream documents through one segment; rejections land in ``rejected``. With a
        ``cache``, a stage's stored result for a document is reused when still exact."""
        segment = self.segments[index]
        try:
            if len(segment) < 2:
                for doc in docs:
                    out = self._through(doc, segment, reports, cache)
                    if isinstance(out, Rejection):
                        rejected.append(Outcome(doc.id, doc.source, Status.REJECTED, reason=str(out)))
                    else:
                        yield out
            else:
                yield from self._batched(segment, docs, reports, rejected, cache)
        finally:
            if cache is not None:
                cache.flush()

    def _batched(self, segment: list[Stage], docs: Iterable[Document], reports: dict[str, StageReport],
                 rejected: list[Outcome], cache: StageCache | None) -> Iterator[Document]:
        """``apply_segment`` of several stages, a batch of documents at a time, stage by stage:
        each stage runs over the batch before the next one starts, so that its working set
        (fastText's model, the quality tables, the regexes) stays in the CPU's caches instead of
        being evicted by the other stages' after every document (about a third of the language,
        quality and pii stages' CPU, and part of boilerplate's; bench/README.md, "Speed: the
        full pipeline with and without the language, quality and PII stages"). Each document
        meets the same stages in the same order, and the documents meet each stage in input
        order, so every result is the same; rejections (the upstream ones appended while the
        batch was read, and this segment's) land in ``rejected`` in the order one document at a
        time gives, each just before the next kept document is yielded. With a ``cache`` a batch
        holds one input file's documents (StageCache keeps one file's entries at a time)."""
        it = iter(docs)
        pending: tuple[Document, list[Outcome]] | None = None  # a batch's first document, read already
        unplaced: list[Outcome] = []  # upstream rejections taken out of ``rejected`` and not yet put back
        try:
            while True:
                batch: list[Document] = []
                held: list[list[Outcome]] = []  # per document: the upstream rejections read before it
                size, file = 0, None
                while len(batch) < BATCH_DOCS and size < BATCH_CHARS:
                    if pending is not None:
                        (doc, before), pending = pending, None
                    else:
                        start = len(rejected)
                        doc = next(it, None)
                        before = rejected[start:]
                        del rejected[start:]
                        unplaced.extend(before)
                        if doc is None:
                            held.append(before)  # rejected after the last document: placed last
                            break
                    if cache is not None:
                        f = input_file(doc.source)
                        if batch and f != file:
                            pending = (doc, before)  # the next file's documents: the next batch
                            break
                        file = f
                    held.append(before)
                    batch.append(doc)
                    size += len(doc.text)
                outs = self._through_batch(batch, segment, reports, cache)
                for k, out in enumerate(outs):
                    rejected.extend(held[k])
                    del unplaced[:len(held[k])]
                    if isinstance(out, Rejection):
                        rejected.append(Outcome(batch[k].id, batch[k].source, Status.REJECTED, reason=str(out)))
                    else:
                        yield out
                if len(held) > len(batch):  # the input ended
                    rejected.extend(held[-1])
                    del unplaced[:len(held[-1])]
                    return
        finally:
            rejected.extend(unplaced)  # stopped early (an error, or the consumer closed the stream)

    def segment_cache(self, index: int, root: str | None, read: bool = True) -> StageCache | None:
        return None if root is None else StageCache(root, self.segments[index], read)

    def run(
        self,
        items: Iterable[Document | RejectedInput],
        workdir: Path,
        progress: Progress | None = None,
        cache: str | None = None,
        full: bool = False,
    ) -> RunResult:
        """The whole per-document part of a run, sequentially, spilling where a stage must fit.
        ``cache``: the store whose per-document results are reused (none when ``full``)."""
        workdir.mkdir(parents=True, exist_ok=True)
        reports = self.new_reports()
        rejected: list[Outcome] = []
        work = Work()
        caches: list[StageCache] = []
        stream: Iterable[Document] = self.admit(items, reports, rejected)
        for k, segment in enumerate(self.segments):
            if segment and segment[0].needs_corpus:
                path = spill(stream, workdir / f"spill-{k}.jsonl", progress, f"reading for {segment[0].name}")
                self.fit_segment(k, lambda path=path: read_documents(path), reports, cache, not full, work)
                stream = read_documents(path)
            c = self.segment_cache(k, cache, not full)
            if c is not None:
                caches.append(c)
            stream = self.apply_segment(k, stream, reports, rejected, c)
        final = spill(stream, workdir / "documents.jsonl", progress, "cleaning")
        for c in caches:
            work.merge(c.work)
        return RunResult(final, rejected, reports, reports["ingest"].seen, work)

    def _through_batch(self, docs: list[Document], stages: list[Stage], reports, cache: StageCache | None = None,
                       observe: list[Callable[[Stage, Document | Rejection, Any, bool], None]] | None = None,
                       ) -> list[Document | Rejection]:
        """``_through`` for several documents, a stage at a time over all of them (so that each
        stage's working set stays in the CPU's caches: ``_batched``); ``observe``: one callback
        per document. Each document meets the same stages in the same order and each stage the
        documents in their order: the same calls as one document at a time, so the same results."""
        outs: list[Document | Rejection] = list(docs)
        for stage in stages:
            one = [stage]
            for i, d in enumerate(outs):
                if not isinstance(d, Rejection):
                    outs[i] = self._through(d, one, reports, cache, observe[i] if observe is not None else None)
        return outs

    def _through(self, doc: Document, stages: list[Stage], reports, cache: StageCache | None = None,
                 observe: Callable[[Stage, Document | Rejection, Any, bool], None] | None = None) -> Document | Rejection:
        """``doc`` through ``stages``; with a ``cache``, the stages it covers reuse their stored
        results; ``observe(stage, out, reads, reused)`` sees each stage's result (reads: what the
        stage read of its statistics, recorded when ``observe`` is given)."""
        for stage in stages:
            rep = reports.setdefault(stage.name, StageReport(stage.name))
            rep.seen += 1
            t0 = time.perf_counter()
            cached = cache is not None and cache.covers(stage)
            key = cache.key(stage, doc) if cached else ""
            hit = cache.get(stage, doc, key) if cached else None
            reads: Any = None
            if hit is not None:
                out = hit
            else:
                try:
                    with time_limit(self.limits.max_stage_seconds):
                        out, reads = (stage.apply_recorded(doc) if cached or observe is not None
                                      else (stage.apply(doc), None))
                except TimeLimitExceeded:
                    if self.fail_fast:
                        raise
                    out, reads = Rejection(stage.name, "time limit", f"over {self.limits.max_stage_seconds:g} s on one document"), UNCACHEABLE
                except RecursionError:
                    if self.fail_fast:
                        raise
                    out = Rejection(stage.name, "too deeply nested to process")
                except Exception as exc:  # a bad document must not stop the run; say what happened
                    if self.fail_fast:
                        raise
                    out = Rejection(stage.name, "stage error", describe_error(exc))
                if cached:
                    cache.put(stage, doc, key, out, reads)
            if observe is not None:
                observe(stage, out, reads, hit is not None)
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


def guarded_partial_fit(
    stage: Stage, docs: Callable[[], Iterable[Document]], seconds: float, fail_fast: bool = False
) -> tuple[Any, dict[str, str]]:
    """``stage.partial_fit`` over ``docs()``, each document's share under the time limit. A
    document the fit fails on (any exception, the time limit) is left out of the statistics and
    the fit starts again without it; the result is exactly the statistics of the other documents
    (one extra pass per such document, which should be rare: it got through every earlier
    stage). The documents stay in the run; ``apply`` decides their fate. Returns the statistics
    and {document id: why it was left out}."""
    skipped: dict[str, str] = {}
    while True:
        current: list[Document] = []
        stream = _each_timed(docs(), seconds, skipped, current)
        try:
            return stage.partial_fit(stream), skipped
        except (Exception, TimeLimitExceeded) as exc:
            if fail_fast or not current or current[0].id in skipped:
                raise
            why = (f"time limit: over {seconds:g} s" if isinstance(exc, TimeLimitExceeded)
                   else describe_error(exc))
            skipped[current[0].id] = f"fit failed: {why}"
        finally:
            stream.close()  # disarms the time limit of a document the fit stopped on


def _each_timed(docs: Iterable[Document], seconds: float, skip: dict[str, str], current: list[Document]) -> Iterator[Document]:
    """The documents not in ``skip``; the consumer's work on each runs under the time limit
    (the limit spans the ``yield``), and ``current`` names the one being worked on."""
    for doc in docs:
        if doc.id in skip:
            continue
        current[:] = [doc]
        with time_limit(seconds):
            yield doc
    current.clear()


def _segments(stages: list[Stage]) -> list[list[Stage]]:
    segments: list[list[Stage]] = []
    for s in stages:
        if not segments or s.needs_corpus:
            segments.append([s])
        else:
            segments[-1].append(s)
    return segments or [[]]


def spill(stream: Iterable[Document], path: Path, progress: Progress | None = None, phase: str = "") -> Path:
    """Write documents, edits included, one JSON record a line. A scratch file between passes:
    it must give back exactly what went in, so unpaired surrogates pass through (the strict
    output is written by the store); records.py is the codec."""
    with scratch.open_file(path, "wb") as fh:  # local or s3://
        for doc in stream:
            fh.write(encode_record(doc))
            fh.write(b"\n")
            if progress:
                progress(phase, 1)
    return path


def read_documents(path: Path) -> Iterator[Document]:
    """Documents (with edits) from a spill file."""
    with scratch.open_file(path, "rb") as fh:
        for line in fh:
            yield decode_record(line)
