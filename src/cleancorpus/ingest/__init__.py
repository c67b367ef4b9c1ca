"""Read a directory of raw documents, lazily, into Documents; every file ends as documents or a
recorded rejection, never as silence."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..document import Document, Outcome, Status, stable_id
from .decode import decode_bytes
from .html import html_to_text
from .jsonl import iter_jsonl

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES


@dataclass(frozen=True, slots=True)
class RejectedInput:
    """An input (a whole file, or one JSONL line) that never became a Document."""

    id: str
    source: str
    reason: str

    def outcome(self) -> Outcome:
        return Outcome(self.id, self.source, Status.REJECTED, reason=f"ingest: {self.reason}")


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path
    relpath: str
    problem: str | None = None  # set when the file must be rejected without reading it


def list_inputs(raw_dir: str | os.PathLike) -> list[InputFile]:
    """Every file under raw_dir, sorted, with symlinks leaving the directory flagged, not followed."""
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
            if p.suffix.lower() not in SUPPORTED:
                found.append(InputFile(p, rel, f"unsupported file type {p.suffix or '(no extension)'!r}; supported: {', '.join(sorted(SUPPORTED))}"))
                continue
            found.append(InputFile(p, rel))
    found.sort(key=lambda f: f.relpath)
    return found


def _rel(p: Path, root: Path) -> str:
    return p.relative_to(root).as_posix()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def iter_documents(
    files: list[InputFile], max_doc_bytes: int = 20_000_000
) -> Iterator[Document | RejectedInput]:
    """Documents and rejections, one file at a time (only one file's bytes held at once)."""
    for f in files:
        yield from _read_file(f, max_doc_bytes)


def _read_file(f: InputFile, max_doc_bytes: int) -> Iterator[Document | RejectedInput]:
    if f.problem:
        yield RejectedInput(stable_id(f.relpath, b""), f.relpath, f.problem)
        return
    suffix = f.path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        try:
            yield from iter_jsonl(f.path, f.relpath, max_doc_bytes, RejectedInput)
        except OSError as exc:
            yield RejectedInput(stable_id(f.relpath, b""), f.relpath, f"unreadable file: {exc.strerror or exc}")
        return
    try:
        size = f.path.stat().st_size
        if size > max_doc_bytes:
            yield RejectedInput(stable_id(f.relpath, b""), f.relpath,
                                f"file is {size} bytes, over the per-document limit of {max_doc_bytes}")
            return
        data = f.path.read_bytes()
    except OSError as exc:
        yield RejectedInput(stable_id(f.relpath, b""), f.relpath, f"unreadable file: {exc.strerror or exc}")
        return
    doc_id = stable_id(f.relpath, data)
    decoded = decode_bytes(data)
    if isinstance(decoded, str):
        yield RejectedInput(doc_id, f.relpath, decoded)
        return
    doc = Document(doc_id, decoded.naive, f.relpath, {"format": "text"})
    doc = decoded.apply_to(doc)
    if suffix in HTML_SUFFIXES:
        try:
            page = html_to_text(doc.text)
        except RecursionError:
            yield RejectedInput(doc_id, f.relpath, "HTML nested too deeply to parse")
            return
        # built from the page's full text; what extraction drops is recorded as "html" edits
        doc = Document(doc_id, page.text, f.relpath, {**doc.metadata, **page.meta, "format": "html"})
        doc = doc.revise("html", page.removals)
    if not doc.text.strip():
        why = "empty file" if not data else "no text content"
        if suffix in HTML_SUFFIXES and data.strip():
            why = "HTML page has no visible text (all script, style or markup)"
        yield RejectedInput(doc_id, f.relpath, why)
        return
    yield doc
