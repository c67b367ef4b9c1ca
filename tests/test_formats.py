"""Input formats: WARC/WET (the warcio project's test files and WARCs written here from the
extraction benchmark's pages), compressed JSONL, Parquet; through ingest and `cleancorpus clean`."""

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cleancorpus
from cleancorpus.cli import app
from cleancorpus.config import Config, ConfigError, InputConfig
from cleancorpus.document import Document, replay, revert
from cleancorpus.ingest import RejectedInput, SkippedRecords, input_format, iter_documents, list_inputs
from paths import RAW
from warcs import (JSONL_ROWS, PARQUET_ROWS, WARC_DATA, Page, conversion_record, crawl_records, record_id,
                   response_record, small_pages, warcinfo_record, write_format_corpus, write_warc)


def read(d: Path, fields: InputConfig | None = None):
    docs, rejected, skipped = {}, {}, {}
    for item in iter_documents(list_inputs(d), fields=fields):
        if isinstance(item, Document):
            docs[item.source] = item
        elif isinstance(item, RejectedInput):
            rejected[item.source] = item.reason
        else:
            assert isinstance(item, SkippedRecords)
            skipped[item.source] = item.counts
    return docs, rejected, skipped


def rid(key: str) -> str:
    return record_id(key).strip("<>")


def test_file_names_choose_the_reader():
    assert input_format("a.warc.gz") == ("warc", ".warc.gz")
    assert input_format("CC-MAIN-1.warc.wet.gz") == ("warc", ".wet.gz")
    assert input_format("x.jsonl.zst") == ("jsonl", ".jsonl.zst")
    assert input_format("x.JSONL.BZ2") == ("jsonl", ".jsonl.bz2")
    assert input_format("part-0.parquet") == ("parquet", ".parquet")
    assert input_format("page.html") == ("html", ".html")
    assert input_format("notes.gz") is None and input_format("x.arc") is None and input_format(".warc") is None


# -- the warcio project's test files ---------------------------------------------------------
def test_warcio_test_files_good_and_bad(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("example.warc", "example.warc.gz", "example-iana.org-chunked.warc", "example-resource.warc.gz",
                 "example-wget-bad-target-uri.warc.gz", "example-wrong-chunks.warc.gz", "example-trunc.warc",
                 "example-bad-non-chunked.warc.gz", "post-test.warc.gz", "example-space-in-target-uri.warc.gz"):
        shutil.copy(WARC_DATA / name, raw / name)
    shutil.copy(WARC_DATA / "example-bad.warc.gz.bad", raw / "example-bad.warc.gz")
    shutil.copy(WARC_DATA / "bad.arc", raw / "bad.warc")  # not a WARC at all
    docs, rejected, skipped = read(raw)

    page = "example.warc#urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005"
    d = docs[page]
    assert d.text.startswith("This domain is established to be used for illustrative examples")
    assert d.metadata["url"] == "http://example.com/" and d.metadata["http_status"] == 200
    assert d.metadata["warc_record_id"] == "<urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005>"
    assert d.metadata["warc_date"] == "2017-03-06T04:02:06Z" and d.metadata["content_type"] == "text/html"
    assert d.metadata["format"] == "warc" and d.metadata["title"] == "Example Domain"
    assert replay(revert(d.text, d.edits), d.edits) == d.text
    # the gzip-compressed copy is the same page (payload gzip Content-Encoding undone both times)
    assert docs["example.warc.gz#urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005"].text == d.text
    assert skipped["example.warc"] == {"request record": 2, "revisit record (no payload of its own)": 1,
                                       "warcinfo record": 2}
    # chunked transfer encoding, and a record whose chunk sizes are wrong (warcio refuses it)
    assert "Internet Assigned Numbers Authority" in docs["example-iana.org-chunked.warc#urn:uuid:a96ae1a5-931d-4c45-96f3-98576d155f8b"].metadata["title"]
    assert "example-wrong-chunks.warc.gz#urn:uuid:80d63307-60af-43e0-903f-574b2f432b7e" in docs
    # a single-member gzip WARC (warcio refuses it) reads like any other
    assert "example-bad-non-chunked.warc.gz#urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005" in docs
    # a resource record holding a page is kept; wget's log and arguments are crawler metadata
    assert docs["example-resource.warc.gz#urn:uuid:6e7f60da-2c7b-11e7-aaf7-0242ac120007"].metadata["title"] == "Example Domain"
    wget = docs["example-wget-bad-target-uri.warc.gz#urn:uuid:FD8A6D04-AF8A-4A36-A889-8094487CDF2D"]
    assert wget.metadata["url"] == "http://example.com/"  # angle brackets of WARC 1.0 removed
    assert skipped["example-wget-bad-target-uri.warc.gz"]["resource record: crawler metadata (metadata: URI)"] == 2
    assert skipped["post-test.warc.gz"] == {"request record": 3, "response: content type application/json": 3}
    assert skipped["example-space-in-target-uri.warc.gz"]["resource record: content type image/png"] == 1
    assert skipped["example-bad.warc.gz"]["response: HTTP status 302"] == 1
    # example-trunc.warc: the response's gzip body is cut, then the next header is garbage;
    # the warcinfo records before are counted, the response rejected, the rest said to be lost
    trunc = "example-trunc.warc#urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005"
    assert "cut short" in rejected[trunc]
    assert rejected["example-trunc.warc@record 4"].startswith("malformed WARC: ")
    assert skipped["example-trunc.warc"] == {"warcinfo record": 2}
    assert rejected["bad.warc"].startswith("not a WARC file")


# -- WARCs written here from real pages --------------------------------------------------------
def test_a_page_in_a_warc_reads_exactly_as_the_same_html_file(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    pages = small_pages()
    for name, html in pages:
        (raw / f"{name}.html").write_bytes(html)
    write_warc(raw / "crawl.warc.gz", crawl_records(
        [Page(f"https://x.example/{n}", html, chunked=(i == 0), gzip_body=(i == 1)) for i, (n, html) in enumerate(pages)]))
    docs, rejected, skipped = read(raw)
    assert not rejected
    assert skipped["crawl.warc.gz"] == {"metadata record": 2, "request record": 2, "warcinfo record": 1}
    for name, _ in pages:
        html_doc = docs[f"{name}.html"]
        warc_doc = docs[f"crawl.warc.gz#{rid('https://x.example/' + name)}"]
        assert warc_doc.text == html_doc.text
        assert [(e.stage, e.start, e.end, e.before, e.after, e.reason) for e in warc_doc.edits] == \
               [(e.stage, e.start, e.end, e.before, e.after, e.reason) for e in html_doc.edits]
        assert any(e.stage == "html" for e in warc_doc.edits)  # extraction cuts are edits here too
        assert warc_doc.metadata["title"] == html_doc.metadata["title"]
        assert warc_doc.metadata["url"] == f"https://x.example/{name}"


def test_charset_from_http_header_then_page_then_detection(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 4
    body = f"<html><body><p>{text}</p></body></html>"
    meta_body = f'<html><head><meta charset="windows-1251"></head><body><p>{text}</p></body></html>'
    latin = "Les événements de Genève: « café », naïve — fête. " * 4
    write_warc(raw / "c.warc", [
        response_record(Page("https://c.example/header", body.encode("cp1251"), content_type="text/html; charset=windows-1251")),
        response_record(Page("https://c.example/meta", meta_body.encode("cp1251"), content_type="text/html")),
        response_record(Page("https://c.example/latin1-label", f"<p>{latin}</p>".encode("cp1252"),
                             content_type="text/html; charset=ISO-8859-1")),
        response_record(Page("https://c.example/none", f"<p>{latin}</p>".encode("cp1252"), content_type="text/html")),
        response_record(Page("https://c.example/utf8-mislabelled", f"<p>{latin}</p>".encode("utf-8"),
                             content_type="text/html; charset=iso-8859-1")),
        response_record(Page("https://c.example/plain", text.encode("koi8_r"), content_type="text/plain; charset=koi8-r")),
    ])
    docs, rejected, _ = read(raw)
    assert not rejected
    got = {d.metadata["url"].rsplit("/", 1)[1]: d for d in docs.values()}
    assert got["header"].text.strip() == text.strip()
    assert got["header"].metadata["encoding"] == "not valid UTF-8; decoded as windows-1251 (declared in the HTTP header)"
    assert got["meta"].text.strip() == text.strip()
    assert "declared in the page's <meta>" in got["meta"].metadata["encoding"]
    assert got["latin1-label"].text.strip() == latin.strip()  # ISO-8859-1 read as windows-1252 (WHATWG)
    assert "cp1252" in got["latin1-label"].metadata["encoding"]
    assert got["none"].text.strip() == latin.strip()  # detected
    assert "declared" not in got["none"].metadata["encoding"]
    assert got["utf8-mislabelled"].text.strip() == latin.strip() and "encoding" not in got["utf8-mislabelled"].metadata
    assert got["plain"].text == text and got["plain"].metadata["format"] == "warc"
    assert all(e.stage == "ingest" for e in got["plain"].edits)  # re-decoding is recorded


def test_truncated_warc_keeps_the_records_before_and_rejects_the_cut_one(tmp_path):
    pages = [Page(f"https://t.example/{i}", f"<html><body><p>Page number {i} has its own paragraph of text about lakes "
                  f"and ferries and summer timetables.</p></body></html>".encode()) for i in range(4)]
    full = b"".join(response_record(p) for p in pages)
    cut_inside = full.index(b"Page number 2") + 5  # inside the third record's payload
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "cut.warc").write_bytes(full[:cut_inside])
    head = full.index(b"WARC-Date", full.index(b"Page number 1"))  # inside the third record's header
    (raw / "cut-header.warc").write_bytes(full[:head])
    members = [gzip.compress(response_record(p), mtime=0) for p in pages]
    gz = b"".join(members[:2]) + members[2][: len(members[2]) // 2]
    (raw / "cut.warc.gz").write_bytes(gz)
    docs, rejected, _ = read(raw)
    for name in ("cut.warc", "cut.warc.gz", "cut-header.warc"):
        kept = sorted(s for s in docs if s.startswith(name + "#"))
        assert kept == sorted(f"{name}#{rid(p.url)}" for p in pages[:2]), name
    assert rejected[f"cut.warc#{rid(pages[2].url)}"].startswith("truncated WARC record: Content-Length is")
    assert rejected[f"cut.warc.gz#{rid(pages[2].url)}"].startswith("truncated WARC record")
    assert any(s.startswith("cut-header.warc") for s in rejected)
    assert not any(pages[3].url in s for s in docs)


def test_wet_conversion_records_become_documents(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_warc(raw / "CC-MAIN-x.warc.wet.gz", [warcinfo_record(),
                                               conversion_record("https://a.example/", "First extracted text.\nSecond line."),
                                               conversion_record("https://b.example/", "  ")])
    docs, rejected, skipped = read(raw)
    d = docs[f"CC-MAIN-x.warc.wet.gz#{rid('wet https://a.example/')}"]
    assert d.text == "First extracted text.\nSecond line." and not d.edits
    assert d.metadata["format"] == "wet" and d.metadata["url"] == "https://a.example/"
    assert d.metadata["warc_refers_to"] == record_id("https://a.example/")
    assert rejected[f"CC-MAIN-x.warc.wet.gz#{rid('wet https://b.example/')}"] == "no text content"
    assert skipped["CC-MAIN-x.warc.wet.gz"] == {"warcinfo record": 1}


def test_warc_ids_are_stable_and_belong_to_the_record(tmp_path):
    a, b = Page("https://s.example/a", b"<p>Alpha page text about the harbour.</p>"), Page("https://s.example/b", b"<p>Beta page.</p>")
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    write_warc(one / "c.warc.gz", [response_record(a), response_record(b)])
    write_warc(two / "c.warc.gz", [warcinfo_record(), response_record(b), response_record(a)])
    first, again, other = read(one)[0], read(one)[0], read(two)[0]
    assert {s: d.id for s, d in first.items()} == {s: d.id for s, d in again.items()}
    assert {s: d.id for s, d in first.items()} == {s: d.id for s, d in other.items()}  # order, neighbours: no matter


def test_bodies_that_do_not_decode_are_rejected_with_the_reason(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    page = Page("https://b.example/bad-chunks", b"<p>x</p>", chunked=True)
    bad_chunks = response_record(page).replace(b"\r\n8\r\n", b"\r\nzz\r\n")
    bad_gzip = response_record(Page("https://b.example/bad-gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * 16, extra_http=[("Content-Encoding", "gzip")]))
    odd = response_record(Page("https://b.example/odd", b"<p>x</p>", extra_http=[("Content-Encoding", "compress")]))
    write_warc(raw / "b.warc", [bad_chunks, bad_gzip, odd])
    _, rejected, _ = read(raw)
    assert "malformed chunked HTTP body" in rejected[f"b.warc#{rid('https://b.example/bad-chunks')}"]
    assert "not decodable as Content-Encoding gzip" in rejected[f"b.warc#{rid('https://b.example/bad-gzip')}"]
    assert rejected[f"b.warc#{rid('https://b.example/odd')}"] == "unsupported HTTP Content-Encoding 'compress'"


# -- compressed JSONL and Parquet -------------------------------------------------------------
def test_compressed_jsonl_and_parquet_with_other_field_names(tmp_path):
    raw = tmp_path / "raw"
    expect = write_format_corpus(raw)
    docs, rejected, _ = read(raw, InputConfig(text_field="content", id_field="doc_id"))
    assert not rejected
    assert set(docs) == set(expect)
    for name in ("shard.jsonl.gz", "shard.jsonl.bz2", "shard.jsonl.zst"):
        d = docs[f"{name}:2"]
        assert d.text == JSONL_ROWS[1]["content"]
        assert d.metadata == {"format": "jsonl", "doc_id": "j-2", "lang": "en", "input_id": "j-2"}
    p = docs["part.parquet:row 4"]  # the second row group
    assert p.text == PARQUET_ROWS[4]["content"]
    assert p.metadata == {"format": "parquet", "doc_id": "p-4", "score": 0.4, "tags": ["lake", "h4"], "input_id": "p-4"}
    # under the default field names the same files say what is missing, row by row or per file
    _, rejected, _ = read(raw)
    assert rejected["shard.jsonl.zst:1"] == "no 'text' field"
    assert rejected["part.parquet"].startswith("no 'text' column (columns: doc_id, content, score, tags)")


def test_parquet_nulls_types_and_damage(tmp_path):
    import datetime as dt

    raw = tmp_path / "raw"
    raw.mkdir()
    table = pa.Table.from_pylist([
        {"text": "A row with a timestamp and bytes.", "when": dt.datetime(2024, 5, 1, 12, 30), "blob": b"\x00\x01", "x": float("nan")},
        {"text": None, "when": None, "blob": None, "x": 1.0},
        {"text": "   ", "when": None, "blob": None, "x": 2.0},
    ])
    pq.write_table(table, raw / "t.parquet")
    pq.write_table(pa.table({"text": [1, 2]}), raw / "ints.parquet")
    good = (raw / "t.parquet").read_bytes()
    (raw / "cut.parquet").write_bytes(good[: len(good) // 2])
    (raw / "empty.parquet").write_bytes(b"")
    docs, rejected, _ = read(raw)
    d = docs["t.parquet:row 0"]
    assert d.metadata == {"format": "parquet", "when": "2024-05-01T12:30:00", "blob": "AAE=", "x": None}
    assert rejected["t.parquet:row 1"] == "'text' is null"
    assert rejected["t.parquet:row 2"] == "empty 'text'"
    assert rejected["ints.parquet"] == "column 'text' holds int64, not strings"
    assert rejected["cut.parquet"].startswith("not a readable Parquet file")
    assert rejected["empty.parquet"] == "empty file"


def test_truncated_compressed_jsonl_keeps_the_lines_before(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    # lines that do not compress to nothing: pyarrow's zstd stream decodes ~64 KiB at a time, so
    # a cut file keeps the lines of the whole chunks before the cut
    lines = b"".join(json.dumps({"text": f"Line {i} talks about the ferry timetable, ref "
                                         f"{hashlib.sha256(str(i).encode()).hexdigest()}."}).encode() + b"\n"
                     for i in range(3000))
    data = gzip.compress(lines, mtime=0)
    (raw / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    with pa.CompressedOutputStream(str(raw / "full.jsonl.zst"), "zstd") as fh:
        fh.write(lines)
    zst = (raw / "full.jsonl.zst").read_bytes()
    (raw / "cut.jsonl.zst").write_bytes(zst[: len(zst) // 2])
    (raw / "notgzip.jsonl.gz").write_bytes(b"this is not gzip data at all\n")
    docs, rejected, _ = read(raw)
    for name in ("cut.jsonl.gz", "cut.jsonl.zst"):
        kept = [s for s in docs if s.startswith(name + ":")]
        assert 100 < len(kept) < 3000
        assert docs[f"{name}:1"].text.startswith("Line 0 talks")
        (where, why), = [(s, r) for s, r in rejected.items() if s.startswith(name)]
        assert why.startswith("truncated or corrupt compressed stream") and "the rest of the file is not read" in why
    assert len([s for s in docs if s.startswith("full.jsonl.zst:")]) == 3000
    assert rejected["notgzip.jsonl.gz"].startswith("truncated or corrupt compressed stream")


def test_input_field_names_are_validated():
    with pytest.raises(ConfigError):
        InputConfig(text_field="")
    with pytest.raises(ConfigError):
        InputConfig(text_field="id", id_field="id")
    assert Config.from_dict({"input": {"text_field": "content"}}).input.text_field == "content"
    assert Config().fingerprint() != Config.from_dict({"input": {"text_field": "content"}}).fingerprint()


# -- the whole run ----------------------------------------------------------------------------
def test_seeds_and_every_format_through_cleancorpus_clean(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    expect = write_format_corpus(raw)
    out = tmp_path / "clean"
    res = CliRunner().invoke(app, ["clean", str(raw), "--out", str(out), "--text-field", "content", "--id-field", "doc_id"])
    assert res.exit_code == 0, res.output
    v = cleancorpus.load(out)
    m = v.manifest
    outcomes = {o.source: o.to_dict() for o in v.outcomes()}
    assert set(outcomes) == set(expect) | {p.name for p in RAW.iterdir()}
    assert all(o["status"] in ("kept", "duplicate") for o in outcomes.values()), outcomes
    # identical JSONL rows in three compressions: one kept, two duplicates of it
    assert sorted(outcomes[f"{n}:1"]["status"] for n in ("shard.jsonl.gz", "shard.jsonl.bz2", "shard.jsonl.zst")) == \
           ["duplicate", "duplicate", "kept"]
    assert m["config"]["input"] == {"text_field": "content", "id_field": "doc_id"}
    assert m["stages"]["ingest"]["skipped"] == {
        "metadata record": 2, "request record": 2, "response: HTTP status 404": 1,
        "response: content type image/png": 1, "revisit record (no payload of its own)": 1, "warcinfo record": 2}
    docs = {d.source: d for d in v}
    wet = docs[next(s for s in expect if s.startswith("crawl.warc.wet.gz"))]
    assert wet.text.startswith("Balaton is the largest lake")
    page = docs[next(s for s in expect if s.startswith("crawl.warc.gz"))]
    assert page.metadata["http_status"] == 200 and page.metadata["url"].startswith("https://news.example/")
    assert page.metadata["input_id"] == page.metadata["warc_record_id"]
    assert docs["part.parquet:row 0"].metadata["input_id"] == "p-0"
    # mapping our ids to the input's own ids, as README describes
    mapping = {d.metadata["input_id"]: d.id for d in v if "input_id" in d.metadata}
    assert mapping["p-3"] == docs["part.parquet:row 3"].id
    shown = CliRunner().invoke(app, ["show", "latest", "--out", str(out)])
    assert "skipped input records (not documents): metadata record: 2" in shown.output
    made = CliRunner().invoke(app, ["report", "latest", "--out", str(out), "--to", str(tmp_path / "r.html")])
    assert made.exit_code == 0, made.output
    assert "Input records skipped, not documents (WARC): metadata record: 2" in (tmp_path / "r.html").read_text("utf-8")


def test_a_compression_bomb_is_refused_at_the_size_limit(tmp_path):
    from cleancorpus.config import Limits

    raw = tmp_path / "raw"
    raw.mkdir()
    bomb = Page("https://b.example/bomb", b"<p>" + b"a" * 5_000_000 + b"</p>", gzip_body=True)  # ~5 KB gzipped
    write_warc(raw / "b.warc.gz", [response_record(bomb)])
    (item,) = list(iter_documents(list_inputs(raw), limits=Limits(max_doc_bytes=1_000_000)))
    assert isinstance(item, RejectedInput)
    assert item.reason == "decoded HTTP body over the size limit: more than 1000000 bytes (the per-document limit)"


def test_a_record_id_used_twice_still_gives_two_documents(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    rec = response_record(Page("https://d.example/", b"<p>The same record written twice by a broken writer.</p>"))
    write_warc(raw / "d.warc", [rec, rec])
    docs, _, _ = read(raw)
    first = f"d.warc#{rid('https://d.example/')}"
    assert set(docs) == {first, first + " (record 2)"}
    assert docs[first].id != docs[first + " (record 2)"].id


# -- damaged files of every new format: no reader error escapes, something is always said ------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SAMPLES = {}


def _samples() -> dict[str, bytes]:
    """A good file of each format, to be cut and corrupted."""
    if not _SAMPLES:
        import io

        table = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(PARQUET_ROWS), table, row_group_size=2)
        lines = b"".join(json.dumps(r).encode() + b"\n" for r in JSONL_ROWS * 3)
        _SAMPLES.update({
            "x.warc.gz": (WARC_DATA / "example.warc.gz").read_bytes(),
            "x.warc": (WARC_DATA / "example-iana.org-chunked.warc").read_bytes(),
            "x.parquet": table.getvalue(),
            "x.jsonl.gz": gzip.compress(lines, mtime=0),
        })
    return _SAMPLES


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["x.warc.gz", "x.warc", "x.parquet", "x.jsonl.gz"]),
       cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=3))
def test_damaged_files_end_as_documents_or_reasons_never_a_reader_error(tmp_path_factory, name, cut, flips):
    data = bytearray(_samples()[name])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    data = bytes(data[: max(1, int(cut * len(data)))]) if cut < 1 else bytes(data)
    raw = tmp_path_factory.mktemp("damaged")
    (raw / name).write_bytes(data)
    # fail_fast: an exception inside a reader escapes instead of becoming a "reader error"
    items = list(iter_documents(list_inputs(raw), fail_fast=True, fields=InputConfig("content", "doc_id")))
    assert items, "a file must end as documents, rejections or skipped records"
    for item in items:
        if isinstance(item, RejectedInput):
            assert item.reason and not item.reason.startswith("reader error")
