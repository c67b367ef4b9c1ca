import json
import os

import pytest

import cleancorpus
from cleancorpus.store import Store, VersionNotFound
from cleancorpus.store.verify import diff, verify


def test_clean_builds_a_complete_version(seeds, out):
    result = cleancorpus.clean(seeds, out)
    assert result.created
    v = result.version
    assert (out / "latest").read_text().strip() == v.id
    for name in ("documents.jsonl", "documents.parquet", "manifest.json", "edits.jsonl", "dropped.jsonl"):
        assert (v.path / name).exists(), name
    m = v.manifest
    assert m["version"] == v.id and m["parent"] is None
    assert m["package_version"] == cleancorpus.__version__
    assert m["config"]["stages"][0] == "unicode"
    assert {i["path"] for i in m["inputs"]} == {p.name for p in seeds.iterdir()}
    assert all(len(i["sha256"]) == 64 for i in m["inputs"])
    # every input document is accounted for
    assert m["counts"]["documents"] == 5 == len(m["outcomes"])
    assert m["counts"]["kept"] + m["counts"]["duplicate"] + m["counts"]["rejected"] == 5
    assert verify(v).ok, verify(v).problems


def test_parquet_holds_the_same_rows(seeds, out):
    import pyarrow.parquet as pq

    v = cleancorpus.clean(seeds, out).version
    table = pq.read_table(v.path / "documents.parquet").to_pylist()
    rows = [json.loads(line) for line in (v.path / "documents.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in table] == [r["id"] for r in rows]
    assert [r["text"] for r in table] == [r["text"] for r in rows]
    assert [json.loads(r["metadata"]) for r in table] == [r["metadata"] for r in rows]


def test_unchanged_rerun_writes_nothing(seeds, out):
    first = cleancorpus.clean(seeds, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    second = cleancorpus.clean(seeds, out)
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    assert second.version.id == first.version.id and not second.created
    assert before == after


def test_changed_input_makes_a_child_version(seeds, out):
    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "new.txt").write_text("A brand new document about something else entirely.", "utf-8")
    v2 = cleancorpus.clean(seeds, out).version
    assert v2.id != v1.id
    assert v2.manifest["parent"] == v1.id
    assert Store(out).latest_id() == v2.id
    d = diff(v1, v2)
    assert [a["source"] for a in d["added"]] == ["new.txt"] and not d["removed"]


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
    latest = cleancorpus.load(out)
    assert latest.id == v2.id
    older = cleancorpus.load(out, v1.id)
    assert len(list(older)) == v1.manifest["counts"]["kept"]
    assert len(list(latest)) == len(list(older)) - 1 or v1.manifest["counts"]["duplicate"]
    assert cleancorpus.load(out, v1.id[:8]).id == v1.id  # a unique prefix is enough
    with pytest.raises(VersionNotFound):
        cleancorpus.load(out, "vdoesnotexist")


def test_crash_while_writing_leaves_the_store_intact(seeds, out, monkeypatch):
    v1 = cleancorpus.clean(seeds, out).version
    (seeds / "extra.txt").write_text("Another document to make a new version.", "utf-8")

    from cleancorpus.store import store as store_mod

    real_close = store_mod.VersionWriter.close

    def crash(self):
        real_close(self)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(store_mod.VersionWriter, "close", crash)
    with pytest.raises(OSError, match="simulated"):
        cleancorpus.clean(seeds, out)
    assert Store(out).latest_id() == v1.id
    assert Store(out).version_ids() == [v1.id]
    assert verify(Store(out).open()).ok
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    monkeypatch.undo()
    v2 = cleancorpus.clean(seeds, out).version
    assert v2.id != v1.id and verify(v2).ok


def test_leftovers_of_a_killed_run_are_removed(seeds, out):
    cleancorpus.clean(seeds, out)
    junk = out / ".tmp-vdeadbeef-12345"
    junk.mkdir()
    (junk / "documents.jsonl").write_text("half", "utf-8")
    (seeds / "x.txt").write_text("new text", "utf-8")
    cleancorpus.clean(seeds, out)
    assert not junk.exists()


def test_verify_catches_tampering(seeds, out):
    v = cleancorpus.clean(seeds, out).version
    path = v.path / "documents.jsonl"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    os.chmod(path, 0o644)
    path.write_text("".join(lines[:-1]), "utf-8")
    problems = verify(Store(out).open(v.id)).problems
    assert any("sha256" in p for p in problems)
    assert any("kept documents" in p for p in problems)


def test_editing_the_package_changes_the_version_id(seeds, monkeypatch):
    from cleancorpus import api

    files, inputs = api.describe_inputs(seeds)
    config = cleancorpus.Config()
    before = api.version_id(inputs, config)
    monkeypatch.setattr(api, "package_fingerprint", lambda: "a different word list")
    assert api.version_id(inputs, config) != before


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
