"""The Python API: clean a directory into a new version, repair one text, load a version."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__, scratch
from .config import Config
from .dedup import DedupResult, find_duplicates
from .document import Document, Edit, Outcome, Rejection, Status
from .idkey import IdKey
from .ingest import file_digest, iter_documents, list_inputs
from .pipeline import Pipeline, Progress, RunResult, read_documents
from .store import Store, Version
from .store.store import TMP_PREFIX
from .store.private import restrict_local
from .store.tables import DOCUMENTS, DUPLICATES, first_fields
from .store.write import Carried, write_version
from .signals import Tally


@dataclass(frozen=True)
class CleanResult:
    version: Version
    created: bool  # False when an identical version already existed and nothing was written
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Repaired:
    text: str
    edits: tuple[Edit, ...]
    rejected: str | None = None


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """The fingerprint of this installed package (computed once per process)."""
    return fingerprint_tree(Path(__file__).resolve().parent)


def fingerprint_tree(root: Path) -> str:
    """A hash of the package's own files: code, rule lists, lexicons, templates. Editing any of
    them can change the output, so it must change the version id too, even when the package
    version does not (a Dask worker running other code would otherwise write the same id)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix not in (".pyc", ".pyo")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def version_id(inputs: list[dict[str, Any]], config: Config, key: IdKey) -> str:
    """Derived from input content, configuration, the package (version and files) and the
    store's id key only: the ids a version holds depend on the key, so one version id for two
    keys would name two contents. The files' digests are keyed (idkey.py), the key enters by
    its fingerprint, never itself."""
    h = hashlib.sha256()
    h.update(f"cleancorpus {__version__}\n".encode())
    h.update(config.fingerprint().encode())
    h.update(package_fingerprint().encode())
    h.update(f"\nid-key {key.fingerprint}".encode())
    for item in inputs:
        digest = key.file_digest(item["sha256"]) if item.get("sha256") else item.get("problem")
        h.update(f"\n{item['path']}\0{digest}".encode())
    return "v" + h.hexdigest()[:16]


def describe_inputs(raw_dir: str | os.PathLike):
    files = list_inputs(raw_dir)
    described = []
    for f in files:
        item: dict[str, Any] = {"path": f.relpath}
        if f.problem:
            item["problem"] = f.problem
        else:
            try:
                item["sha256"] = file_digest(f)
                item["bytes"] = f.size()
            except OSError as exc:
                item["problem"] = f"unreadable file: {exc.strerror or exc}"
        described.append(item)
    return files, described


@dataclass(frozen=True)
class Plan:
    """What a run will build: the inputs, their digests and the version id they determine."""

    store: Store
    files: list
    inputs: list[dict[str, Any]]
    config: Config
    version_id: str
    # the store's secret for ids and published digests of raw input (idkey.py): carried to
    # every worker by the plan; ``inputs`` keep plain sha256, never published
    id_key: IdKey


def plan(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, config: Config | None = None,
         private_out: str | os.PathLike | None = None, id_key: IdKey | str | os.PathLike | None = None) -> Plan:
    """``id_key``: a key (or a key file) to build with instead of the store's own, which it
    then becomes (README "Personal data"); default: the store's key, created at its first build."""
    from .idkey import coerce
    from .store.private import id_key as store_key

    config = config or Config()
    store = Store(out_dir, private_out)
    key = store_key(store, coerce(id_key))
    files, inputs = describe_inputs(raw_dir)
    return Plan(store, files, inputs, config, version_id(inputs, config, key), key)


def deduplicate(p: Plan, spill: Path | str, map_fn=None, full: bool = False, layout=None) -> DedupResult:
    """The corpus-level duplicate passes over the cleaned documents of a run (all of the
    current inputs; no earlier version takes part, so the version id names one content).
    ``layout``: the spill's lines per input file (RunResult.layout): unchanged files are not parsed."""
    from .incremental import spill_files

    kwargs: dict[str, Any] = {"map_fn": map_fn} if map_fn is not None else {}
    if layout is not None:
        kwargs["lines"] = lambda: spill_files(spill, layout)
    # scratch files (text batches, signatures) next to the spill: same disk, removed with it
    return find_duplicates(lambda: read_documents(spill), p.config.dedup,
                           workdir=scratch.parent(spill), index=str(p.store.root), full=full, **kwargs)


def publish(p: Plan, run: RunResult, dd: DedupResult, progress: Progress | None = None,
            full: bool = False) -> Version:
    """Write the version (documents, edits, duplicates, outcomes) and make it the latest: only
    the rows of input documents whose result changed since the parent are written. ``full``:
    every document is parsed and digested (the stored entries are rewritten, not read)."""
    duplicates = {} if p.config.dedup.report_only else dd.duplicates
    counts = {"input_files": len(p.inputs), "documents": 0, "kept": 0, "duplicate": 0, "rejected": 0}

    signals = Tally()  # language mix, quality flags, PII redactions of the kept documents (signals.py)
    # an unchanged input file's documents come from its stored entry (incremental.PublishFiles)
    from .incremental import PublishFiles, line_digest, publish_dir, spill_files

    withhold = withhold_policy(p.config)
    entries = (PublishFiles(str(p.store.root), publish_dir(p.config, withhold is not None), read=not full)
               if run.layout is not None else None)
    pending: dict[str, dict[str, Any]] = {}  # entries of the files parsed this run
    digests: dict[str, tuple[str, str | None]] = {}

    def outcome(doc_id: str, source: str, dup) -> Outcome:
        if dup is None:
            return Outcome(doc_id, source, Status.KEPT)
        return Outcome(doc_id, source, Status.DUPLICATE, reason=dup.reason, duplicate_of=dup.duplicate_of,
                       similarity=dup.similarity)

    def items():
        nonlocal signals
        signals = Tally()
        pending.clear()
        for c in counts:
            if c != "input_files":
                counts[c] = 0
        for o in run.rejected:
            counts["documents"] += 1
            counts["rejected"] += 1
            yield o, None
        files = (spill_files(run.spill, run.layout) if run.layout is not None
                 else [(None, [line for line in _lines(run.spill)])])
        for relpath, lines in files:
            got = entries.load(relpath) if entries is not None and relpath is not None else None
            docs: list[tuple] = []  # per line: (line digest, stored values or None, what a new entry needs)
            parsed = 0
            for line in lines:
                ld = line_digest(line) if entries is not None else b""
                e = got.get(ld) if got else None
                if e is not None:
                    doc_id, source, dk, d, pd, rec, fields = e
                    dup = duplicates.get(doc_id)
                    if _dup_key(dup) == dk:  # the same line and the same duplicate decision
                        o = outcome(doc_id, source, dup)
                        if dup is None:
                            signals.replay(rec)
                        counts["documents"] += 1
                        counts[o.status.value] += 1
                        docs.append((ld, e))
                        yield o, Carried(d, pd, lambda line=line: _parse(line),
                                         {DUPLICATES if dup is not None else DOCUMENTS: fields})
                        continue
                doc = _parse(line)
                parsed += 1
                dup = duplicates.get(doc.id)
                o = outcome(doc.id, doc.source, dup)
                rec = None
                if dup is None:
                    rec = Tally.record(doc)
                    signals.replay(rec)
                docs.append((ld, (doc.id, doc.source, _dup_key(dup), rec, first_fields([doc.metadata]))))
                counts["documents"] += 1
                counts[o.status.value] += 1
                yield o, doc
            if progress:
                progress("writing", len(lines))
            if entries is not None and relpath is not None:
                entries.computed += parsed
                entries.reused += len(lines) - parsed
                if parsed or got is None or len(got) != len(lines):
                    pending[relpath] = docs

    def on_digest(o: Outcome, d: str, private_digest: str | None) -> None:
        if entries is not None:
            digests[o.source] = (d, private_digest)

    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    parent = p.store.latest_id()
    config = p.config.to_dict()
    def summary() -> dict[str, Any]:
        clusters = _clusters(dd.duplicates)
        return {
            "package_version": __version__,
            "package_sha256": package_fingerprint(),
            "config": config,
            "inputs": {"files": len(p.inputs), "sha256": inputs_digest(p.inputs, p.id_key),
                       "id_key": p.id_key.fingerprint},
            "counts": dict(counts),
            "stages": {name: rep.to_dict() for name, rep in run.reports.items()},
            "dedup": {**dd.stats, "report_only": p.config.dedup.report_only, "clusters": len(clusters),
                      "largest_clusters": clusters[:LARGEST_CLUSTERS]},
            "signals": signals.to_dict(),
            # what this run reused from earlier runs and recomputed (README "Incremental runs");
            # the only part of the summary that depends on history, not on the version's content
            "work": {"documents_from_scratch": run.work.documents_from_scratch(next(iter(p.config.stages), None)),
                     "documents_recomputed": run.work.documents_recomputed, "stages": run.work.to_dict(),
                     "dedup": dd.work,
                     **({"publish": {"documents_reused": entries.reused, "documents_parsed": entries.computed}}
                        if entries is not None else {})},
        }

    meta = {"cleancorpus.parent": parent or "", "cleancorpus.created": created,
            "cleancorpus.package_version": __version__, "cleancorpus.package_sha256": package_fingerprint(),
            "cleancorpus.config": json.dumps(config, sort_keys=True)}
    with _local_scratch(run.spill) as local:
        version, _ = write_version(p.store, p.version_id, items, summary, created=created,
                                   commit_metadata=meta, scratch=local, progress=progress,
                                   withhold=withhold, on_digest=on_digest)
    for relpath, docs in pending.items():  # the entries of the files with documents parsed this run
        entries.save(relpath, {ld: (e if len(e) == 7 else (*e[:3], *digests[e[1]], *e[3:])) for ld, e in docs})  # type: ignore[union-attr]
    sweep_cache(p)
    from .incremental import CACHE_DIR

    restrict_local(p.store.uri, CACHE_DIR)  # private working state (README "Personal data")
    return version


def _dup_key(dup) -> tuple | None:
    return None if dup is None else (dup.duplicate_of, dup.reason, dup.similarity)


def _parse(line: bytes) -> Document:
    return Document.from_record(json.loads(line.decode("utf-8", "surrogatepass")))


def _lines(path):
    with scratch.open_file(path, "rb") as fh:
        yield from fh


def withhold_policy(config: Config):
    """Which edits' originals a version keeps out of its published tables (store/private.py):
    with the pii stage in the pipeline, its redactions and any edit whose original holds what
    it redacts; without it (redaction off), none."""
    if "pii" not in config.stages:
        return None
    from .stages.pii import holds_personal_data

    kinds = frozenset(config._resolved["pii"].kinds)  # type: ignore[attr-defined]
    return lambda edit: holds_personal_data(edit, kinds)


def revert(out_dir: str | os.PathLike, document: str, version: str | None = None,
           private: str | os.PathLike | None = None, metadata: bool = False) -> Any:
    """The text of a stored document (by id or source, kept or dropped as a duplicate) as it was
    ingested, every edit undone. Originals withheld as personal data come from the private
    table at ``private`` (a URI, a path, or a path relative to the store); without it a document
    that has any raises ``document.Withheld`` saying so. ``metadata=True``: the document's
    metadata with every edit of a value undone (redacted addresses in a title, a JSONL field)
    instead of the text."""
    from .document import revert as undo
    from .document import revert_metadata
    from .store import StoreError

    v = Store(out_dir, private).open(version)
    for table in ("documents", "duplicates"):
        for doc in v._documents(table, False):
            if document in (doc.id, doc.source):
                edits = v.edits(str(private) if private is not None else None).get(doc.id, [])
                return revert_metadata(doc.metadata, edits) if metadata else undo(doc.text, edits)
    raise StoreError(f"no document {document!r} (id or source) in version {v.id}")


def sweep_cache(p: Plan) -> int:
    """Drop stored per-document results the new latest version cannot use (other
    configurations or code, removed input files), so the cache stays the size of one version."""
    from .dedup.index import index_dir
    from .dedup.minhash import MinHashParams
    from .incremental import file_key, options_fingerprint, publish_dir, segment_dirs, sweep

    opts = p.config._resolved  # type: ignore[attr-defined]
    fps = {name: options_fingerprint(name, opts[name]) for name in p.config.stages}
    keep = {f"{kind}/{name}-{fp}" for name, fp in fps.items() for kind in ("stages", "fits")}
    d = p.config.dedup
    keep.add(index_dir(MinHashParams(d.shingle_size, d.num_perm, d.seed)))
    keep.update(segment_dirs(p.config))
    keep.add(publish_dir(p.config, withhold_policy(p.config) is not None))
    return sweep(str(p.store.root), keep, {file_key(item["path"]) for item in p.inputs})


LARGEST_CLUSTERS = 20
SHARD_BYTES, MAX_SHARDS = 8 * 2**20, 256  # as the flow's defaults: the CLI runs the same plan


def inputs_digest(inputs: list[dict[str, Any]], key: IdKey | None) -> str:
    """The manifest's ``inputs.sha256``: an HMAC-SHA256 with the store's key of the inputs list
    (paths, plain digests, sizes); None only for versions migrated from the first layout,
    whose manifests published that list already."""
    blob = json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return key.digest(blob) if key is not None else hashlib.sha256(blob).hexdigest()


@contextlib.contextmanager
def _local_scratch(spill: Path | str):
    """A local directory for the store write's own temporary files (written and read in this
    one process): beside the spill when scratch is local, else a temporary directory here."""
    if not scratch.is_remote(spill):
        yield Path(spill).parent
        return
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX + "write-") as d:
        yield Path(d)


@contextlib.contextmanager
def building(p: Plan, lock_timeout: float = 600.0, scratch_dir: str | os.PathLike | None = None):
    """Hold the store lock for a build and give a scratch directory (inside a local store, else
    under ``scratch`` or the system's temporary directory). ``scratch`` may be an object-storage
    prefix (``s3://bucket/tmp``): workers on other machines then share it without a shared
    filesystem (scratch.py); the run's directory under it is removed after the build.

    Yields None when the version already is the latest (nothing to build or write).
    """
    with p.store.lock(lock_timeout):
        p.store.remove_leftovers()
        if p.store.latest_id() == p.version_id:
            yield None
            return
        base = scratch_dir if scratch_dir is not None else (None if p.store.remote else p.store.root)
        work = scratch.mkdtemp(scratch.location(base) if base is not None else None, TMP_PREFIX + "work-")
        try:
            yield work
        finally:
            scratch.rmtree(work)


def clean(
    raw_dir: str | os.PathLike = "raw",
    out_dir: str | os.PathLike = "clean",
    config: Config | None = None,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
    fail_fast: bool = False,
    full: bool = False,
    scratch_dir: str | os.PathLike | None = None,
    private_out: str | os.PathLike | None = None,
    id_key: "IdKey | str | os.PathLike | None" = None,
) -> CleanResult:
    """Build a new version of the corpus in ``out_dir`` from the documents in ``raw_dir``.

    A document that breaks a reader or a stage is rejected with the error in its outcome and
    the run goes on; ``fail_fast=True`` lets the error escape instead (to debug a stage).
    Each stage's stored result for a document is reused when it is still exactly right
    (incremental.py); ``full=True`` recomputes everything (same result, byte for byte).
    ``scratch_dir``: where the run's scratch files go (a directory or an ``s3://`` prefix;
    default: inside a local store, else the system's temporary directory).
    ``private_out``: where the originals of redacted personal data go (store/private.py;
    default: where the latest version put them, else ``<out_dir>/_private/pii``).
    ``id_key``: build with this key (an ``IdKey`` or a key file) and make it the store's: the
    same inputs give the same ids and version id as in a store with that key (idkey.py)."""
    p = plan(raw_dir, out_dir, config, private_out, id_key)
    with building(p, lock_timeout, scratch_dir) as work:
        if work is None:
            v = p.store.open(p.version_id)
            return CleanResult(v, False, v.manifest["counts"])
        # the flow's plan (shards, segments, fits) with its local executors: one orchestration
        from cleancorpus_flows import work as passes

        run = passes.run_stages(p, work, SHARD_BYTES, MAX_SHARDS, full=full, fail_fast=fail_fast, progress=progress)
        dd = deduplicate(p, run.spill, full=full, layout=run.layout)
        version = publish(p, run, dd, progress, full)
    return CleanResult(version, True, version.manifest["counts"])


def _clusters(duplicates) -> list[dict[str, Any]]:
    """Clusters, largest first: the kept copy, how many copies it has and (the first
    ``CLUSTER_MEMBERS`` of) them; every duplicate is in the outcomes table anyway."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in duplicates.values():
        groups.setdefault(d.duplicate_of, []).append({"id": d.id, "similarity": round(d.similarity, 4), "reason": d.reason})
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [{"kept": k, "size": len(v), "dropped": sorted(v, key=lambda x: x["id"])[:CLUSTER_MEMBERS]} for k, v in ranked]


CLUSTER_MEMBERS = 20


def repair_text(text: str, config: Config | None = None) -> Repaired:
    """Repair one text with the stages that make sense without a corpus (no boilerplate, no dedup)."""
    config = config or repair_config()
    doc = Document("text", text, "<text>")
    out = Pipeline(config).apply(doc)
    if isinstance(out, Rejection):
        return Repaired(text, (), str(out))
    return Repaired(out.text, out.edits)


REPAIR_STAGES = ("unicode", "spun", "spelling")


def repair_config() -> Config:
    from .stages import REGISTRY

    return Config(stages=tuple(s for s in REPAIR_STAGES if s in REGISTRY))


def load(out_dir: str | os.PathLike = "clean", version: str | None = None) -> Version:
    """A stored version (the latest by default): iterate it for Documents; ``.manifest`` for the rest.
    Withheld originals (personal data) stay withheld: ``Version.edits(private=URI)`` or
    :func:`revert` read them from the private table when you may."""
    return Store(out_dir).open(version)
