"""Write small WARC files for tests and bench/warc_ingest.py (a plain module, like paths.py).

Records are built by hand, byte by byte, so a test controls every header (charsets, status,
chunked bodies, content encodings) and can cut a file wherever it wants. Record ids and dates are
derived from the URL, so a written file is the same bytes every time.
"""

from __future__ import annotations

import gzip
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from paths import ROOT

EXTRACTION = ROOT.parent / "shared" / "benchmarks" / "extraction"  # bench/warc_ingest.py only
DATA = Path(__file__).resolve().parent / "data"  # copied into the repository (see its README)
WARC_DATA = DATA / "warc"


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


# -- a small corpus with one file of every input format ----------------------------------------
SMALL_PAGES = ("85439e26c41c75901820d01a13e8cea7836abb58635ea3986f71a163ab0311d3",
               "ba07d1e64775f4090e39116c382111f5a2cfe9528dd179673f4e9bfcea370c15")


def small_pages() -> list[tuple[str, bytes]]:
    """Two of the smallest extraction-benchmark pages (real news pages, quick to extract)."""
    d = DATA / "pages"
    return [(n, gzip.decompress((d / f"{n}.html.gz").read_bytes())) for n in SMALL_PAGES]


JSONL_ROWS = [
    {"doc_id": "j-1", "content": "The ferry to Tihany leaves the pier at nine every morning in summer.", "lang": "en"},
    {"doc_id": "j-2", "content": "Szeged's open-air theatre season opens with an opera on the cathedral square.", "lang": "en"},
]
PARQUET_ROWS = [
    {"doc_id": f"p-{i}", "content": f"Row {i} of the parquet shard describes harbour number {i} on the lake.",
     "score": i / 10, "tags": ["lake", f"h{i}"]}
    for i in range(5)
]


def write_format_corpus(d: Path) -> dict[str, str]:
    """A WARC crawl (pages, a 404, an image, a revisit, requests, metadata), a WET file, JSONL
    compressed three ways and a Parquet file of two row groups whose text is under ``content``
    and id under ``doc_id``. Returns {source: page name or row id} of the documents to expect."""
    import bz2

    import pyarrow as pa
    import pyarrow.parquet as pq

    d.mkdir(parents=True, exist_ok=True)
    pages = [Page(f"https://news.example/{n[:12]}", html) for n, html in small_pages()]
    records = crawl_records(pages)
    records.append(response_record(Page("https://news.example/missing", b"<html>gone</html>", status=404, reason="Not Found")))
    records.append(response_record(Page("https://news.example/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")))
    records.append(warc_record("revisit", [("WARC-Record-ID", record_id("revisit")), ("WARC-Target-URI", pages[0].url),
                                           ("WARC-Date", "2026-01-03T00:00:00Z")], b""))
    write_warc(d / "crawl.warc.gz", records)
    write_warc(d / "crawl.warc.wet.gz", [warcinfo_record(), conversion_record(
        "https://lake.example/wet", "Balaton is the largest lake in Central Europe.\nIts water is shallow and warm.")])
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in JSONL_ROWS)
    (d / "shard.jsonl.gz").write_bytes(gzip.compress(lines, mtime=0))
    (d / "shard.jsonl.bz2").write_bytes(bz2.compress(lines))
    with pa.CompressedOutputStream(str(d / "shard.jsonl.zst"), "zstd") as fh:
        fh.write(lines)
    pq.write_table(pa.Table.from_pylist(PARQUET_ROWS), d / "part.parquet", row_group_size=3)
    expect = {f"crawl.warc.gz#{record_id(p.url).strip('<>')}": p.url for p in pages}
    expect[f"crawl.warc.wet.gz#{record_id('wet https://lake.example/wet').strip('<>')}"] = "wet"
    for name in ("shard.jsonl.gz", "shard.jsonl.bz2", "shard.jsonl.zst"):
        expect.update({f"{name}:{i + 1}": r["doc_id"] for i, r in enumerate(JSONL_ROWS)})
    expect.update({f"part.parquet:row {i}": r["doc_id"] for i, r in enumerate(PARQUET_ROWS)})
    return expect
