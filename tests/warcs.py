"""Write small WARC files for tests and bench/warc_ingest.py (a plain module, like paths.py).

Records are built by hand, byte by byte, so a test controls every header (charsets, status,
chunked bodies, content encodings) and can cut a file wherever it wants. Record ids and dates are
derived from the URL, so a written file is the same bytes every time.
"""

from __future__ import annotations

import gzip
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from paths import ROOT

EXTRACTION = ROOT.parent / "shared" / "benchmarks" / "extraction"
WARC_DATA = ROOT.parent / "shared" / "benchmarks" / "warc"


def record_id(key: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}>"


@dataclass
class Page:
    url: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    reason: str = "OK"
    extra_http: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False
    gzip_body: bool = False


def http_response(page: Page) -> bytes:
    body = page.body
    headers = [("Content-Type", page.content_type), *page.extra_http] if page.content_type else list(page.extra_http)
    if page.gzip_body:
        body = gzip.compress(body, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    if page.chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        chunks = [body[i:i + 700] for i in range(0, len(body), 700)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    else:
        headers.append(("Content-Length", str(len(body))))
    head = f"HTTP/1.1 {page.status} {page.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def warc_record(warc_type: str, headers: list[tuple[str, str]], block: bytes) -> bytes:
    head = f"WARC/1.1\r\nWARC-Type: {warc_type}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def response_record(page: Page, date: str = "2026-01-02T03:04:05Z") -> bytes:
    return warc_record("response", [
        ("WARC-Record-ID", record_id(page.url)), ("WARC-Date", date), ("WARC-Target-URI", page.url),
        ("Content-Type", "application/http; msgtype=response")], http_response(page))


def request_record(url: str) -> bytes:
    req = f"GET {url} HTTP/1.1\r\nUser-Agent: test\r\n\r\n".encode()
    return warc_record("request", [
        ("WARC-Record-ID", record_id("request " + url)), ("WARC-Date", "2026-01-02T03:04:05Z"),
        ("WARC-Target-URI", url), ("Content-Type", "application/http; msgtype=request")], req)


def metadata_record(url: str) -> bytes:
    return warc_record("metadata", [
        ("WARC-Record-ID", record_id("metadata " + url)), ("WARC-Date", "2026-01-02T03:04:05Z"),
        ("WARC-Target-URI", url), ("Content-Type", "application/warc-fields")], b"fetchTimeMs: 12\r\n")


def conversion_record(url: str, text: str) -> bytes:
    return warc_record("conversion", [
        ("WARC-Record-ID", record_id("wet " + url)), ("WARC-Date", "2026-01-02T03:04:05Z"),
        ("WARC-Target-URI", url), ("WARC-Refers-To", record_id(url)),
        ("Content-Type", "text/plain")], text.encode("utf-8"))


def warcinfo_record() -> bytes:
    return warc_record("warcinfo", [("WARC-Record-ID", record_id("warcinfo")),
                                    ("WARC-Date", "2026-01-02T03:04:05Z"),
                                    ("Content-Type", "application/warc-fields")], b"software: tests/warcs.py\r\n")


def write_warc(path: Path, records: list[bytes], gz: bool | None = None) -> Path:
    """One gzip member per record (as crawlers write them) when ``gz`` or the name ends in .gz."""
    gz = path.name.endswith(".gz") if gz is None else gz
    with open(path, "wb") as fh:
        for rec in records:
            fh.write(gzip.compress(rec, mtime=0) if gz else rec)
    return path


def crawl_records(pages: list[Page], with_requests: bool = True) -> list[bytes]:
    """What a crawler writes: warcinfo, then request, response and metadata per page."""
    out = [warcinfo_record()]
    for p in pages:
        if with_requests:
            out.append(request_record(p.url))
        out.append(response_record(p))
        if with_requests:
            out.append(metadata_record(p.url))
    return out


def extraction_pages(limit: int | None = None) -> list[tuple[str, bytes]]:
    """(name, HTML bytes) of the extraction benchmark's pages, sorted by name."""
    files = sorted((EXTRACTION / "article-extraction-benchmark" / "html").glob("*.html.gz"))
    files += sorted((EXTRACTION / "trafilatura-eval").rglob("*.html.gz"))
    out = []
    for f in files[:limit] if limit else files:
        out.append((f.name.removesuffix(".html.gz"), gzip.decompress(f.read_bytes())))
    return out


def gunzip_members(data: bytes) -> bytes:
    return gzip.GzipFile(fileobj=io.BytesIO(data)).read()
