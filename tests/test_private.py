"""A version does not republish the personal data the pii stage redacted: the originals are
withheld from every published table, export, report and summary, and live in a private table
that `revert`, `verify` and `gc` use only where it is reachable (store/private.py)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cleancorpus
from cleancorpus import api
from cleancorpus.cli import app
from cleancorpus.document import Withheld
from cleancorpus.incremental import unpack_blob
from cleancorpus.report import report_path, write_report
from cleancorpus.store import Store, StoreError
from cleancorpus.store import write as write_mod
from cleancorpus.store.export import export
from cleancorpus.store.gc import gc
from cleancorpus.store.verify import verify

A = ("The council met on 12 March 2024 to discuss the new library. About 1,200 residents signed the petition, "
     "and the mayor promised a decision before the summer recess.\n\n"
     "For questions write to jane.doe@example.org or call +44 20 7946 0958. Donations by card 4111 1111 1111 1111; "
     "the booking server answers at 203.0.113.42.\n")
# what the pii stage redacts in A, and the contact line the boilerplate stage cuts from the news
# pages (it runs before the pii stage, so its edit's original holds the address)
ORIGINALS = ["jane.doe@example.org", "+44 20 7946 0958", "4111 1111 1111 1111", "203.0.113.42",
             "press.office@example.net"]
FRAGMENTS = ["jane.doe", "7946 0958", "1111 1111", "203.0.113.42", "press.office"]
NEWS = ["The river festival returns in June with boats, music and a market along the old quay near the bridge.",
        "Volunteers planted two hundred trees in the northern park over the weekend, despite the heavy rain.",
        "The school choir won the regional competition with a programme of folk songs from the valley."]
B = "Ring the harbour master on (020) 7946 0321 before mooring; the quay closes at 18:00 on Sundays.\n"


def corpus(raw: Path) -> Path:
    raw.mkdir()
    (raw / "a.txt").write_text(A, "utf-8")
    (raw / "copy-of-a.txt").write_text(A, "utf-8")  # dropped as a duplicate: the duplicates table
    for i, body in enumerate(NEWS):
        (raw / f"news{i}.txt").write_text(f"{body}\n\nPress enquiries: press.office@example.net\n", "utf-8")
    return raw


def contents(path: Path) -> str:
    """Everything a reader of the file can see: a Parquet file's values and its footer's column
    statistics (the pages are compressed, so its bytes alone prove nothing); a cache entry's
    decompressed bytes (zstd, or gzip from an older version: ``incremental.unpack_blob``); any
    other file's bytes."""
    if path.suffix == ".parquet":
        f = pq.ParquetFile(path)
        parts = [json.dumps(f.read().to_pylist(), ensure_ascii=False, default=str)]
        md = f.metadata
        for rg in range(md.num_row_groups):
            for c in range(md.num_columns):
                s = md.row_group(rg).column(c).statistics
                if s is not None and s.has_min_max:
                    parts.append(f"{s.min!r} {s.max!r}")
        return "\n".join(parts)
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = unpack_blob(data)
    return data.decode("utf-8", "replace")


def leaks(paths) -> list[tuple[str, str]]:
    found = []
    for p in paths:
        text = contents(p)
        found += [(str(p), s) for s in FRAGMENTS if s in text]
    return found


def published_files(out: Path) -> list[Path]:
    tables = ("documents", "duplicates", "edits", "outcomes", "versions")
    return [p for t in tables for p in (out / t).rglob("*") if p.is_file()]


def test_published_tables_exports_and_report_hold_no_original_and_the_private_table_restores(tmp_path):
    raw, out = corpus(tmp_path / "raw"), tmp_path / "clean"
    v = cleancorpus.clean(raw, out).version
    assert v.manifest["counts"] == {"input_files": 5, "documents": 5, "kept": 4, "duplicate": 1, "rejected": 0}

    # the edits are all there, spans and placeholders published, originals withheld
    edits = v.edits()
    a = next(d for d in v.documents() if d.source in ("a.txt", "copy-of-a.txt"))
    assert [(e.stage, e.after, e.end - e.start, e.before) for e in edits[a.id]] == [
        ("pii", "<EMAIL>", 20, None), ("pii", "<PHONE>", 16, None), ("pii", "<CARD>", 19, None), ("pii", "<IP>", 12, None)]
    news = next(d for d in v.documents(with_edits=True) if d.source == "news0.txt")
    assert [(e.stage, e.before, e.after) for e in news.edits] == [("boilerplate", None, "")]
    dup = next(v.dropped())
    assert {a.source, dup.source} == {"a.txt", "copy-of-a.txt"} and all(e.before is None for e in dup.edits)

    # every byte a reader of the published version can reach: tables (data and logs), the
    # exports, the report, the summary as `show` prints it, polars and pandas readers
    files = published_files(out)
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".json" for p in files)
    for fmt in ("jsonl", "parquet"):
        files += list(export(v, tmp_path / f"export-{fmt}", fmt).values())
    files.append(write_report(v, report_path(v)) or report_path(v))
    assert leaks(files) == []
    runner = CliRunner()
    for args in (["show", "--out", str(out), "--list", "all"], ["show", "--out", str(out), "--json"],
                 ["export", "--out", str(out), "--to", str(tmp_path / "cli-export")]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        assert not [s for s in FRAGMENTS if s in r.output]
    assert leaks((tmp_path / "cli-export").iterdir()) == []
    import pandas as pd
    import polars as pl

    for t in ("documents", "duplicates", "edits", "outcomes"):
        seen = pl.read_delta(str(out / t)).write_json() + pd.read_parquet(out / t).to_json()
        assert not [s for s in FRAGMENTS if s in seen], t
    # the report shows a withheld original as a span of its length
    html = report_path(v).read_text("utf-8")
    assert "(withheld: personal data)" in html and "█" * 20 in html

    # the originals are in the private table, under the store by default, owner-only
    priv = out / "_private"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o700 and stat.S_IMODE((out / "_cache").stat().st_mode) == 0o700
    private_text = "".join(contents(p) for p in priv.rglob("*.parquet"))
    assert all(s in private_text for s in ORIGINALS)
    # no statistics of the originals in its Delta log: vacuum deleting a file deletes them
    assert leaks(p for p in priv.rglob("*.json")) == []
    # nor a hash of its files in the published versions table (they are in its own log)
    assert set(json.loads(v.record["private"])) == {"location", "table_version"}
    import hashlib

    shas = [hashlib.sha256(p.read_bytes()).hexdigest() for p in priv.rglob("*.parquet")]
    assert not [h for h in shas if any(h in contents(p) for p in published_files(out))]
    # the incremental cache keeps edits without the originals its input gives back
    cache = [p for p in (out / "_cache").rglob("*") if p.is_file()]
    assert any("/stages/pii-" in str(p) for p in cache) and leaks(cache) == []

    # revert: byte for byte with the private table, a clear refusal without it
    for source, name in (("a.txt", "a.txt"), ("copy-of-a.txt", "copy-of-a.txt"), ("news1.txt", "news1.txt")):
        restored = cleancorpus.revert(out, source, private="_private/pii")
        assert restored.encode("utf-8") == (raw / name).read_bytes()
    with pytest.raises(Withheld, match="private table"):
        cleancorpus.revert(out, "a.txt")
    r = runner.invoke(app, ["revert", "a.txt", "--out", str(out)])
    assert r.exit_code == 1 and "withheld" in r.stderr and "--private" in r.stderr and not r.stdout
    r = runner.invoke(app, ["revert", a.id, "--out", str(out), "--private", str(priv / "pii")])
    assert r.exit_code == 0 and r.stdout.encode("utf-8") == (raw / "a.txt").read_bytes()
    r = runner.invoke(app, ["revert", "a.txt", "--out", str(out), "--private", str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "no private table at" in r.stderr

    # verify covers the private table when it is there
    rep = verify(v)
    assert rep.ok, rep.problems
    assert rep.checked["private"].startswith("11 withheld originals of 5 documents")  # 4 + 4 + 3 x 1


def test_later_versions_carry_the_originals_and_gc_removes_those_of_removed_versions(tmp_path):
    raw, out = corpus(tmp_path / "raw"), tmp_path / "clean"
    v1 = cleancorpus.clean(raw, out).version
    (raw / "b.txt").write_text(B, "utf-8")
    lines = [{"id": "r1", "text": "The ferry timetable changes in May. Bookings: ops.team@example.com or 07700 900123."},
             {"id": "r2", "text": "Lifeboat volunteers train every Tuesday evening at the old station by the pier."}]
    (raw / "contacts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), "utf-8")
    v2 = cleancorpus.clean(raw, out).version
    # only the new sources: the others' private rows stay as they were
    assert v2.manifest["write"]["changed"] == 3
    assert cleancorpus.revert(out, "a.txt", private="_private/pii").encode() == (raw / "a.txt").read_bytes()
    assert cleancorpus.revert(out, "b.txt", private="_private/pii") == B
    jsonl_docs = [d for d in cleancorpus.load(out).documents() if d.source.startswith("contacts.jsonl")]
    assert sorted(cleancorpus.revert(out, d.source, private="_private/pii") for d in jsonl_docs) == sorted(r["text"] for r in lines)
    assert verify(v2).ok and verify(cleancorpus.load(out, v1.id)).ok

    # a.txt and the JSONL file go: their originals are in v1's and v2's private rows only
    (raw / "a.txt").unlink()
    (raw / "copy-of-a.txt").unlink()
    (raw / "contacts.jsonl").unlink()
    v3 = cleancorpus.clean(raw, out).version
    assert cleancorpus.revert(out, "a.txt", v1.id, private="_private/pii").encode() == A.encode()
    files = lambda: "".join(contents(p) for p in (out / "_private").rglob("*") if p.is_file())
    assert "jane.doe@example.org" in files()
    res = gc(Store(out), keep=1)
    assert res.removed == [v1.id, v2.id] and res.deleted_files["private"] >= 1
    # b.txt's stay, a.txt's and the JSONL file's are gone
    assert "jane.doe@example.org" not in files() and "ops.team" not in files() and "7946 0321" in files()
    assert verify(cleancorpus.load(out)).ok
    assert cleancorpus.revert(out, "b.txt", v3.id, private="_private/pii") == B


def test_a_crash_after_the_private_commit_leaves_the_previous_latest_and_is_repaired(tmp_path, monkeypatch):
    raw, out = corpus(tmp_path / "raw"), tmp_path / "clean"
    v1 = cleancorpus.clean(raw, out).version
    (raw / "b.txt").write_text(B, "utf-8")

    def crash(uri, relpath):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(write_mod, "_sha256_at", crash)
    with pytest.raises(OSError, match="simulated"):
        cleancorpus.clean(raw, out)
    assert Store(out).latest_id() == v1.id and verify(Store(out).open()).ok
    monkeypatch.undo()
    v2 = cleancorpus.clean(raw, out).version
    assert v2.parent == v1.id and verify(v2).ok and verify(cleancorpus.load(out, v1.id)).ok
    from deltalake import DeltaTable

    assert any("cleancorpus.repair" in h for h in DeltaTable(str(out / "_private" / "pii")).history())
    assert cleancorpus.revert(out, "b.txt", private="_private/pii") == B


def test_private_out_elsewhere_and_tampering_is_caught(tmp_path):
    raw, out, elsewhere = corpus(tmp_path / "raw"), tmp_path / "clean", tmp_path / "vault" / "pii"
    r = CliRunner().invoke(app, ["clean", str(raw), "--out", str(out), "--private-out", str(elsewhere)])
    assert r.exit_code == 0, r.output
    assert not (out / "_private").exists() and (elsewhere / "_delta_log").is_dir()
    v = cleancorpus.load(out)
    assert v.private_record["location"] == str(elsewhere)
    # a later run without the option keeps using the recorded place
    (raw / "b.txt").write_text(B, "utf-8")
    v2 = cleancorpus.clean(raw, out).version
    assert not (out / "_private").exists() and cleancorpus.revert(out, "b.txt", private=elsewhere) == B
    assert verify(v2).ok and verify(v2).checked["private"].endswith(str(elsewhere))

    key = next(p for p in elsewhere.rglob("*.parquet"))
    data = bytearray(key.read_bytes())
    data[len(data) // 2] ^= 0xFF
    key.write_bytes(bytes(data))
    assert any("private table" in p and "sha256" in p for p in verify(v2).problems)
    r = CliRunner().invoke(app, ["verify", "--out", str(out), "--private", str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "cannot be read" in r.stderr

    (raw / "c.txt").write_text("One more page, so that there is a version to write.\n", "utf-8")
    for bad in ("edits/pii", "."):
        with pytest.raises(StoreError, match="place of its own"):
            cleancorpus.clean(raw, out, private_out=bad)
    # gc cannot reach the private table: it removes nothing rather than leave originals behind
    elsewhere.rename(tmp_path / "vault" / "moved")
    with pytest.raises(StoreError, match="cannot reach the private table"):
        gc(Store(out), keep=1)
    assert [v.id for v in Store(out).versions()] == [v.id, v2.id]


def test_a_store_written_before_withholding_stops_publishing_originals_at_its_next_version(tmp_path, monkeypatch):
    raw, out = corpus(tmp_path / "raw"), tmp_path / "clean"
    monkeypatch.setattr(api, "withhold_policy", lambda config: None)  # as versions written before this change
    v1 = cleancorpus.clean(raw, out).version
    assert any(e.before == "jane.doe@example.org" for es in v1.edits().values() for e in es)
    monkeypatch.undo()
    (raw / "b.txt").write_text(B, "utf-8")
    v2 = cleancorpus.clean(raw, out).version
    # every document with an original to withhold was rewritten, not only the new one
    assert v2.manifest["write"]["changed"] == 6
    assert all(e.before is None for es in v2.edits().values() for e in es if e.stage == "pii")
    assert verify(v2).ok
    assert cleancorpus.revert(out, "a.txt", private="_private/pii").encode() == A.encode()
    # the old version still holds them in its data files until gc removes it; the Delta log of
    # its edits table keeps min/max statistics of them (README: "Personal data")
    parquet = lambda: [p for p in published_files(out) if p.suffix == ".parquet"]
    assert leaks(parquet())
    gc(Store(out), keep=1)
    assert leaks(parquet()) == []


def test_redaction_off_withholds_nothing(tmp_path):
    from cleancorpus.config import Config

    raw, out = corpus(tmp_path / "raw"), tmp_path / "clean"
    stages = tuple(s for s in Config().stages if s != "pii")
    v = cleancorpus.clean(raw, out, Config(stages=stages)).version
    # no private table; only the id key, which keys the ids with or without redaction
    assert v.private_record is None and sorted(p.name for p in (out / "_private").iterdir()) == ["pii.id-key"]
    assert cleancorpus.revert(out, "news0.txt").encode() == (raw / "news0.txt").read_bytes()


@pytest.mark.skipif(__import__("s3server").MOTO is None, reason="moto[server] is not installed (pip install -e '.[test]')")
def test_on_s3_the_originals_go_to_another_bucket_and_the_published_objects_hold_none(tmp_path):
    from s3server import moto_s3

    with moto_s3(tmp_path) as fs:
        local = corpus(tmp_path / "raw")
        for p in sorted(local.iterdir()):
            fs.pipe(f"corpus/raw/{p.name}", p.read_bytes())
        fs.mkdir("vault")
        raw, out, vault = "s3://corpus/raw", "s3://corpus/clean", "s3://vault/pii"
        r = CliRunner().invoke(app, ["clean", raw, "--out", out, "--private-out", vault])
        assert r.exit_code == 0, r.output
        fs.pipe("corpus/raw/b.txt", B.encode())
        v2 = cleancorpus.clean(raw, out).version  # the recorded place again
        assert v2.private_record["location"] == vault and verify(v2).ok
        assert verify(v2).checked["private"].startswith("12 withheld originals of 6 documents")
        assert fs.find("vault/pii") and not fs.find("corpus/clean/_private")
        assert fs.exists("vault/pii.id-key")  # the id key lives beside the private table

        def published():  # every object of the store but the (owner-only) incremental cache
            for key in fs.find("corpus/clean"):
                if "/_cache/" not in key:
                    path = tmp_path / "s3" / key
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(fs.cat(key))
                    yield path

        assert leaks(published()) == []
        assert cleancorpus.revert(out, "b.txt", private=vault) == B
        with pytest.raises(Withheld):
            cleancorpus.revert(out, "b.txt")
        res = gc(Store(out), keep=1)
        assert res.removed and verify(cleancorpus.load(out)).ok
        assert cleancorpus.revert(out, "news2.txt", private=vault).encode() == (local / "news2.txt").read_bytes()


def test_export_and_report_stay_published_when_the_version_was_opened_with_its_private_table(tmp_path):
    raw, out = corpus(tmp_path / "raw"), tmp_path / "clean"
    cleancorpus.clean(raw, out)
    v = Store(out, private="_private/pii").open()
    assert any(e.before == "jane.doe@example.org" for es in v.edits().values() for e in es)
    files = list(export(v, tmp_path / "export", "jsonl").values()) + [write_report(v, tmp_path / "report.html")]
    assert leaks(files) == []
