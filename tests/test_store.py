import json

import pytest

import cleancorpus
from cleancorpus.document import Document, Outcome, Status
from cleancorpus.store import ConcurrentWrite, Store, VersionNotFound, VersionRemoved
from cleancorpus.store import write as write_mod
from cleancorpus.store.gc import gc
from cleancorpus.store.verify import diff, verify

COUNTS1 = {"input_files": 1, "documents": 1, "kept": 1, "duplicate": 0, "rejected": 0}


def _write(out, vid, docs, counts=None):
    """A version written straight through the store (no pipeline): every doc kept."""
    items = lambda: [(Outcome(d.id, d.source, Status.KEPT), d) for d in docs]
    n = len(docs)
    counts = counts or {"input_files": n, "documents": n, "kept": n, "duplicate": 0, "rejected": 0}
    out.mkdir(parents=True, exist_ok=True)
    return write_mod.write_version(Store(out), vid, items, lambda: {"counts": counts, "stages": {}},
                                   created="2026-01-01T00:00:00+00:00", commit_metadata={}, scratch=out)[0]


def test_clean_builds_a_complete_version(seeds, out):
    result = cleancorpus.clean(seeds, out)
    assert result.created
    v = result.version
    assert Store(out).latest_id() == v.id
    for name in ("documents", "duplicates", "edits", "outcomes", "versions"):
        assert (out / name / "_delta_log").is_dir(), name
    m = v.manifest
    assert m["version"] == v.id and m["parent"] is None
    assert m["package_version"] == cleancorpus.__version__
    assert m["config"]["stages"][0] == "unicode"
    assert m["inputs"]["files"] == 5 and len(m["inputs"]["sha256"]) == 64
    # every input document is accounted for, one outcome each
    outcomes = v.outcomes()
    assert m["counts"]["documents"] == 5 == len(outcomes)
    assert {o.source for o in outcomes} == {p.name for p in seeds.iterdir()}
    assert m["counts"]["kept"] + m["counts"]["duplicate"] + m["counts"]["rejected"] == 5
    assert len(list(v)) == m["counts"]["kept"] == len(v)
    assert verify(v).ok, verify(v).problems
    assert len(json.dumps(m)) < 20_000  # the summary holds no per-document lists


def test_each_version_is_one_commit_per_table_with_its_metadata(seeds, out):
    from deltalake import DeltaTable

    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "new.txt").write_text("A brand new document about something else entirely.", "utf-8")
    v2 = cleancorpus.clean(seeds, out).version
    for name in ("documents", "edits", "outcomes", "duplicates"):
        ours = [h for h in DeltaTable(str(out / name)).history() if "cleancorpus.version" in h]
        assert [h["cleancorpus.version"] for h in ours] == [v2.id, v1.id], name
        assert ours[0]["cleancorpus.parent"] == v1.id
        assert json.loads(ours[0]["cleancorpus.config"])["stages"][0] == "unicode"
        assert ours[0]["cleancorpus.package_sha256"] == v2.manifest["package_sha256"]
        assert [ours[0]["version"], ours[1]["version"]] == [v2.tables[name], v1.tables[name]]


def test_metadata_is_a_struct_and_round_trips_exactly(out):
    import pyarrow as pa
    from deltalake import DeltaTable

    metas = [
        {"title": "A", "year": 1956, "score": 0.25, "ok": True, "tags": ["x", "y"], "none": None,
         "Odd key!": "v", "big": 2**70, "nested": {"a": [1, {"b": None}]}},
        {"title": "B", "year": "MCMLVI", "score": 1.0, "ok": False, "YEAR": 3, "ünï": "ç"},
        {},
    ]
    docs = [Document(f"d{i}", f"text {i}", f"s{i}", m) for i, m in enumerate(metas)]
    v = _write(out, "vtest", docs)
    assert {d.id: d.metadata for d in cleancorpus.load(out, "vtest")} == {d.id: d.metadata for d in docs}
    schema = pa.schema(DeltaTable(str(out / "documents")).schema().to_arrow())
    fields = {f.name: str(f.type) for f in schema.field("metadata").type}
    assert fields == {"title": "string", "year": "int64", "score": "double", "ok": "bool"}
    assert verify(v).ok, verify(v).problems
    # a later version adds a field without rewriting the first version's rows
    v2 = _write(out, "vtest2", docs + [Document("d9", "t", "s9", {"lang": "en"})])
    assert v2.manifest["write"]["rows_written"]["documents"] == 1
    assert {d.id: d.metadata for d in v2}["d9"] == {"lang": "en"}
    assert {d.id: d.metadata for d in v2}["d0"] == metas[0]


def test_polars_and_pandas_read_latest_and_older_versions_by_time_travel(seeds, out):
    import polars as pl
    from deltalake import DeltaTable

    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "004_dff09041fee8fc03.txt").unlink()
    v2 = cleancorpus.clean(seeds, out).version
    # the versions table maps cleancorpus ids to Delta versions, for readers without cleancorpus
    versions = pl.read_delta(str(out / "versions")).filter(pl.col("event") == "version")
    table_version = {r["version"]: r["tables"]["documents"] for r in versions.iter_rows(named=True)}
    latest = pl.read_delta(str(out / "documents"))
    older = pl.read_delta(str(out / "documents"), version=table_version[v1.id])
    assert sorted(latest["id"].to_list()) == sorted(d.id for d in v2)
    assert sorted(older["id"].to_list()) == sorted(d.id for d in v1)
    assert isinstance(latest.schema["metadata"], pl.Struct)
    assert "format" in [f.name for f in older.schema["metadata"].fields]
    pdf = DeltaTable(str(out / "documents"), version=table_version[v1.id]).to_pandas()
    assert sorted(pdf["id"]) == sorted(d.id for d in v1)
    assert "format" in pdf["metadata"].iloc[0]


def test_unchanged_rerun_writes_nothing(seeds, out):
    first = cleancorpus.clean(seeds, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    second = cleancorpus.clean(seeds, out)
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    assert second.version.id == first.version.id and not second.created
    assert before == after


def test_changed_input_makes_a_child_version_writing_only_what_changed(seeds, out):
    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "new.txt").write_text("A brand new document about gardening and tomatoes in a hot summer.", "utf-8")
    v2 = cleancorpus.clean(seeds, out).version
    assert v2.id != v1.id
    assert v2.manifest["parent"] == v1.id
    assert Store(out).latest_id() == v2.id
    d = diff(v1, v2)
    assert [a["source"] for a in d["added"]] == ["new.txt"] and not d["removed"]
    w = v2.manifest["write"]
    assert w["sources"] == 6 and 1 <= w["changed"] < 6 and not w["full_rewrite"]
    assert w["rows_written"]["outcomes"] == w["changed"]
    old_sources = sorted(o.source for o in cleancorpus.load(out, v1.id).outcomes())
    assert old_sources == sorted(p.name for p in seeds.iterdir() if p.name != "new.txt")
    assert verify(v1).ok and verify(v2).ok


def test_removed_inputs_leave_the_new_version_and_stay_in_the_old(seeds, out):
    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "003_a739058c7e7fc698.txt").unlink()
    v2 = cleancorpus.clean(seeds, out).version
    assert "003_a739058c7e7fc698.txt" not in {o.source for o in v2.outcomes()}
    assert "003_a739058c7e7fc698.txt" in {o.source for o in cleancorpus.load(out, v1.id).outcomes()}
    assert v2.manifest["write"]["removed"] == 1
    assert verify(v2).ok and verify(cleancorpus.load(out, v1.id)).ok


def test_config_change_makes_a_new_version(seeds, out):
    v1 = cleancorpus.clean(seeds, out).version
    cfg = cleancorpus.Config(stage_options={"unicode": {"uncurl_quotes": True}})
    v2 = cleancorpus.clean(seeds, out, cfg).version
    assert v1.id != v2.id
    assert v2.manifest["config"]["stage_options"]["unicode"]["uncurl_quotes"] is True


def test_load_latest_and_older_versions(seeds, out):
    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "004_dff09041fee8fc03.txt").unlink()
    v2 = cleancorpus.clean(seeds, out).version
    assert cleancorpus.load(out).id == v2.id
    older = cleancorpus.load(out, v1.id)
    assert len(list(older)) == v1.manifest["counts"]["kept"]
    assert cleancorpus.load(out, v1.id[:8]).id == v1.id  # a unique prefix is enough
    with pytest.raises(VersionNotFound):
        cleancorpus.load(out, "vdoesnotexist")


def test_crash_before_the_version_commit_leaves_the_previous_latest(seeds, out, monkeypatch):
    from deltalake import DeltaTable

    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "extra.txt").write_text("Another document to make a new version.", "utf-8")
    real = write_mod._sha256

    def crash(store, relpath):
        if relpath.startswith("documents/"):  # edits, duplicates, outcomes are committed by now
            raise OSError("disk full (simulated)")
        return real(store, relpath)

    monkeypatch.setattr(write_mod, "_sha256", crash)
    with pytest.raises(OSError, match="simulated"):
        cleancorpus.clean(seeds, out)
    assert Store(out).latest_id() == v1.id
    assert Store(out).version_ids() == [v1.id]
    assert verify(Store(out).open()).ok
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    monkeypatch.undo()
    v2 = cleancorpus.clean(seeds, out).version  # undoes the half-written commits first
    assert v2.id != v1.id and verify(v2).ok and verify(cleancorpus.load(out, v1.id)).ok
    assert any("cleancorpus.repair" in h for h in DeltaTable(str(out / "edits")).history())


def test_a_second_writer_fails_with_one_clear_line(out, monkeypatch):
    _write(out, "vfirst", [Document("a", "first", "a.txt")])
    real_paths = write_mod._paths
    raced = []

    def race(dt):
        # another writer commits a whole version after this one took its snapshots
        if not raced:
            raced.append(1)
            monkeypatch.setattr(write_mod, "_paths", real_paths)
            _write(out, "vother", [Document("b", "other", "b.txt")])
            monkeypatch.setattr(write_mod, "_paths", race)
        return real_paths(dt)

    monkeypatch.setattr(write_mod, "_paths", race)
    with pytest.raises(ConcurrentWrite, match="another writer committed"):
        _write(out, "vmine", [Document("c", "mine", "c.txt")])
    monkeypatch.undo()
    assert Store(out).latest_id() == "vother"
    assert verify(Store(out).open()).ok


def test_verify_catches_tampering(seeds, out):
    v = cleancorpus.clean(seeds, out).version
    data = sorted((out / "documents").rglob("*.parquet"))[0]
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    problems = verify(Store(out).open(v.id)).problems
    assert any("sha256" in p for p in problems), problems


def test_gc_keeps_what_kept_versions_need_and_reports_removed_ones(seeds, out):
    ids = [cleancorpus.clean(seeds, out).version.id]
    (seeds / "003_a739058c7e7fc698.txt").unlink()
    ids.append(cleancorpus.clean(seeds, out).version.id)
    (seeds / "new.txt").write_text("A new text about rivers, bridges and the boats under them.", "utf-8")
    ids.append(cleancorpus.clean(seeds, out).version.id)
    before = {p for name in ("documents", "outcomes", "edits") for p in (out / name).rglob("*.parquet")}
    res = gc(Store(out), keep=2)
    assert res.removed == ids[:1] and res.kept == ids[1:]
    after = {p for name in ("documents", "outcomes", "edits") for p in (out / name).rglob("*.parquet")}
    assert sum(res.deleted_files.values()) >= 1 and after < before
    for vid in ids[1:]:
        assert verify(cleancorpus.load(out, vid)).ok, vid
    with pytest.raises(VersionRemoved, match="removed by `cleancorpus gc`"):
        cleancorpus.load(out, ids[0])
    assert Store(out).version_ids() == ids[1:]


def test_export_writes_plain_files_that_match_the_version(seeds, out, tmp_path):
    import pyarrow.parquet as pq

    from cleancorpus.store.export import export

    v = cleancorpus.clean(seeds, out).version
    files = export(v, tmp_path / "plain", "jsonl")
    rows = [json.loads(line) for line in files["documents"].read_text("utf-8").splitlines()]
    assert sorted(rows, key=lambda r: r["id"]) == sorted((d.to_row() for d in v), key=lambda r: r["id"])
    assert len(files["outcomes"].read_text("utf-8").splitlines()) == 5
    files = export(v, tmp_path / "pq", "parquet")
    assert pq.read_table(files["documents"]).num_rows == len(v)
    assert json.loads(files["manifest"].read_text("utf-8"))["version"] == v.id


def test_editing_the_package_changes_the_version_id(seeds, monkeypatch):
    from cleancorpus import api

    from cleancorpus.idkey import IdKey

    files, inputs = api.describe_inputs(seeds)
    config, key = cleancorpus.Config(), IdKey.generate()
    before = api.version_id(inputs, config, key)
    monkeypatch.setattr(api, "package_fingerprint", lambda: "a different word list")
    assert api.version_id(inputs, config, key) != before


def test_package_fingerprint_covers_code_and_resources(tmp_path):
    import shutil
    from pathlib import Path

    from cleancorpus import api

    copy = tmp_path / "pkg"
    shutil.copytree(Path(api.__file__).resolve().parent, copy)
    base = api.fingerprint_tree(copy)
    assert base == api.package_fingerprint()  # same files, same fingerprint, wherever they are
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"compiled")
    assert api.fingerprint_tree(copy) == base  # byte-code caches do not count
    stage = copy / "stages" / "unicode.py"
    stage.write_text(stage.read_text("utf-8") + "\n# a code change\n", "utf-8")
    after_code = api.fingerprint_tree(copy)
    assert after_code != base
    lexicon = next((copy / "resources").rglob("*.tsv"))
    lexicon.write_text(lexicon.read_text("utf-8") + "\n", "utf-8")
    assert api.fingerprint_tree(copy) != after_code


def _old_layout_version(v, folder, vid, created):
    """Write ``v`` as the first layout wrote a version (see git history: store/store.py)."""
    folder.mkdir(parents=True)
    edits = v.edits()
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as docs, \
            open(folder / "edits.jsonl", "w", encoding="utf-8") as ed, \
            open(folder / "dropped.jsonl", "w", encoding="utf-8") as dropped:
        for d in v.documents():
            docs.write(json.dumps(d.to_row(), ensure_ascii=False) + "\n")
            if d.id in edits:
                ed.write(json.dumps({"id": d.id, "edits": [e.to_dict() for e in edits[d.id]]}) + "\n")
        for d in v.dropped():
            dropped.write(json.dumps(d.to_record(), ensure_ascii=False) + "\n")
            ed.write(json.dumps({"id": d.id, "edits": [e.to_dict() for e in d.edits]}) + "\n")
    outcomes = [o.to_dict() for o in v.outcomes()]
    clusters = {}
    for o in outcomes:
        if o["status"] == "duplicate":
            clusters.setdefault(o["duplicate_of"], []).append({"id": o["id"], "similarity": o["similarity"], "reason": o["reason"]})
    m = v.manifest
    manifest = {"version": vid, "parent": None, "created": created, "package_version": m["package_version"],
                "package_sha256": m["package_sha256"], "config": m["config"],
                "inputs": [{"path": o["source"], "sha256": "0" * 64} for o in outcomes],
                "counts": m["counts"], "stages": m["stages"],
                "dedup": {"report_only": False, "clusters": [{"kept": k, "dropped": c} for k, c in clusters.items()]},
                "files": {}, "outcomes": outcomes}
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def test_migrate_imports_folder_layout_versions(seeds, out, tmp_path):
    from typer.testing import CliRunner

    from cleancorpus.cli import app

    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "003_a739058c7e7fc698.txt").unlink()
    v2 = cleancorpus.clean(seeds, out).version
    old = tmp_path / "old"
    _old_layout_version(v2, old / "vbbbbbbbbbbbbbbbb", "vbbbbbbbbbbbbbbbb", "2026-02-01T00:00:00+00:00")
    _old_layout_version(v1, old / "vaaaaaaaaaaaaaaaa", "vaaaaaaaaaaaaaaaa", "2026-01-01T00:00:00+00:00")
    new = tmp_path / "new"
    r = CliRunner().invoke(app, ["migrate", str(old), "--out", str(new)])
    assert r.exit_code == 0, r.output
    assert r.stdout.split() == ["vaaaaaaaaaaaaaaaa", "vbbbbbbbbbbbbbbbb"]  # oldest first
    for vid, v in (("vaaaaaaaaaaaaaaaa", v1), ("vbbbbbbbbbbbbbbbb", v2)):
        m = cleancorpus.load(new, vid)
        assert sorted(json.dumps(d.to_record(), sort_keys=True) for d in m.documents(with_edits=True)) == \
            sorted(json.dumps(d.to_record(), sort_keys=True) for d in v.documents(with_edits=True))
        assert sorted(o.to_dict()["source"] for o in m.outcomes()) == sorted(o.source for o in v.outcomes())
        assert verify(m).ok, verify(m).problems
    assert cleancorpus.load(new).id == "vbbbbbbbbbbbbbbbb"
    assert cleancorpus.load(new).parent == "vaaaaaaaaaaaaaaaa"
    again = CliRunner().invoke(app, ["migrate", str(old), "--out", str(new)])
    assert again.exit_code == 0 and "0 version(s) migrated" in again.stderr


def test_the_delete_predicate_names_whole_input_files_and_stays_exact():
    from cleancorpus.store.write import MAX_IN_LIST, touched_predicate

    stored = {f"big.jsonl:{i}" for i in range(1, 30001)} | {"big.jsonl:x", "a.txt", "b.jsonl:1", "b.jsonl:2"}
    # a removed 30,000-line file is one term, not 30,000 names (which crashed delta-rs' parser)
    touched = {s for s in stored if s.startswith("big.jsonl")} | {"b.jsonl:2", "new.jsonl:1"}
    p = touched_predicate(touched, stored)
    from cleancorpus.store.tables import part_of

    parts = ", ".join(map(str, sorted({part_of(s) for s in touched})))  # the touched blocks only
    # big.jsonl:1..30000 in 301 blocks, "big.jsonl:x" (a name of its own), b.jsonl, new.jsonl
    assert len(parts.split(", ")) == 301 + 3
    assert p == (f"part IN ({parts}) AND ((source = 'big.jsonl' OR starts_with(source, 'big.jsonl:')) "
                 "OR source IN ('b.jsonl:2', 'new.jsonl:1'))")
    # a file only partly touched is listed line by line; the term never matches an untouched row
    touched = {f"big.jsonl:{i}" for i in range(1, 11)}
    assert "starts_with" not in touched_predicate(touched, stored)
    assert touched_predicate({f"big.jsonl:{i}" for i in range(1, MAX_IN_LIST + 2)}, stored) is None
    assert "O''Brien" in touched_predicate({"O'Brien.txt"}, stored | {"O'Brien.txt"})


def test_removing_an_input_file_rewrites_only_its_blocks(out, tmp_path):
    from cleancorpus.store.tables import part_of

    files = [f"f{k}.jsonl" for k in range(40)]
    docs = [Document(f"{f}-{i}", f"line {i} of {f}", f"{f}:{i}") for f in files for i in range(1, 201)]
    _write(out, "vone", docs)
    gone = files[7]
    v2 = _write(out, "vtwo", [d for d in docs if not d.source.startswith(gone + ":")])
    w = v2.manifest["write"]
    assert w["removed"] == 200 and not w["full_rewrite"]
    # only the files of the removed input's partition were removed or rewritten, the others kept
    import pyarrow as pa

    def files(vid):
        dt = cleancorpus.load(out, vid).table("documents")
        return set(pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist())

    # its blocks (part = file bucket and run of 100 lines: 3 here), nothing else
    mine = tuple({f"part={part_of(f'{gone}:{i}')}/" for i in range(1, 201)})
    assert len(mine) == 3
    before, after = files("vone"), files("vtwo")
    assert {f for f in before if not f.startswith(mine)} == {f for f in after if not f.startswith(mine)}
    assert not {f for f in before if f.startswith(mine)} & {f for f in after if f.startswith(mine)}
    assert len(v2) == 7800 and verify(v2).ok
    assert len(list(cleancorpus.load(out, "vone"))) == 8000


def _data_files(out, vid, table="documents"):
    import pyarrow as pa

    dt = cleancorpus.load(out, vid).table(table)
    return set(pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist())


def test_edits_spread_over_every_input_file_rewrite_only_their_blocks(out):
    """Delta rewrites a data file whole to change one row in it: an edit anywhere costs its block
    (its file's bucket, its run of 100 records), not its input file's share of the table."""
    from cleancorpus.store.tables import part_of

    files = [f"f{k}.jsonl" for k in range(40)]
    docs = [Document(f"{f}-{i}", f"line {i} of {f}", f"{f}:{i}") for f in files for i in range(1, 301)]
    _write(out, "vone", docs)
    edited = {f"{f}:{1 + (k * 97) % 300}" for k, f in enumerate(files)}  # one per file, lines spread
    changed = [Document(d.id, d.text + " (edited)", d.source) if d.source in edited else d for d in docs]
    v2 = _write(out, "vtwo", changed)
    assert v2.manifest["write"]["changed"] == 40 and not v2.manifest["write"]["full_rewrite"]
    blocks = tuple({f"part={part_of(s)}/" for s in edited})
    before, after = _data_files(out, "vone"), _data_files(out, "vtwo")
    assert len(before) > 100  # 40 files x 3 blocks, fewer where two files share a bucket
    # untouched blocks keep their files; each touched block has one new file instead of its old one
    assert {f for f in before if not f.startswith(blocks)} == {f for f in after if not f.startswith(blocks)}
    new = after - before
    assert len(new) == len(blocks) and all(f.startswith(blocks) for f in new)
    assert not {f for f in before if f.startswith(blocks)} & after
    assert sorted((d.source, d.text) for d in v2) == sorted((d.source, d.text) for d in changed)
    assert verify(v2).ok and verify(cleancorpus.load(out, "vone")).ok


def test_a_store_in_the_previous_layout_is_rewritten_in_blocks(out, monkeypatch):
    """A store written with 16 partitions by input-file hash (before blocks): its next version
    rewrites every table in blocks (a delete naming blocks would miss its rows); the old version
    still reads by time travel."""
    from cleancorpus.store import tables

    docs = [Document(f"f{k}-{i}", f"line {i} of f{k}", f"f{k}.jsonl:{i}") for k in range(5) for i in range(1, 251)]
    with monkeypatch.context() as m:
        m.setattr(tables, "FILE_BUCKETS", 16)
        m.setattr(tables, "BLOCK_ROWS", 10**15)
        _write(out, "vold", docs)
    assert len({f.split("/")[0] for f in _data_files(out, "vold")}) <= 5  # one partition per file
    changed = [Document(d.id, d.text + "!", d.source) if d.source == "f2.jsonl:7" else d for d in docs]
    v2 = _write(out, "vnew", changed)
    assert v2.manifest["write"]["full_rewrite"]
    assert all(r["part"] == tables.part_of(r["source"]) for r in v2.rows("outcomes", ["source", "part"]))
    assert len({f.split("/")[0] for f in _data_files(out, "vnew")}) == len({tables.part_of(d.source) for d in docs})
    assert sorted((d.source, d.text) for d in v2) == sorted((d.source, d.text) for d in changed)
    old = cleancorpus.load(out, "vold")
    assert sorted((d.source, d.text) for d in old) == sorted((d.source, d.text) for d in docs)
    assert verify(v2).ok and verify(old).ok
    # and the version after that is incremental again
    v3 = _write(out, "vthree", [Document(d.id, d.text + "?", d.source) if d.source == "f4.jsonl:200" else d
                                for d in changed])
    assert v3.manifest["write"]["changed"] == 1 and not v3.manifest["write"]["full_rewrite"]


def test_gc_keep_since_and_dry_run(out):
    from datetime import datetime, timezone

    docs = [Document("a", "first", "a.txt")]
    for i in range(3):
        docs.append(Document(f"n{i}", f"text {i}", f"n{i}.txt"))
        _write(out, f"v{i}", docs)
    assert gc(Store(out), keep_since=datetime(2000, 1, 1, tzinfo=timezone.utc)).removed == []
    plan = gc(Store(out), keep_since=datetime(2999, 1, 1), dry_run=True)
    assert plan.removed == ["v0", "v1"] and plan.kept == ["v2"]  # the latest is always kept
    assert Store(out).version_ids() == ["v0", "v1", "v2"]  # a dry run changes nothing
    with pytest.raises(Exception, match="--keep"):
        gc(Store(out))
    with pytest.raises(Exception, match="at least 1"):
        gc(Store(out), keep=0)


def test_each_table_rewrites_only_the_blocks_of_sources_it_holds(out):
    """A changed source's rows are deleted only from the tables its old status put it in, and
    written only to those of its new one: kept documents that change rewrite no block of
    ``duplicates``. Every status move (kept, duplicate, rejected, removed, new) comes out exact."""
    from cleancorpus.document import Edit

    def items_of(states):
        def items():
            out_items = []
            for src, (status, text) in sorted(states.items()):
                edits = (Edit("unicode", 0, 1, "x", "y", "a repair"),) if text.endswith("!") else ()
                doc = Document(f"id-{src}", text, src, {"n": len(text)}, edits)
                o = Outcome(doc.id, src, status, reason="r" if status is not Status.KEPT else None,
                            duplicate_of="id-f1.jsonl:1" if status is Status.DUPLICATE else None)
                out_items.append((o, None if status is Status.REJECTED else doc))
            return out_items
        return items

    def write(vid, states):
        counts = {"input_files": len({s.split(":")[0] for s in states}), "documents": len(states),
                  **{st.value: sum(st is got for got, _ in states.values()) for st in Status}}
        return write_mod.write_version(Store(out), vid, items_of(states), lambda: {"counts": counts, "stages": {}},
                                       created="2026-01-01T00:00:00+00:00", commit_metadata={}, scratch=out)[0]

    out.mkdir(parents=True, exist_ok=True)
    K, D, R = Status.KEPT, Status.DUPLICATE, Status.REJECTED
    one = {f"f{k}.jsonl:{i}": ((D if i % 7 == 0 else K), f"text {k} {i}!") for k in range(6) for i in range(1, 201)}
    one.update({f"g{k}.jsonl:{i}": (R, "") for k in range(2) for i in range(1, 11)})
    write("v1", one)
    # only kept documents change their text: the duplicates table keeps every file
    two = dict(one)
    for k in range(6):
        two[f"f{k}.jsonl:5"] = (K, "changed text")
    v2 = write("v2", two)
    assert _data_files(out, "v1", "duplicates") == _data_files(out, "v2", "duplicates")
    assert v2.manifest["write"]["changed"] == 6 and not v2.manifest["write"]["full_rewrite"]
    # every move between tables, a removed source of each status and a new one of each
    three = dict(two)
    three.update({"f0.jsonl:1": (D, "text 0 1!"), "f1.jsonl:7": (K, "text 1 7!"), "f2.jsonl:2": (R, ""),
                  "g0.jsonl:3": (K, "back!"), "g1.jsonl:4": (D, "back as a duplicate"),
                  "f3.jsonl:14": (R, ""), "n.jsonl:1": (K, "new!"), "n.jsonl:2": (D, "new"), "n.jsonl:3": (R, "")})
    for gone in ("f4.jsonl:3", "f4.jsonl:21", "g0.jsonl:5"):
        del three[gone]
    v3 = write("v3", three)
    assert not v3.manifest["write"]["full_rewrite"]
    kept = {s: t for s, (st, t) in three.items() if st is K}
    assert {d.source: d.text for d in v3} == kept
    assert {d.source: d.text for d in v3.dropped()} == {s: t for s, (st, t) in three.items() if st is D}
    assert {o.source: o.status for o in v3.outcomes()} == {s: st for s, (st, _) in three.items()}
    assert set(v3.edits()) == {f"id-{s}" for s, (st, t) in three.items() if st is not R and t.endswith("!")}
    assert verify(v3).ok, verify(v3).problems
    assert {d.source: d.text for d in cleancorpus.load(out, "v2")} == {s: t for s, (st, t) in two.items() if st is K}
