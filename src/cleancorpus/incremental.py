"""Per-document reuse across versions: a run recomputes what changed, exactly.

A stage's result for a document is a function of (1) the document as it enters the stage (its
text, metadata, earlier edits, id and source), (2) the stage's options and the package's code,
and (3) for a stage fitted on the corpus, the part of the corpus statistics the stage *read*
for that document. The cache keeps, per stage and input document, the stage's result (the
edits it added and the metadata after it, or the rejection) under a key made of (1) and (2),
with a record of (3) made while the stage ran (``Stage.apply_recorded``). A later run reuses
the result when the key matches and every recorded read gives the same answer under the new
statistics (``Stage.reads_hold``); otherwise it runs the stage again. What each stage reads:

- boilerplate: for each distinct line of the document, whether that line is frequent in the
  corpus (in at least ``min_docs_in_corpus`` documents). A document is recomputed only when one
  of its own lines crosses that threshold.
- spelling: whether the corpus statistics were empty, and, for each word the stage looked up
  (unknown words, capitalised correction targets), whether its corpus count reaches
  ``protect_min_count`` and ``min_corpus_target``: the only two comparisons the stage makes.
  A document is recomputed only when one of the words it looked up crosses one of them.
- spun: what its decoder read (spunreads.py): the language model's log probabilities
  (quantised to 1/128 nat) of the word pairs inside the islands around its candidate swaps (a
  sentence is decoded island by island, so the text between them is not read), the
  corpus-lexicon entries of the words it looked up, and the proper-name pairs it checked. The
  log probabilities may move within budgets that provably keep the output: each island's best
  path stays the best, the spin score stays in its reported cell (2 decimals) and on its side of
  the threshold, a sentence's evidence on its side of its threshold, a repair's confidence in
  its cell of 0.01. A document is recomputed only when a budget is exceeded, a word it looked
  up gets other corpus-lexicon entries (an entry's provenance counts only where an edit's
  reason shows it), or a word it contains newly gets some; the stages after it reuse their
  results when its spun output is the same.
- the other stages read no statistics: same input, same options and code, same result.

A pass (one segment of stages over a shard) does not even look at most documents: its stored
result per (segment, input file), ``SegmentFiles`` below, gives each unchanged document's output
line, rejection and report counts from the digest of its input line, after the segment head's
reads are checked; an unchanged input file is recognised by one digest. Only the other documents
are parsed and go through the stages, where the per-stage entries (``StageCache``, kept for the
stages after a segment's head) still apply.

Fits are reused the same way: each input file's documents, as they enter a corpus stage, are
counted in units whose statistics are kept with a digest of the unit's lines (and of what the fit
reads of its documents), and the stage's total statistics with the digest of every unit they hold
(``lines_units``, ``merged_total``): a run reads only the changed units' entries and updates the
total by them (exact integer arithmetic, fittotal.py), so the fitted statistics are those of a
full count.

The cache lives next to the tables (``<store>/_cache/``, through fsspec: on S3 too when the
store is there). Entries are content-addressed, so a stale or foreign entry can only miss,
never give a wrong result; ``--full`` ignores what is stored and recomputes everything (and
refreshes the cache). Scores of the time limit are not cached: a document a stage timed out on
is tried again next run.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import json
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from .document import Document, Edit, Rejection
from . import fittotal
from .records import decode_record

CACHE_DIR = "_cache"
FIT_CHUNK = 2048  # documents per counted chunk of an input file: bounds the memory a chunk takes


def doc_digest(doc: Document) -> str:
    # key order kept (not sorted): it is part of what a run writes, so it is part of the key
    blob = json.dumps(doc.to_record(), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def _without_before(edit: Edit, doc: Document) -> dict[str, Any]:
    """An edit as cached: without its original when the stage's input gives it back (always,
    for edits made by ``Document.revise``, and for the pii stage's edits of metadata values),
    so the cache holds no text the pii stage redacted (nor the cut boilerplate that held an
    address): README "Personal data"."""
    d = edit.to_dict()
    if _spanned(doc, edit.field)[edit.start:edit.end] == edit.before:
        del d["before"]
    return d


def _with_before(d: dict[str, Any], doc: Document) -> dict[str, Any]:
    return d if "before" in d else {**d, "before": _spanned(doc, d.get("field"))[d["start"]:d["end"]]}


def _metadata_entry(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """A stage's output metadata as cached: only the keys it set or changed, when the others are
    the input's in the input's order (what ``get`` rebuilds); so no stage's entry holds a value
    a later stage redacts (pii on an HTML title). Else, whole."""
    changed = {}
    for k, v in after.items():
        if k in before:
            b = before[k]
            if b is v:  # a key the stage did not touch: the same object (Document.revise merges)
                continue
            if type(b) is type(v) and b == v:  # equal, and for containers equal as JSON too (1 vs 1.0)
                try:
                    if not isinstance(v, (dict, list)) or json.dumps(b) == json.dumps(v):
                        continue
                except (TypeError, ValueError):
                    return {"metadata": after}
        changed[k] = v
    if list({**before, **changed}) != list(after):  # a key removed or moved
        return {"metadata": after}
    return {"metadata_set": changed}


def _spanned(doc: Document, field: str | None) -> str:
    """What an edit's span indexes in the stage's input: the text, or a metadata value."""
    if field is None:
        return doc.text
    from .document import pointer_get

    value = pointer_get(doc.metadata, field)
    return value if isinstance(value, str) else ""


def _id_text_digest(doc: Document) -> str:
    """What a fit that reads only ids and texts depends on (``Stage.fit_reads == "text"``): a
    chunk of such a stage is not recounted when only its documents' metadata changed."""
    blob = json.dumps([doc.id, doc.text], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def stage_fingerprint(stage: Any) -> str:
    return options_fingerprint(stage.name, stage.options)


def options_fingerprint(name: str, options: Any) -> str:
    from .api import package_fingerprint

    opts = dataclasses.asdict(options) if dataclasses.is_dataclass(options) else repr(options)
    blob = json.dumps([name, opts, package_fingerprint()], sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def sweep(root: str, keep_dirs: set[str], keep_files: set[str]) -> int:
    """Remove what no later run can use: entries of other configurations or code (directories
    not in ``keep_dirs``, e.g. "stages/spun-<fingerprint>") and of input files no longer in
    the inputs (file keys not in ``keep_files``). Returns the number of files removed. Stored
    results are a cache: removing them costs recomputation, never correctness."""
    files = _Files(root)
    removed = 0
    for kind in ("stages", "fits", "dedup", SEGMENT_DIR, PUBLISH_DIR):
        try:
            dirs = files.fs.ls(f"{files.base}/{kind}", detail=False)
        except FileNotFoundError:
            continue
        for d in dirs:
            name = f"{kind}/{d.rstrip('/').rsplit('/', 1)[-1]}"
            entries = files.fs.ls(d, detail=False)
            for e in entries:
                base = e.rsplit("/", 1)[-1]
                # dedup's verified pairs, a fit's memo and its total statistics: one per store
                per_file = base not in ("pairs.npz", FIT_MEMO, FIT_TOTAL, FIT_TOTAL_KEYS)
                if name not in keep_dirs or per_file and base.split(".", 1)[0].split("-", 1)[0] not in keep_files:
                    files.fs.rm(e)
                    removed += 1
            if name not in keep_dirs:
                try:
                    files.fs.rmdir(d)
                except (OSError, NotImplementedError):
                    pass  # object stores have no directories to remove
    return removed


def file_key(relpath: str) -> str:
    return hashlib.sha256(relpath.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def input_file(source: str) -> str:
    """The input file of a source: "part.jsonl:12" -> "part.jsonl", "a.txt" -> "a.txt"."""
    head, sep, tail = source.rpartition(":")
    return head if sep and tail.isdigit() else source


@dataclass
class Work:
    """What a run reused and recomputed, per stage (documents) and per fit (chunks)."""

    reused: dict[str, int] = field(default_factory=dict)
    recomputed: dict[str, int] = field(default_factory=dict)
    fit_reused: dict[str, int] = field(default_factory=dict)
    fit_recomputed: dict[str, int] = field(default_factory=dict)
    # why documents were recomputed, per stage: "input" (new or edited input, or an earlier
    # stage's output changed), or the first stored read that no longer holds (Stage.miss_cause)
    causes: dict[str, dict[str, int]] = field(default_factory=dict)

    def merge(self, other: "Work") -> None:
        for mine, theirs in ((self.reused, other.reused), (self.recomputed, other.recomputed),
                             (self.fit_reused, other.fit_reused), (self.fit_recomputed, other.fit_recomputed)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        for name, counts in other.causes.items():
            mine = self.causes.setdefault(name, {})
            for k, v in counts.items():
                mine[k] = mine.get(k, 0) + v

    def cause(self, stage: str, why: str) -> None:
        counts = self.causes.setdefault(stage, {})
        counts[why] = counts.get(why, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        names = list(dict.fromkeys([*self.recomputed, *self.reused]))
        out: dict[str, Any] = {n: {"recomputed": self.recomputed.get(n, 0), "reused": self.reused.get(n, 0)}
                               for n in names}
        for n in dict.fromkeys([*self.fit_recomputed, *self.fit_reused]):
            out.setdefault(n, {}).update(fit_chunks_recounted=self.fit_recomputed.get(n, 0),
                                         fit_chunks_reused=self.fit_reused.get(n, 0))
        for n, counts in self.causes.items():
            if n in out:
                out[n]["why_recomputed"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    @property
    def documents_recomputed(self) -> int:
        """Documents that went through at least one stage again: the largest stage count."""
        return max(self.recomputed.values(), default=0)

    def documents_from_scratch(self, first_stage: str | None) -> int:
        """Documents that went through every stage again (new or changed inputs): the count of
        the first stage, which reads no statistics."""
        return self.recomputed.get(first_stage, 0) if first_stage else 0


class _Files:
    """Blob files under ``<root>/_cache`` through fsspec (local path or s3://...)."""

    def __init__(self, root: str) -> None:
        import fsspec

        self.fs, base = fsspec.core.url_to_fs(str(root), use_listings_cache=False)
        self.base = f"{base.rstrip('/')}/{CACHE_DIR}"

    def read(self, rel: str) -> bytes | None:
        try:
            with self.fs.open(f"{self.base}/{rel}", "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def write(self, rel: str, data: bytes) -> None:
        path = f"{self.base}/{rel}"
        parent = path.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{path}.tmp"
        with self.fs.open(tmp, "wb") as fh:
            fh.write(data)
        self.fs.mv(tmp, path)


class StageCache:
    """The stored results of a segment's stages for the documents of one input file at a time.

    Documents arrive in input-file order (every pass keeps it); when the file changes, the
    previous file's entries (the ones this run used or made) are written back if they differ
    from what was stored, and the next file's are loaded. ``read=False`` (``--full``) starts
    every file empty: everything is recomputed and the cache refreshed.
    """

    def __init__(self, root: str, stages: Sequence[Any], read: bool = True) -> None:
        self.files = _Files(root)
        self.read = read
        self.fps = {s.name: stage_fingerprint(s) for s in stages}
        self.work = Work()
        self._file: str | None = None
        self._stored: dict[str, dict[str, Any]] = {}
        self._used: dict[str, dict[str, Any]] = {}
        self._partial: set[str] = set()  # files some of whose documents were reused whole (SegmentFiles)

    def covers(self, stage: Any) -> bool:
        return stage.name in self.fps

    def partial(self, relpath: str) -> None:
        """Some documents of ``relpath`` were reused from their segment entry and never asked
        for here: their stored entries are kept when the file's entry is rewritten (so are those
        of edited documents' old versions, until a run recomputes the whole file: bytes, never a
        wrong result, since entries are content-addressed)."""
        self._partial.add(relpath)

    def _switch(self, relpath: str) -> None:
        if relpath == self._file:
            return
        self.flush()
        self._file = relpath
        self._stored = {n: (self._load(n, relpath) if self.read else {}) for n in self.fps}
        self._used = {n: {} for n in self.fps}

    def _rel(self, name: str, relpath: str) -> str:
        return f"stages/{name}-{self.fps[name]}/{file_key(relpath)}.json.gz"

    def _load(self, name: str, relpath: str) -> dict[str, Any]:
        data = self.files.read(self._rel(name, relpath))
        if data is None:
            return {}
        try:
            got = json.loads(unpack_blob(data).decode("utf-8", "surrogatepass"))
        except Exception:  # noqa: BLE001
            return {}  # a damaged entry file is a miss, never an error
        return got.get("entries", {}) if got.get("file") == relpath else {}

    def flush(self) -> None:
        if self._file is None:
            return
        for name, used in self._used.items():
            stored = self._stored.get(name) or {}
            if self._file in self._partial:
                if not used.keys() - stored.keys():
                    continue  # nothing new; what is stored stays
                used = {**stored, **used}
            if used != stored:
                # not sort_keys: metadata's key order is part of the result, byte for byte
                blob = json.dumps({"file": self._file, "entries": used}, ensure_ascii=False)
                self.files.write(self._rel(name, self._file), pack_blob(blob.encode("utf-8", "surrogatepass")))
        self._file = None
        self._stored, self._used = {}, {}

    def get(self, stage: Any, doc: Document, key: str) -> Document | Rejection | None:
        self._switch(input_file(doc.source))
        entry = self._stored[stage.name].get(key)
        if entry is None:
            self.work.cause(stage.name, "input" if self.read else "full run")
            return None
        why = stage.miss_cause(entry.get("reads"), doc)
        if why is not None:
            self.work.cause(stage.name, why)
            return None
        self._used[stage.name][key] = entry
        self.work.reused[stage.name] = self.work.reused.get(stage.name, 0) + 1
        if "rejected" in entry:
            r = entry["rejected"]
            return Rejection(r["stage"], r["reason"], r["detail"])
        edits = tuple(Edit.from_dict(_with_before(e, doc)) for e in entry["edits"])
        text = doc.text
        if any(e.field is None for e in edits):
            from .document import apply_edits, text_edits

            text = apply_edits(doc.text, text_edits(edits))
        metadata = entry["metadata"] if "metadata" in entry else {**doc.metadata, **entry["metadata_set"]}
        return Document(doc.id, text, doc.source, metadata, doc.edits + edits)

    def put(self, stage: Any, doc: Document, key: str, out: Document | Rejection, reads: Any) -> None:
        self._switch(input_file(doc.source))
        self.work.recomputed[stage.name] = self.work.recomputed.get(stage.name, 0) + 1
        if reads is _UNCACHEABLE:
            return
        if isinstance(out, Rejection):
            entry: dict[str, Any] = {"rejected": {"stage": out.stage, "reason": out.reason, "detail": out.detail}}
        else:
            if out.id != doc.id or out.source != doc.source or out.edits[:len(doc.edits)] != doc.edits:
                return  # not the shape the cache rebuilds: never reused
            entry = {"edits": [_without_before(e, doc) for e in out.edits[len(doc.edits):]],
                     **_metadata_entry(doc.metadata, out.metadata)}
        if reads is not None:
            entry["reads"] = reads
        try:
            json.dumps(entry, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return  # metadata JSON cannot hold exactly: not cached
        self._used[stage.name][key] = entry

    def key(self, stage: Any, doc: Document) -> str:
        return hashlib.sha256(f"{self.fps[stage.name]}\0{doc_digest(doc)}".encode()).hexdigest()


_UNCACHEABLE = object()  # the result depended on the moment (a time limit): never stored
UNCACHEABLE = _UNCACHEABLE


# -- fits ------------------------------------------------------------------------------------
def chunks_by_file(docs: Iterable[Document], size: int = FIT_CHUNK) -> Iterator[tuple[str, int, list[Document]]]:
    """(input file, chunk number, documents): consecutive documents of one file, at most ``size``."""
    current: list[Document] = []
    relpath, k = None, 0
    for doc in docs:
        f = input_file(doc.source)
        if f != relpath or len(current) >= size:
            if current:
                yield relpath, k, current  # type: ignore[misc]
            k = k + 1 if f == relpath else 0
            relpath, current = f, []
        current.append(doc)
    if current:
        yield relpath, k, current  # type: ignore[misc]


def cached_partial_fit(
    stage: Any, docs: Callable[[], Iterable[Document]], fit: Callable[[Callable[[], Iterable[Document]]], tuple[Any, dict]],
    root: str | None, read: bool, work: Work | None = None,
) -> tuple[Any, dict[str, str]]:
    """``fit`` (a guarded partial fit) over ``docs()``, chunk by chunk of each input file, the
    statistics of a chunk whose documents are unchanged taken from the cache; the merged
    result equals one partial fit over the whole stream (``merge_stats`` is exact)."""
    if root is None:
        return fit(docs)
    files = _Files(root)
    fp = stage_fingerprint(stage)
    parts: list[Any] = []
    skipped: dict[str, str] = {}
    for relpath, k, chunk in chunks_by_file(docs()):
        h = hashlib.sha256()
        text_only = getattr(stage, "fit_reads", "document") == "text"
        for d in chunk:
            h.update(_id_text_digest(d).encode() if text_only else doc_digest(d).encode())
        digest = h.hexdigest()
        rel = f"fits/{stage.name}-{fp}/{file_key(relpath)}-{k:05d}.pickle.gz"
        got = None
        if read:
            got = _read_entry(files, rel, relpath)
            if got is not None and got.get("digest") != digest:
                got = None
        if got is None:
            stats, skip = fit(lambda chunk=chunk: iter(chunk))
            got = {"file": relpath, "digest": digest, "stats": stats, "skipped": skip}
            if not any(why.startswith("fit failed: time limit") for why in skip.values()):
                _write_entry(files, rel, got)  # a time limit depends on the moment: such a count is not kept
            if work is not None:
                work.fit_recomputed[stage.name] = work.fit_recomputed.get(stage.name, 0) + 1
        elif work is not None:
            work.fit_reused[stage.name] = work.fit_reused.get(stage.name, 0) + 1
        parts.append(got["stats"])
        skipped.update(got["skipped"])
        if len(parts) >= 8:
            parts = [stage.merge_stats(parts)]
    if not parts:
        return fit(lambda: iter(()))
    return stage.merge_stats(parts), skipped


# -- whole segments per input file -----------------------------------------------------------
# A pass runs one segment (the stages between two fits) over its documents; its result for one
# input document is a function of the document as it enters the segment (one spill line, the
# bytes ``records.encode_record(doc)``), the segment's stages' options and
# the code, and what the segment's head (the only stage of it that reads corpus statistics)
# read. A ``SegmentFiles`` entry holds, per (segment, input file), each document's result:
# the digest of its input line, its output line (or its rejection), the head's reads and what
# it adds to the stage reports. A document whose input line and reads still hold is written
# out from the entry as it is: not parsed, not digested, not run through any stage; an input
# file whose lines are all unchanged is recognised by one digest of its bytes. (For the first
# pass the input is the raw file: its digest, with the ingest options, keys the whole file's
# ingest and segment results.) Only the other documents go through the stages; in a segment
# of several stages, those after the head still reuse their per-stage entries (StageCache).
SEGMENT_DIR = "files"


def line_digest(line: bytes) -> bytes:
    return hashlib.sha256(line).digest()[:16]


def segment_dir(tag: str, fingerprints: Sequence[str]) -> str:
    """The entry directory of a segment: its stages' fingerprints (options and code) and, for
    the first pass, what ingest depends on (``tag``)."""
    blob = json.dumps([tag, list(fingerprints)], sort_keys=True)
    return f"{SEGMENT_DIR}/seg-{hashlib.sha256(blob.encode()).hexdigest()[:24]}"


def ingest_tag(config: Any) -> str:
    """What ingest's result for a file depends on besides its bytes and the code: the limits,
    the input fields, and whether unpaired surrogates are repaired or rejected at admission."""
    d = config.to_dict()
    return json.dumps({"limits": d["limits"], "input": d["input"], "unicode": "unicode" in config.stages},
                      sort_keys=True)


def segment_dirs(config: Any) -> set[str]:
    """Every entry directory a run with ``config`` uses (what ``sweep`` keeps)."""
    from .stages import REGISTRY

    opts = config._resolved
    cuts: list[list[str]] = []
    for name in config.stages:
        if not cuts or REGISTRY[name].needs_corpus:
            cuts.append([name])
        else:
            cuts[-1].append(name)
    out = set()
    tag = ingest_tag(config)
    start = 0
    for i, names in enumerate(cuts or [[]]):
        fps = [options_fingerprint(n, opts[n]) for n in names]
        form = entry_form(config, start)
        out.add(segment_dir(form, fps))
        if i == 0:
            out.add(segment_dir(form + tag, fps))
            out.add(segment_dir(form + tag, []))  # an ingest-only first pass (the first stage fits)
        start += len(names)
    return out


class _Same(str):
    """A stored output equal to the input line, byte for byte (``SAME``): written as it came,
    whatever the entry form. A str, so it survives pickling; ``is`` holds after a load because
    ``__reduce__`` gives the one instance back."""

    def __reduce__(self):
        return (_same, ())


def _same() -> "_Same":
    return SAME


SAME = _Same("same as the input line")


@dataclass
class DocResult:
    """One input document's result in a segment, as stored."""

    digest: bytes  # of its input line
    out: Any  # its output (None: rejected): a line, splice parts or a delta (entry_form)
    reads: Any  # what the segment's head read (JSON-able), None when it reads nothing
    path: tuple[int, ...]  # edits each stage it passed added
    rejected: dict[str, Any] | None = None  # {"stage", "reason", "outcome"} when rejected

    def pack(self) -> tuple:
        return (self.digest, self.out, self.reads, self.path, self.rejected)


class SegmentFiles:
    """The stored ``DocResult``s of one segment, one entry file per input file (see above)."""

    def __init__(self, root: str, directory: str, read: bool = True) -> None:
        self.files = _Files(root)
        self.dir, self.read = directory, read

    def _rel(self, relpath: str) -> str:
        return f"{self.dir}/{file_key(relpath)}.pickle.gz"

    def load(self, relpath: str) -> dict[str, Any] | None:
        if not self.read:
            return None
        got = _read_entry(self.files, self._rel(relpath), relpath)
        try:
            if got is not None:
                got["docs"] = [DocResult(*d) for d in got["docs"]]
            return got
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never an error
            return None

    def save(self, relpath: str, key: str, docs: list[DocResult], extra: dict[str, Any] | None = None) -> None:
        entry = {"file": relpath, "key": key, "docs": [d.pack() for d in docs], **(extra or {})}
        _write_entry(self.files, self._rel(relpath), entry)


def jsonable(reads: Any) -> Any:
    """``reads`` as a JSON round trip gives them back (what ``reads_hold`` was written for),
    or UNCACHEABLE when JSON cannot hold them exactly."""
    if reads is None:
        return None
    try:
        return json.loads(json.dumps(reads, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError):
        return _UNCACHEABLE


class LazyDocument:
    """A spill line parsed only if something reads it (``reads_hold`` rarely needs the text)."""

    __slots__ = ("_line", "_doc")

    def __init__(self, line: bytes) -> None:
        self._line, self._doc = line, None

    def get(self) -> Document:
        if self._doc is None:
            self._doc = decode_record(self._line)
        return self._doc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


FIT_UNIT = 32  # documents per counted unit of lines_fit: an edit recounts this many, not its whole file


@dataclass
class UnitStats:
    """One shard's statistics for a corpus stage by unit of ``FIT_UNIT`` consecutive documents
    of an input file (``lines_units``), in input order: (unit entry, digest of its lines,
    statistics, skipped documents, whether they may be kept, what the unit held before). A unit
    the stored total holds with the same lines (``total_id`` names that total) comes without
    statistics (None); a unit the total holds with other lines comes with the old statistics
    it read from the unit's entry before replacing it, as (old digest, statistics), or
    ``LOST`` when the entry no longer held them."""

    total_id: str | None
    units: list[tuple[str, str, Any, dict[str, str] | None, bool, Any]]
    # when no unit came from the total (a first or --full run): the units' merged statistics,
    # and each unit's own are dropped (MERGED), so a shard's result is the size of one total
    merged: Any = None


LOST = "lost"  # a changed unit's old statistics could not be read: the stored total is not used
MERGED = "merged"  # the unit's statistics are in its shard's ``merged``


def lines_fit(
    stage: Any, groups: Iterable[tuple[str, list[bytes]]],
    fit: Callable[[Callable[[], Iterable[Document]]], tuple[Any, dict]],
    root: str, read: bool, work: Work | None = None,
) -> tuple[Any, dict[str, str]]:
    """The stage's statistics of spill lines grouped by input file (in order) and the
    documents the fit skipped: ``lines_units`` and ``merged_total`` in one process."""
    groups = list(groups)
    got = merged_total(stage, [lines_units(stage, groups, fit, root, read, work)], root, read)
    if got is None:  # the stored total could not be used: every unit from its entry
        got = merged_total(stage, [lines_units(stage, groups, fit, root, read, work, use_total=False)], root, read)
    assert got is not None
    return got


def lines_units(
    stage: Any, groups: Iterable[tuple[str, list[bytes]]],
    fit: Callable[[Callable[[], Iterable[Document]]], tuple[Any, dict]],
    root: str, read: bool, work: Work | None = None, use_total: bool = True,
) -> UnitStats:
    """The statistics of spill lines grouped by input file (in order), by unit of ``FIT_UNIT``
    consecutive documents of a file, from stored counts where the lines are unchanged. A unit
    the stored total of the stage's statistics holds with the same lines (``merged_total``)
    costs a digest of its lines: not even its entry is read. Any other unit is read from its
    entry or recounted when its documents changed (a unit whose lines changed but not what the
    fit reads, e.g. metadata for a text-only fit, is parsed and kept). ``use_total=False``:
    every unit comes with its statistics (what a run without a usable total merges)."""
    files = _Files(root)
    fp = stage_fingerprint(stage)
    text_only = getattr(stage, "fit_reads", "document") == "text"
    prior = _read_entry(files, f"fits/{stage.name}-{fp}/{FIT_TOTAL_KEYS}", "total") if read and use_total else None
    held: dict[str, str] = prior["units"] if prior is not None and isinstance(prior.get("units"), dict) else {}
    out = UnitStats(prior["id"] if prior is not None and held else None, [])

    def count(name: str, n: int, recounted: bool) -> None:
        if work is not None:
            d = work.fit_recomputed if recounted else work.fit_reused
            d[name] = d.get(name, 0) + n

    # no unit from a total (a first or --full run, or the fallback): the units' statistics are
    # merged as they come, so that a shard holds one running total, not every unit's counts
    running: list[Any] = []
    pending: list[Any] = []

    def settle() -> None:
        if pending:
            running[:] = [stage.merge_stats([*running, *pending])]
            pending.clear()

    for relpath, lines in groups:
        base = f"fits/{stage.name}-{fp}/{file_key(relpath)}"
        for k in range(0, len(lines), FIT_UNIT):
            u = lines[k:k + FIT_UNIT]
            h = hashlib.sha256()
            for ln in u:
                h.update(line_digest(ln))
            ldigest = h.hexdigest()
            rel = f"{base}-u{k // FIT_UNIT:05d}.pickle.gz"
            was = held.get(rel)
            if was == ldigest:
                count(stage.name, 1, False)
                out.units.append((rel, ldigest, None, None, True, None))
                continue
            got = _read_entry(files, rel, relpath) if read else None
            old: Any = None
            if was is not None:
                old = (was, got["stats"]) if got is not None and got.get("lines") == was else LOST
            chunk: list[Document] | None = None
            digest = None
            if got is not None and got.get("lines") != ldigest:
                chunk = [decode_record(ln) for ln in u]
                digest = _chunk_digest(chunk, text_only)
                if got.get("digest") != digest:
                    got = None
                else:  # same statistics, other lines (what the fit does not read changed)
                    got = {**got, "lines": ldigest}
                    _write_entry(files, rel, got)
            ok = True
            if got is None:
                if chunk is None:
                    chunk = [decode_record(ln) for ln in u]
                    digest = _chunk_digest(chunk, text_only)
                stats, skip = fit(lambda chunk=chunk: iter(chunk))
                got = {"file": relpath, "digest": digest, "lines": ldigest, "stats": stats, "skipped": skip}
                # a time limit depends on the moment: such a count is not kept
                if any(why.startswith("fit failed: time limit") for why in skip.values()):
                    ok = False
                else:
                    _write_entry(files, rel, got)
                count(stage.name, 1, True)
            else:
                count(stage.name, 1, False)
            if held:
                out.units.append((rel, ldigest, got["stats"], got["skipped"], ok, old))
            else:
                out.units.append((rel, ldigest, MERGED, got["skipped"], ok, None))
                pending.append(got["stats"])
                if len(pending) >= MERGE_UNITS:
                    settle()
    if not held and out.units:
        settle()
        out.merged = running[0]
    return out


MERGE_UNITS = 32  # units' statistics merged at once into a shard's running total


FIT_TOTAL = "total.pickle.gz"  # the stage's total statistics and the units it holds
FIT_TOTAL_KEYS = "total-keys.pickle.gz"  # the same total's id and units' digests (read by every shard)


def merged_total(stage: Any, shards: Sequence[UnitStats], root: str | None, read: bool
                 ) -> tuple[Any, dict[str, str]] | None:
    """The statistics of every unit of every shard (in order) and the documents the fit
    skipped, or None when a unit comes without statistics and the stored total cannot be used
    (missing, damaged, another run's, or a changed unit's old statistics are lost): the caller
    then asks the shards for every unit (``lines_units(use_total=False)``).

    Every unit with statistics: their merge (``merge_stats``). Else the stored total, less
    the units it holds that changed (their old statistics, which the shards read before
    replacing their entries) or that this run does not have (read from their entries), plus the
    units that changed or are new: exact integer arithmetic (``fittotal``), the statistics a
    merge gives. The new total is stored with its units' digests unless a unit's count hit a
    time limit (then the next run starts from the previous total, which stays consistent)."""
    units = [u for s in shards for u in s.units]
    files = _Files(root) if root is not None else None
    fp = stage_fingerprint(stage)
    skipped: dict[str, str] = {}
    held_skipped: dict[str, dict[str, str]] = {}
    if any(st is None for _, _, st, _, _, _ in units):
        ids = {s.total_id for s in shards if any(u[2] is None for u in s.units)}
        if files is None or len(ids) != 1 or None in ids:
            return None
        tot = _read_entry(files, f"fits/{stage.name}-{fp}/{FIT_TOTAL}", "total")
        if tot is None or tot.get("id") != ids.pop() or not fittotal.supported(tot.get("stats")):
            return None
        total, held = tot["stats"], tot["units"]  # rel -> (digest, skipped)
        now = {rel for rel, *_ in units}
        minus, plus = [], []
        for rel, (was, _) in held.items():
            if rel not in now:  # a unit no longer there (its file was removed or shortened)
                gone = _read_entry(files, rel, None, any_file=True)
                if gone is None or gone.get("lines") != was:
                    return None
                minus.append(gone["stats"])
        for rel, ldigest, st, _, _, old in units:
            if st is None:
                continue
            if isinstance(st, str):  # MERGED
                return None
            if rel in held:
                if held[rel][0] == ldigest:
                    continue  # held already (a shard that did not read the keys)
                if old is None or old == LOST or old[0] != held[rel][0]:
                    return None
                minus.append(old[1])
            plus.append(st)
        try:
            total = fittotal.update(total, minus, plus)
        except ValueError:  # the total does not hold what its list says: not used
            return None
        if not fittotal.exact(total):
            return None
        held_skipped = {rel: skip for rel, (_, skip) in held.items()}
    else:
        parts = [st for s in shards for st in ([s.merged] if s.merged is not None else [u[2] for u in s.units])]
        total = stage.merge_stats(parts) if parts else None
    for rel, _, _, skip, _, _ in units:
        skipped.update(held_skipped[rel] if skip is None else skip)
    if total is None:
        return None if units else (total, skipped)
    if files is not None and all(ok for _, _, _, _, ok, _ in units) and fittotal.supported(total) and fittotal.exact(total):
        tid = hashlib.sha256(json.dumps([[rel, d] for rel, d, *_ in units]).encode()).hexdigest()
        held = {rel: (d, held_skipped[rel] if skip is None else skip) for rel, d, _, skip, _, _ in units}
        # the total first, then its keys (what the shards read): a run stopped between the two
        # leaves keys naming the previous total's id, which no longer matches: a miss
        _write_entry(files, f"fits/{stage.name}-{fp}/{FIT_TOTAL}",
                     {"file": "total", "id": tid, "units": held, "stats": total})
        _write_entry(files, f"fits/{stage.name}-{fp}/{FIT_TOTAL_KEYS}",
                     {"file": "total", "id": tid, "units": {rel: d for rel, (d, _) in held.items()}})
    return total, skipped


# A corpus stage may keep a memo of its ``finish_fit`` for the next run (``fit_memo`` before,
# ``take_fit_memo`` after: spun's pair verdicts, by the two sketches' digests). Its entries are
# keyed by the content they were computed from, so a stale or damaged memo only costs time.
FIT_MEMO = "memo.pickle.gz"


def load_fit_memo(root: str, stage: Any) -> dict:
    got = _read_entry(_Files(root), f"fits/{stage.name}-{stage_fingerprint(stage)}/{FIT_MEMO}", "memo")
    return got["memo"] if got is not None and isinstance(got.get("memo"), dict) else {}


def save_fit_memo(root: str, stage: Any, memo: dict | None) -> None:
    if memo is not None:
        _write_entry(_Files(root), f"fits/{stage.name}-{stage_fingerprint(stage)}/{FIT_MEMO}", {"file": "memo", "memo": memo})


def _chunk_digest(chunk: list[Document], text_only: bool) -> str:
    h = hashlib.sha256()
    for d in chunk:
        h.update(_id_text_digest(d).encode() if text_only else doc_digest(d).encode())
    return h.hexdigest()


def _read_entry(files: _Files, rel: str, relpath: str | None, any_file: bool = False) -> dict[str, Any] | None:
    """A stored entry (a compressed pickle of a dict naming its input file, ``pack_blob``), or None when it is
    missing, damaged or another file's (``any_file``: whichever file it names): an entry can
    only miss, never fail a run."""
    data = files.read(rel)
    if data is None:
        return None
    try:
        got = pickle.loads(unpack_blob(data))
    except Exception:  # noqa: BLE001 - a damaged entry is a miss
        return None
    return got if isinstance(got, dict) and (any_file or got.get("file") == relpath) else None


def _write_entry(files: _Files, rel: str, got: dict[str, Any]) -> None:
    files.write(rel, pack_blob(pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL)))


# The entries' codec: zstd level 1 through pyarrow (already a dependency; Python 3.11 has no
# zstd module). Measured on this cache's segment entries against gzip level 1 (what was used
# before): 3.4x faster to compress, 3x faster to decompress, 12% smaller. A blob is
# ``_ZSTD_MAGIC``, the raw size (8 bytes, little endian) and one zstd frame; a blob starting
# with gzip's magic (an entry written before) is still read; it is rewritten in this codec
# whenever it is rewritten at all. The files keep their names (.gz): the first bytes tell the codec.
_ZSTD_MAGIC = b"\x00cce-zstd1"
_GZIP_MAGIC = b"\x1f\x8b"
ZSTD_LEVEL = 1


@functools.lru_cache(maxsize=1)
def _zstd() -> Any:
    import pyarrow as pa

    return pa.Codec("zstd", compression_level=ZSTD_LEVEL)


def pack_blob(raw: bytes) -> bytes:
    return b"".join((_ZSTD_MAGIC, len(raw).to_bytes(8, "little"), _zstd().compress(raw, asbytes=True)))


def unpack_blob(data: bytes) -> bytes:
    """The raw bytes of a stored blob (zstd, or gzip when written by an older version); raises
    on a damaged blob (callers count that as a miss)."""
    if data.startswith(_ZSTD_MAGIC):
        head = len(_ZSTD_MAGIC)
        size = int.from_bytes(data[head:head + 8], "little")
        raw = _zstd().decompress(memoryview(data)[head + 8:], decompressed_size=size, asbytes=True)
        if len(raw) != size:
            raise ValueError("a damaged blob")
        return raw
    if data.startswith(_GZIP_MAGIC):
        return gzip.decompress(data)
    raise ValueError("not a cache blob")


# -- what a segment entry may hold of a document ----------------------------------------------
# The cache must hold no personal data the pii stage redacts (README "Personal data"). A segment
# after the pii stage sees redacted text, but its documents' earlier edits carry the originals
# (pii's and any edit whose original held them): its entry keeps the output line *without* the
# edits the document came in with ("splice": they are copied from the input line when the line
# is written). A segment at or before the pii stage sees the text itself: its entry keeps only
# what the segment added, edits without an original its input gives back and the metadata
# ("delta"), and the output is rebuilt from the parsed input. Without the pii stage nothing is
# withheld and the entry keeps the output line ("line").
_EDITS_MARKS = (b',"edits":[', b', "edits": [')


def entry_form(config: Any, start: int) -> str:
    """The form of the entries of the segment starting at stage position ``start``."""
    if "pii" not in config.stages:
        return "line"
    return "splice" if config.stages.index("pii") < start else "delta"


def _edits_at(line: bytes) -> int | None:
    """Where the edits list's items start in a spill line (the record's last key: no string
    holds an unescaped quote, so the last match is the record's own)."""
    for mark in _EDITS_MARKS:  # records.py's compact lines, or json.dumps' (older entries)
        i = line.rfind(mark)
        if i >= 0:
            return i + len(mark) if line.endswith(b"]}") else None
    return None


def splice_parts(in_line: bytes, out_line: bytes) -> tuple[bytes, bytes] | None:
    """(output line up to its edits, the edits after the input's): what ``spliced`` needs to
    rebuild ``out_line`` from ``in_line``; None when the output does not extend the input's edits."""
    a, b = _edits_at(in_line), _edits_at(out_line)
    if a is None or b is None:
        return None
    inner = in_line[a:-2]
    if out_line[b:b + len(inner)] != inner:
        return None
    # the output's head (text and metadata) as the input's head with one span replaced: most
    # stages add a metadata key or change a few words, so the entry keeps that span, not the text
    head, out_head = in_line[:a], out_line[:b]
    pre = _common_prefix(head, out_head)
    suf = _common_prefix(head[pre:][::-1], out_head[pre:][::-1])
    parts = (pre, out_head[pre:len(out_head) - suf], suf, out_line[b + len(inner):-2])
    return parts if spliced(in_line, parts) == out_line else None


def _common_prefix(a: bytes, b: bytes) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # the longest equal prefix, by halving (slices compare in C)
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def spliced(in_line: bytes, parts: tuple) -> bytes:
    """The output line from the input line and ``splice_parts``: (output head, new edits), or
    (length of the input head's prefix kept, the span between, length of its suffix kept, new edits)."""
    a = _edits_at(in_line)
    if a is None:
        raise ValueError("not a spill line")
    if len(parts) == 2:
        return parts[0] + in_line[a:-2] + parts[1] + b"]}"
    pre, mid, suf, tail = parts
    return in_line[:pre] + mid + in_line[a - suf:a] + in_line[a:-2] + tail + b"]}"


def delta_of(doc: Document, out: Document) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """What a segment added to ``doc``: its edits without their originals, each given back by
    the text at its stage's input (a metadata value's by ``doc``'s metadata), and its metadata
    as ``_metadata_entry`` keeps it; None when ``out`` does not extend ``doc`` or an original
    would have to be kept (such a document is simply not stored)."""
    if out.id != doc.id or out.source != doc.source or out.edits[:len(doc.edits)] != doc.edits:
        return None
    from .document import apply_edits, text_edits

    at = doc
    dicts: list[dict[str, Any]] = []
    for group in _by_stage(out.edits[len(doc.edits):]):
        for e in group:
            d = _without_before(e, at)
            if "before" in d and d["before"] is not None:
                return None
            dicts.append(d)
        at = Document(doc.id, apply_edits(at.text, text_edits(group)), doc.source, doc.metadata)
    return (dicts, _metadata_entry(doc.metadata, out.metadata)) if at.text == out.text else None


def rebuilt(doc: Document, delta: tuple[list[dict[str, Any]], dict[str, Any]]) -> Document:
    from .document import apply_edits, text_edits

    dicts, meta = delta
    at, new = doc, []
    for group in _by_stage(dicts):
        edits = [Edit.from_dict(_with_before(d, at)) for d in group]
        at = Document(doc.id, apply_edits(at.text, text_edits(edits)), doc.source, doc.metadata)
        new += edits
    metadata = meta["metadata"] if "metadata" in meta else {**doc.metadata, **meta["metadata_set"]}
    return Document(doc.id, at.text, doc.source, metadata, doc.edits + tuple(new))


def _by_stage(edits: Sequence[Any]) -> Iterator[list[Any]]:
    """Consecutive edits of one stage (a stage's edits are in its input's coordinates)."""
    group: list[Any] = []
    for e in edits:
        stage = e["stage"] if isinstance(e, dict) else e.stage
        if group and stage != (group[0]["stage"] if isinstance(group[0], dict) else group[0].stage):
            yield group
            group = []
        group.append(e)
    if group:
        yield group


# -- the publish step's entries: per input file, what the version stores for its documents ------
# Publishing reads every document of the run to digest what the version stores for it (outcome,
# text, metadata, edits) and compare it with the parent's. For a spill line that is byte for
# byte one a previous run published, with the same duplicate decision, that digest is the one
# that run computed: the entry of the line's input file keeps it per line digest (with the
# private table's digest, the signals tally's record and the metadata fields the document adds
# to its table's layout), so the document is not parsed, digested or re-serialised; it is
# parsed only if its row must be written after all (the parent does not hold that digest).
# The directory is named by the configuration and the code (the withholding policy and every
# serialisation depend on them). An entry holds ids, sources, digests and counts: no text.
PUBLISH_DIR = "publish"


def publish_dir(config: Any, withholding: bool) -> str:
    """``withholding``: whether the run withholds originals (api.withhold_policy), which the
    published digests depend on."""
    return f"{PUBLISH_DIR}/pub-{options_fingerprint('publish', [config.to_dict(), withholding])}"


def spill_files(path: Any, layout: Sequence[tuple[str, int]]) -> Iterator[tuple[str, list[bytes]]]:
    """A spill's lines (newline included) one input file's at a time, by the run's layout."""
    from . import scratch

    with scratch.open_file(path, "rb") as fh:
        for relpath, count in layout:
            lines = [fh.readline() for _ in range(count)]
            if count and not lines[-1].endswith(b"\n"):
                raise RuntimeError(f"the spill {path} is shorter than its layout")
            yield relpath, lines
        if fh.read(1):
            raise RuntimeError(f"the spill {path} is longer than its layout")


def lines_key(lines: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for ln in lines:
        h.update(ln)
    return h.hexdigest()


class PublishFiles:
    """The publish step's entry per input file (see above)."""

    def __init__(self, root: str, directory: str, read: bool = True) -> None:
        self.files = _Files(root)
        self.dir, self.read = directory, read
        self.reused = self.computed = 0  # documents carried / parsed

    def _rel(self, relpath: str) -> str:
        return f"{self.dir}/{file_key(relpath)}.pickle.gz"

    def load(self, relpath: str) -> dict[bytes, tuple] | None:
        """The file's stored values by line digest: (id, source, duplicate decision, digest,
        private digest, tally record, metadata fields)."""
        if not self.read:
            return None
        got = _read_entry(self.files, self._rel(relpath), relpath)
        return got["lines"] if got is not None and isinstance(got.get("lines"), dict) else None

    def save(self, relpath: str, lines: dict[bytes, tuple]) -> None:
        _write_entry(self.files, self._rel(relpath), {"file": relpath, "lines": lines})
