"""The store and the inputs on S3-compatible object storage: a local moto server on 127.0.0.1,
started for these tests and stopped after, reached through the standard AWS_* variables."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import cleancorpus
from cleancorpus.cli import app
from cleancorpus.store import Store, VersionRemoved
from cleancorpus.store.gc import gc
from cleancorpus.store.verify import diff, verify

from paths import RAW
from s3server import MOTO, moto_s3

pytestmark = pytest.mark.skipif(MOTO is None, reason="moto[server] is not installed (pip install -e '.[test]')")


@pytest.fixture
def s3(tmp_path):
    with moto_s3(tmp_path) as fs:
        for p in sorted(RAW.iterdir()):
            fs.pipe(f"corpus/raw/{p.name}", p.read_bytes())
        yield fs


def test_clean_versions_time_travel_gc_and_verify_on_s3(s3):
    from deltalake import DeltaTable

    raw, out = "s3://corpus/raw", "s3://corpus/clean"
    r = CliRunner().invoke(app, ["clean", raw, "--out", out])
    assert r.exit_code == 0, r.output
    v1 = Store(out).open(r.stdout.split()[0])
    assert v1.manifest["counts"]["documents"] == 5 and verify(v1).ok
    assert s3.exists("corpus/clean/documents/_delta_log/00000000000000000000.json")

    # unchanged input: same id, nothing written
    listing = sorted(s3.find("corpus/clean"))
    again = cleancorpus.clean(raw, out)
    assert again.version.id == v1.id and not again.created and sorted(s3.find("corpus/clean")) == listing

    s3.pipe("corpus/raw/new.txt", b"A new document about rivers, bridges and the boats that pass under them.")
    v2 = cleancorpus.clean(raw, out).version
    assert v2.parent == v1.id and [a["source"] for a in diff(v1, v2)["added"]] == ["new.txt"]
    assert v2.manifest["write"]["changed"] < 6

    # time travel, without cleancorpus: the older Delta version of the documents table
    older = DeltaTable(f"{out}/documents", version=v1.tables["documents"]).to_pyarrow_table()
    assert sorted(older.column("id").to_pylist()) == sorted(d.id for d in cleancorpus.load(out, v1.id))
    assert len(DeltaTable(f"{out}/documents").to_pyarrow_table()) == len(v2)

    res = gc(Store(out), keep=1)
    assert res.removed == [v1.id] and res.kept == [v2.id]
    assert verify(cleancorpus.load(out)).ok
    with pytest.raises(VersionRemoved):
        cleancorpus.load(out, v1.id)
    r = CliRunner().invoke(app, ["verify", v1.id, "--out", out])
    assert r.exit_code != 0 and "removed by `cleancorpus gc`" in r.stderr


def test_tampering_on_s3_is_caught(s3):
    out = "s3://corpus/clean"
    v = cleancorpus.clean("s3://corpus/raw", out).version
    key = next(k for k in s3.find("corpus/clean/documents") if k.endswith(".parquet"))
    data = bytearray(s3.cat(key))
    data[len(data) // 2] ^= 0xFF
    s3.pipe(key, bytes(data))
    problems = verify(Store(out).open(v.id)).problems
    assert any("sha256" in p for p in problems), problems


def test_a_missing_bucket_prefix_fails_clearly(s3):
    r = CliRunner().invoke(app, ["clean", "s3://corpus/nothing-here", "--out", "s3://corpus/clean"])
    assert r.exit_code != 0 and "does not exist" in r.stderr


def _records(version) -> list[str]:
    import json

    return sorted(json.dumps(d.to_record()) for d in version.documents(with_edits=True))


def test_scratch_on_s3_gives_what_local_scratch_gives(s3, tmp_path):
    """Spills, fitted stages and the dedup files (batches, signatures, shingle sets read back by
    byte range) under an s3:// prefix: same versions as with a local scratch directory, first
    run and incremental second run (dedup index rows combined with new ones), and the prefix
    is left empty."""
    import json

    first = sorted(RAW.glob("*.txt"))[1].read_text(encoding="utf-8")
    extra = {"dup_exact.txt": first, "dup_near.txt": first + "\nOne more closing sentence, added by a copier.\n"}
    local_raw = tmp_path / "raw"
    local_raw.mkdir()
    for p in sorted(RAW.iterdir()):
        (local_raw / p.name).write_bytes(p.read_bytes())
    for name, text in extra.items():
        s3.pipe(f"corpus/raw/{name}", text.encode())
        (local_raw / name).write_text(text, encoding="utf-8")

    runs = []
    for step in range(2):
        if step:
            more = b"A new document about rivers, bridges and the boats that pass under them."
            s3.pipe("corpus/raw/new.txt", more)
            (local_raw / "new.txt").write_bytes(more)
        if step:
            on_s3 = cleancorpus.clean("s3://corpus/raw", "s3://corpus/clean", scratch_dir="s3://corpus/tmp").version
        else:  # the CLI's option
            r = CliRunner().invoke(app, ["clean", "s3://corpus/raw", "--out", "s3://corpus/clean",
                                         "--scratch", "s3://corpus/tmp"])
            assert r.exit_code == 0, r.output
            on_s3 = Store("s3://corpus/clean").open(r.stdout.split()[0])
        # with the S3 store's id key (beside its private table): the same ids, the same version
        local = cleancorpus.clean(local_raw, tmp_path / "clean", scratch_dir=tmp_path / "tmp",
                                  id_key="s3://corpus/clean/_private/pii.id-key").version
        assert on_s3.id == local.id
        assert _records(on_s3) == _records(local)
        assert sorted(json.dumps(o.to_dict()) for o in on_s3.outcomes()) == \
            sorted(json.dumps(o.to_dict()) for o in local.outcomes())
        runs.append(on_s3)
        assert not s3.exists("corpus/tmp") or s3.find("corpus/tmp") == []
    assert runs[0].manifest["counts"]["duplicate"] >= 2  # the copies: verification ran on S3-held sets
    assert runs[1].manifest["work"]["dedup"]["signatures_reused"] > 0  # the index path ran too
    assert list((tmp_path / "tmp").iterdir()) == []
