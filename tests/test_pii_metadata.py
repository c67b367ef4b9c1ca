"""Personal data in metadata values (an HTML <title>, JSONL fields, nested ones) is redacted like
the text: one Edit per match naming the value by its JSON Pointer (``Edit.field``), withheld
from the published version, shown by the report, restored by ``revert --metadata --private``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cleancorpus
from cleancorpus.cli import app
from cleancorpus.document import Document, Withheld, revert, revert_metadata
from cleancorpus.incremental import unpack_blob
from cleancorpus.report import report_path, write_report
from cleancorpus.stages.pii import PiiOptions, PiiStage
from cleancorpus.store.export import export
from cleancorpus.store.verify import verify
from test_private import contents, published_files

ORIGINALS = ["jane.doe@example.org", "+44 20 7946 0321", "plots@example.com"]
PAGE = ("<html><head><title>Contact jane.doe@example.org for tickets</title></head><body><article>"
        "<h1>Harbour festival</h1><p>The harbour festival returns in June with boats, music and a market along "
        "the old quay near the bridge. Volunteers are welcome and the programme is published weekly.</p>"
        "<p>Tickets are sold at the harbour office, which opens at 8 on weekdays and is closed on Sundays.</p>"
        "</article></body></html>\n")
RECORD = {"id": "r1", "text": "The allotment waiting list is open again this spring for residents of the parish.",
          "contact": {"phone": "+44 20 7946 0321", "name": "Plots"}, "tags": ["news", "mail plots@example.com"],
          "published": "2024-03-12", "url": "https://example.org/news/2024/allotments-123456"}


def raw_corpus(raw: Path) -> Path:
    raw.mkdir()
    (raw / "page.html").write_text(PAGE, "utf-8")
    (raw / "plots.jsonl").write_text(json.dumps(RECORD) + "\n", "utf-8")
    return raw


def test_string_values_are_redacted_with_one_edit_each_and_revert():
    meta = {"title": "Mail jane.doe@example.org or bob@example.com", "format": "html", "year": 2024,
            "authors": [{"email": "x.y@example.net", "since": "12 March 2024"}], "version": "v3.12.1"}
    doc = Document("x", "Call +44 20 7946 0958 now.", "a.html", meta)
    out = PiiStage().apply(doc)
    assert out.text == "Call <PHONE> now."
    assert out.metadata["title"] == "Mail <EMAIL> or <EMAIL>" and out.metadata["authors"][0]["email"] == "<EMAIL>"
    # dates, years, version numbers stay; the input is not changed
    assert out.metadata["authors"][0]["since"] == "12 March 2024" and out.metadata["version"] == "v3.12.1"
    assert doc.metadata["title"].startswith("Mail jane.doe")
    assert out.metadata["pii"] == {"email": 3, "phone": 1}
    fields = [(e.field, e.before, e.after) for e in out.edits if e.field]
    assert fields == [("/title", "jane.doe@example.org", "<EMAIL>"), ("/title", "bob@example.com", "<EMAIL>"),
                      ("/authors/0/email", "x.y@example.net", "<EMAIL>")]
    assert all(e.reason.startswith("pii: email (") and e.reason.endswith(e.field) for e in out.edits if e.field)
    assert revert(out.text, out.edits) == doc.text
    assert {k: v for k, v in revert_metadata(out.metadata, out.edits).items() if k != "pii"} == meta
    # a record round trip keeps the field; a text edit's record has none (its digest is unchanged)
    assert [e.to_dict().get("field") for e in out.edits] == [None, "/title", "/title", "/authors/0/email"]
    assert Document.from_record(out.to_record()) == out
    assert PiiStage(PiiOptions(kinds=("phone",))).apply(doc).metadata["title"] == meta["title"]


def test_keys_with_slashes_and_tildes_are_pointed_at_exactly():
    doc = Document("x", "No personal data here.", "a.jsonl:1", {"a/b": {"c~d": ["call +44 20 7946 0321"]}})
    out = PiiStage().apply(doc)
    (e,) = [e for e in out.edits if e.field]
    assert e.field == "/a~1b/c~0d/0"
    assert revert_metadata(out.metadata, out.edits)["a/b"] == doc.metadata["a/b"]
    with pytest.raises(Withheld):
        from dataclasses import replace

        revert_metadata(out.metadata, [replace(e, before=None)])


def test_a_version_withholds_metadata_originals_and_the_private_table_restores_them(tmp_path):
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    v = cleancorpus.clean(raw, out).version
    docs = {d.source: d for d in v.documents(with_edits=True)}
    assert docs["page.html"].metadata["title"] == "Contact <EMAIL> for tickets"
    assert docs["plots.jsonl:1"].metadata["contact"] == {"phone": "<PHONE>", "name": "Plots"}
    assert docs["plots.jsonl:1"].metadata["tags"] == ["news", "mail <EMAIL>"]
    assert docs["plots.jsonl:1"].metadata["published"] == RECORD["published"]
    assert docs["plots.jsonl:1"].metadata["url"] == RECORD["url"]
    assert [(e.field, e.before) for e in docs["page.html"].edits if e.field] == [("/title", None)]
    assert v.manifest["signals"]["pii"]["redactions"] == {"email": 2, "phone": 1}
    assert verify(v).ok and verify(v).checked["private"].startswith("3 withheld originals of 2 documents")

    # nothing a reader can reach holds an original: tables and logs, exports, report, show
    files = published_files(out)
    for fmt in ("jsonl", "parquet"):
        files += list(export(v, tmp_path / f"export-{fmt}", fmt).values())
    report = write_report(v, report_path(v)) or report_path(v)
    files.append(report)
    seen = [contents(p) for p in files]
    r = CliRunner().invoke(app, ["show", "--out", str(out), "--json"])
    assert r.exit_code == 0
    seen.append(r.output)
    assert [o for o in ORIGINALS if any(o in s for s in seen)] == []
    html = report.read_text("utf-8")
    assert "metadata <code>/title</code>" in html and "in metadata /contact/phone" in html
    # nor does the incremental cache (the stages before pii cache only the keys they set)
    cached = [unpack_blob(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
              for p in (out / "_cache").rglob("*") if p.is_file()]
    assert cached and [o for o in ORIGINALS if any(o.encode() in c for c in cached)] == []

    # whoever may read the private table gets them back; without it, a clear error
    runner = CliRunner()
    r = runner.invoke(app, ["revert", "plots.jsonl:1", "--out", str(out), "--metadata", "--private", "_private/pii"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert {k: got[k] for k in ("contact", "tags", "published", "url")} == {k: RECORD[k] for k in ("contact", "tags", "published", "url")}
    assert cleancorpus.revert(out, "page.html", private="_private/pii", metadata=True)["title"] == \
        "Contact jane.doe@example.org for tickets"
    r = runner.invoke(app, ["revert", "page.html", "--out", str(out), "--metadata"])
    assert r.exit_code != 0 and "withheld" in r.output
    # the text of a document whose only redactions are in its metadata reverts without the private table
    assert cleancorpus.revert(out, "plots.jsonl:1") == RECORD["text"]


def test_incremental_and_full_agree_with_metadata_redactions(tmp_path):
    raw, store = raw_corpus(tmp_path / "raw"), tmp_path / "store"
    cleancorpus.clean(raw, store)
    rec = dict(RECORD, id="r2", contact={"phone": "call 020 7946 0999", "name": "Quay"},
               text="The quay market opens on Saturday mornings with fish, bread and vegetables from the valley.")
    with (raw / "plots.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec) + "\n")
    shutil.copytree(store, tmp_path / "full")
    inc = cleancorpus.clean(raw, store).version
    full = cleancorpus.clean(raw, tmp_path / "full", full=True).version
    assert inc.id == full.id
    assert inc.manifest["work"]["stages"]["pii"]["reused"] >= 1
    rows = lambda v: sorted(json.dumps(d.to_record(), sort_keys=True) for d in v.documents(with_edits=True))  # noqa: E731
    assert rows(inc) == rows(full)
    phones = sorted(d.metadata["contact"]["phone"] for d in inc.documents() if "contact" in d.metadata)
    assert phones == ["<PHONE>", "call <PHONE>"]
