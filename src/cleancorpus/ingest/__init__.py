"""Read a directory of raw documents, lazily, into Documents; every file ends as documents or a
recorded rejection, never as silence."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

from ..document import Document, stable_id
from ..timeout import TimeLimitExceeded, time_limit
from .columnar import iter_parquet
from .jsonl import COMPRESSIONS, iter_jsonl
from .page import page_document
from .records import RejectedInput, SkippedRecords
from .warc import iter_warc

if TYPE_CHECKING:
    from ..config import InputConfig, Limits
    from ..idkey import IdKey

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
# a name's ending (lower case) -> reader; the longest matching ending wins
FORMATS: dict[str, str] = {
    **{s: "text" for s in TEXT_SUFFIXES}, **{s: "html" for s in HTML_SUFFIXES},
    **{s: "jsonl" for s in JSONL_SUFFIXES},
    **{s + c: "jsonl" for s in JSONL_SUFFIXES for c in COMPRESSIONS},
    ".warc": "warc", ".warc.gz": "warc", ".wet": "warc", ".wet.gz": "warc",
    ".parquet": "parquet",
}
SUPPORTED = set(FORMATS)


def input_format(name: str) -> tuple[str, str] | None:
    """(reader, the ending that chose it) for a file name, or None when unsupported."""
    lower = name.lower()
    matches = [s for s in FORMATS if lower.endswith(s) and len(lower) > len(s)]
    if not matches:
        return None
    suffix = max(matches, key=len)
    return FORMATS[suffix], suffix


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path  # on object storage: the key as a PurePosixPath ("bucket/raw/x.txt")
    relpath: str
    problem: str | None = None  # set when the file must be rejected without reading it
    fs: Any = None  # the fsspec filesystem of a remote input (None: the local disk)

    def open(self) -> BinaryIO:
        """The file's bytes as a binary stream, wherever it lives: what every reader gets."""
        return open(self.path, "rb") if self.fs is None else self.fs.open(str(self.path), "rb")

    def size(self) -> int:
        return self.path.stat().st_size if self.fs is None else int(self.fs.size(str(self.path)))


def list_inputs(raw_dir: str | os.PathLike) -> list[InputFile]:
    """Every file under raw_dir, sorted, with symlinks leaving the directory flagged, not followed.
    ``raw_dir`` may be an fsspec URL (``s3://bucket/raw``, ``gs://...``): see ingest/remote.py."""
    from .remote import is_remote, list_remote

    if is_remote(raw_dir):
        return list_remote(str(raw_dir), SUPPORTED)
    root = Path(raw_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"input directory {root} does not exist or is not a directory")
    root_real = root.resolve()
    found: list[InputFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for d in list(dirnames):
            p = here / d
            if p.is_symlink():
                dirnames.remove(d)
                found.append(InputFile(p, _rel(p, root), "symlinked directory not followed"))
        for name in sorted(filenames):
            p = here / name
            rel = _rel(p, root)
            if p.is_symlink():
                target = p.resolve()
                if not target.is_relative_to(root_real):
                    found.append(InputFile(p, rel, f"symlink pointing outside the input directory ({target}) not followed"))
                    continue
                if not target.is_file():
                    found.append(InputFile(p, rel, "broken symlink"))
                    continue
            if not p.is_file() and not p.is_symlink():
                found.append(InputFile(p, rel, "not a regular file"))
                continue
            if input_format(name) is None:
                found.append(InputFile(p, rel, f"unsupported file type {p.suffix or '(no extension)'!r}; supported: {', '.join(sorted(SUPPORTED))}"))
                continue
            found.append(InputFile(p, rel))
    found.sort(key=lambda f: f.relpath)
    return found


def _rel(p: Path, root: Path) -> str:
    return p.relative_to(root).as_posix()


def file_digest(f: "InputFile | Path") -> str:
    h = hashlib.sha256()
    with (f.open() if isinstance(f, InputFile) else open(f, "rb")) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def iter_documents(
    files: list[InputFile], limits: "Limits | None" = None, fail_fast: bool = False,
    fields: "InputConfig | None" = None, id_key: "IdKey | None" = None,
) -> Iterator[Document | RejectedInput | SkippedRecords]:
    """Documents and rejections, one file at a time (only one file's bytes held at once).

    Whatever goes wrong with one document (an exception of any type, the time limit) becomes a
    rejection of that document naming the reader and the error; ``fail_fast`` re-raises instead,
    for someone debugging a reader. ``id_key``: the store's key (idkey.py), which every id of a
    document that is going to be published is keyed with; without it, plain sha256 ids.
    """
    from ..config import InputConfig, Limits

    limits = limits or Limits()
    fields = fields or InputConfig()
    key = id_key.secret if id_key is not None else None
    for f in files:
        reader = _read_file(f, limits, fail_fast, fields, key)
        produced = 0
        while True:
            try:
                item = next(reader)
            except StopIteration:
                break
            except Exception as exc:  # the reader itself broke: the rest of the file is lost, say so
                if fail_fast:
                    raise
                where = f"{f.relpath} (after {produced} record(s))" if produced else f.relpath
                yield RejectedInput(stable_id(where, b"", key), where, f"reader error: {describe_error(exc)}")
                break
            produced += 1
            yield item


def describe_error(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` of an exception, on one line and of bounded length."""
    msg = " ".join(str(exc).split())
    if len(msg) > limit:
        msg = msg[:limit] + "..."
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def guard_document(
    doc_id: str, source: str, build: Callable[[], Document | RejectedInput], max_seconds: float,
    fail_fast: bool = False, what: str = "reading",
) -> Document | RejectedInput:
    """Run one document's reading/extraction under the time limit; any failure becomes a
    rejection of that document with the error's type and message."""
    try:
        with time_limit(max_seconds):
            return build()
    except TimeLimitExceeded:
        if fail_fast:
            raise
        return RejectedInput(doc_id, source, f"time limit: {what} took over {max_seconds:g} s")
    except RecursionError:
        if fail_fast:
            raise
        return RejectedInput(doc_id, source, f"{what}: too deeply nested to process")
    except Exception as exc:
        if fail_fast:
            raise
        return RejectedInput(doc_id, source, f"{what} error: {describe_error(exc)}")


def _read_file(f: InputFile, limits: "Limits", fail_fast: bool, fields: "InputConfig",
               key: bytes | None = None) -> Iterator[Document | RejectedInput | SkippedRecords]:
    if f.problem:
        yield RejectedInput(stable_id(f.relpath, b"", key), f.relpath, f.problem)
        return
    kind, suffix = input_format(f.path.name) or ("text", "")
    if kind in ("jsonl", "warc", "parquet"):
        try:
            with f.open() as fh:
                if kind == "jsonl":
                    compression = COMPRESSIONS.get("." + suffix.rsplit(".", 1)[-1])
                    yield from iter_jsonl(fh, f.relpath, limits, RejectedInput, fail_fast, compression,
                                          fields.text_field, fields.id_field, key)
                elif kind == "warc":
                    yield from iter_warc(fh, f.relpath, limits, fail_fast, key)
                else:
                    yield from iter_parquet(fh, f.relpath, limits, fail_fast, fields.text_field, fields.id_field, key)
        except OSError as exc:
            yield RejectedInput(stable_id(f.relpath, b"", key), f.relpath, f"unreadable file: {exc.strerror or exc}")
        return
    try:
        size = f.size()
        if size > limits.max_doc_bytes:
            yield RejectedInput(stable_id(f.relpath, b"", key), f.relpath,
                                f"file is {size} bytes, over the per-document limit of {limits.max_doc_bytes}")
            return
        with f.open() as stream:
            data = stream.read()
    except OSError as exc:
        yield RejectedInput(stable_id(f.relpath, b"", key), f.relpath, f"unreadable file: {exc.strerror or exc}")
        return
    doc_id = stable_id(f.relpath, data, key)
    is_html = kind == "html"
    yield guard_document(doc_id, f.relpath, lambda: page_document(
        doc_id, f.relpath, data, is_html, {"format": kind}, limits), limits.max_stage_seconds, fail_fast)
