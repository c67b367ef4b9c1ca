"""WARC (.warc, .warc.gz) and WET files: one Document per page record, read with FastWARC.

Kept records:

- ``response`` with HTTP status 200 and an HTML (text/html, application/xhtml+xml) or plain-text
  payload: the payload goes through the same decoding and HTML extraction as an .html file;
- ``resource`` with an HTML or plain-text block (a file archived without HTTP, e.g. by wget);
- ``conversion`` with plain text (Common Crawl's WET files: text already extracted).

Every other record is *skipped* and counted by reason (warcinfo, request, metadata, revisit,
continuation, a response with another status or content type, ...): it is not a document, and
the counts go to the run's ingest report. A record cut short (its Content-Length is more than
the file holds) is *rejected* with that reason; the records before it are kept. A file that stops
parsing part-way (a broken header) keeps what came before and ends with one rejection saying
where reading stopped.

FastWARC, not warcio (bench/warc_ingest.py, bench/README.md): it reads the same records in half
the CPU time, and also reads single-member gzip WARCs and badly chunked records that warcio
refuses. Payloads are read raw (``auto_decode="none"``) so that the bytes read can be checked
against Content-Length: decoding first would hide a cut (neither library raises on one); the
transfer and content encodings are undone here afterwards.
"""

from __future__ import annotations

import io
import re
import zlib
from collections import Counter
from typing import TYPE_CHECKING, BinaryIO, Iterator

from fastwarc.stream_io import BrotliReader, ZstdReader
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from ..document import Document, stable_id
from .page import page_document
from .records import RejectedInput, SkippedRecords

if TYPE_CHECKING:
    from ..config import Limits

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
_SKIP_TYPES = {
    int(WarcRecordType.warcinfo): "warcinfo record",
    int(WarcRecordType.request): "request record",
    int(WarcRecordType.metadata): "metadata record",
    int(WarcRecordType.revisit): "revisit record (no payload of its own)",
    int(WarcRecordType.continuation): "continuation record (segmented records are not joined)",
    int(WarcRecordType.unknown): "record of unknown type",
}
# the charset a page declares in its first 1024 bytes (the HTML standard's prescan window)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)


class _Skip(Exception):
    """This record is not a document; the message is the reason it is counted under."""


def iter_warc(stream: BinaryIO, source: str, limits: "Limits", fail_fast: bool = False, key: bytes | None = None
              ) -> Iterator[Document | RejectedInput | SkippedRecords]:
    """Documents from the page records of one WARC or WET stream (plain or gzip-compressed).
    Each page's decoding and extraction runs under the per-document time limit."""
    skipped: Counter[str] = Counter()
    records = iter(ArchiveIterator(stream, parse_http=True, auto_decode="none"))
    n = 0
    last = "the start of the file"
    broken = False
    seen: set[str] = set()
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as exc:  # FastWARC raises OSError (and others) on a broken header
            why = (f"not a WARC file: {exc}" if n == 0 else
                   f"malformed WARC: {exc} after {n} record(s) (the last {last}); the rest of the file is not read")
            yield RejectedInput(stable_id(f"{source}@{n}", b"", key), source if n == 0 else f"{source}@record {n + 1}", why)
            broken = True
            break
        n += 1
        rid = record.record_id or f"<record {n}>"
        last = rid
        where = f"{source}#{rid.strip('<>')}"
        if rid in seen:  # a record id used twice (a broken writer): keep sources, so ids, unique
            where += f" (record {n})"
        seen.add(rid)
        yield from _read_record(record, where, rid, limits, fail_fast, skipped, key)
    if n == 0 and not broken:
        why = "empty file" if _is_empty(stream) else "no WARC records in the file"
        yield RejectedInput(stable_id(source, b"", key), source, why)
    if skipped:
        yield SkippedRecords(source, dict(sorted(skipped.items())))


def _is_empty(stream: BinaryIO) -> bool:
    try:
        return stream.seek(0, io.SEEK_END) == 0
    except (OSError, ValueError):
        return False


def _read_record(record: WarcRecord, where: str, rid: str, limits: "Limits", fail_fast: bool,
                 skipped: Counter[str], key: bytes | None = None) -> Iterator[Document | RejectedInput]:
    from . import guard_document

    max_doc_bytes = limits.max_doc_bytes
    reason = _skip_reason(record)
    declared_len = _int(record.headers.get("Content-Length"))
    if reason is not None:
        got = record.reader.consume()
        body = None
    else:
        if record.content_length > max_doc_bytes:
            record.reader.consume()
            yield RejectedInput(stable_id(where, b"", key), where,
                                f"WARC record over the size limit: payload is {record.content_length} bytes, "
                                f"the per-document limit {max_doc_bytes}")
            return
        body = record.reader.read()
        got = len(body)
    problem = _truncation(record, declared_len, got)
    if problem:
        yield RejectedInput(stable_id(where, body or b"", key), where, problem)
        return
    if reason is not None:
        skipped[reason] += 1
        return
    assert body is not None
    doc_id = stable_id(where, body, key)
    try:
        payload = _decode_http(record, body, max_doc_bytes) if record.is_http_parsed else body
    except ValueError as exc:
        yield RejectedInput(doc_id, where, str(exc))
        return
    yield guard_document(doc_id, where, lambda: _document(record, doc_id, where, rid, payload, limits),
                         limits.max_stage_seconds, fail_fast)


def _skip_reason(record: WarcRecord) -> str | None:
    rtype = record.record_type
    if int(rtype) in _SKIP_TYPES:
        return _SKIP_TYPES[int(rtype)]
    if rtype == WarcRecordType.response:
        if not record.is_http_parsed:
            return "response record without HTTP headers"
        status = record.http_headers.status_code
        if status != 200:
            return f"response: HTTP status {status}"
        mime = _mime(record.http_content_type)
        if mime not in HTML_TYPES and mime not in TEXT_TYPES:
            return f"response: content type {mime or '(none)'}"
        return None
    mime = _mime(record.headers.get("Content-Type"))
    if rtype == WarcRecordType.resource:
        if (record.headers.get("WARC-Target-URI") or "").strip("<> ").lower().startswith("metadata:"):
            return "resource record: crawler metadata (metadata: URI)"  # wget's log and arguments
        return None if mime in HTML_TYPES or mime in TEXT_TYPES else f"resource record: content type {mime or '(none)'}"
    if rtype == WarcRecordType.conversion:
        return None if mime in TEXT_TYPES or not mime else f"conversion record: content type {mime}"
    return f"{rtype} record"


def _truncation(record: WarcRecord, declared: int | None, got: int) -> str | None:
    """Why the record is cut short, or None. FastWARC subtracts the HTTP header it parsed from
    ``content_length``; what the file held is that header plus the payload bytes read."""
    if declared is None:
        return "truncated WARC record: no valid Content-Length (header cut short or malformed)"
    header = declared - record.content_length if record.is_http_parsed else 0
    held = header + got
    if held < declared or got < record.content_length:
        return f"truncated WARC record: Content-Length is {declared} bytes, the file holds {held}"
    return None


def _decode_http(record: WarcRecord, body: bytes, limit: int) -> bytes:
    """Undo Transfer-Encoding: chunked and the Content-Encoding; ValueError says what failed.
    A body that decodes to more than ``limit`` bytes is refused (a compression bomb)."""
    headers = record.http_headers
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        body = _dechunk(body)
    encoding = (headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("identity", "none", ""):
        return body
    if encoding in ("gzip", "x-gzip"):
        if not body.startswith(b"\x1f\x8b"):
            return body  # some crawlers store the decoded body and keep the original header
        return _inflate(body, 16 + zlib.MAX_WBITS, encoding, limit)
    if encoding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS, encoding, limit)
        except ValueError:
            return _inflate(body, -zlib.MAX_WBITS, encoding, limit)  # raw deflate, as some servers send
    readers = {"br": BrotliReader, "zstd": ZstdReader}
    if encoding in readers:
        try:
            out = readers[encoding](io.BytesIO(body)).read(limit + 1)
        except Exception as exc:
            raise ValueError(f"HTTP body not decodable as Content-Encoding {encoding}: {exc}") from exc
        return _within(out, limit)
    raise ValueError(f"unsupported HTTP Content-Encoding {encoding!r}")


def _inflate(body: bytes, wbits: int, encoding: str, limit: int) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"HTTP body not decodable as Content-Encoding {encoding}: {exc}") from exc
    _within(out, limit)
    if not d.eof:
        raise ValueError(f"HTTP body cut short: Content-Encoding {encoding} stream does not end")
    return out


def _within(out: bytes, limit: int) -> bytes:
    if len(out) > limit:
        raise ValueError(f"decoded HTTP body over the size limit: more than {limit} bytes (the per-document limit)")
    return out


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise ValueError("malformed chunked HTTP body: chunk size line not terminated")
        size_text = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ValueError(f"malformed chunked HTTP body: bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            return bytes(out)
        start = eol + 2
        if start + size > len(body):
            raise ValueError("malformed chunked HTTP body: last chunk cut short")
        out += body[start:start + size]
        pos = start + size + 2


def _document(record: WarcRecord, doc_id: str, where: str, rid: str, payload: bytes,
              limits: "Limits") -> Document | RejectedInput:
    is_http = record.is_http_parsed
    # the header as sent (FastWARC's http_content_type drops the parameters, charset included)
    content_type = (record.http_headers if is_http else record.headers).get("Content-Type") or ""
    is_wet = record.record_type == WarcRecordType.conversion
    meta: dict = {
        "format": "wet" if is_wet else "warc",
        # wget writes the URI in angle brackets (WARC 1.0's grammar); the URL is what is inside
        "url": (record.headers.get("WARC-Target-URI") or "").strip().removeprefix("<").removesuffix(">") or None,
        "warc_record_id": rid,
        "warc_date": record.headers.get("WARC-Date"),
        "input_id": rid,
    }
    if is_http:
        meta["http_status"] = record.http_headers.status_code
    meta["content_type"] = content_type or None
    if is_wet and record.headers.get("WARC-Refers-To"):
        meta["warc_refers_to"] = record.headers.get("WARC-Refers-To")
    meta = {k: v for k, v in meta.items() if v is not None}
    declared = []
    header_charset = _charset(content_type)
    if header_charset:
        declared.append((header_charset, "the HTTP header" if is_http else "the WARC header"))
    is_html = _mime(content_type) in HTML_TYPES and not is_wet
    if is_html:
        m = _META_CHARSET.search(payload[:1024])
        if m:
            declared.append((m.group(1).decode("ascii"), "the page's <meta>"))
    return page_document(doc_id, where, payload, is_html, meta, limits, declared)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.I)
    return m.group(1) if m else None


def _int(value: str | None) -> int | None:
    try:
        n = int((value or "").strip())
    except ValueError:
        return None
    return n if n >= 0 else None
