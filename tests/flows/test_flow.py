"""The flow gives the version the CLI gives: same id, same documents, same accounting."""

import json
from pathlib import Path

from typer.testing import CliRunner

from cleancorpus import api
from cleancorpus.cli import app
from cleancorpus.store import Store


def _key(out) -> str:
    """A store's id key: another store built with it has the same ids (README "Personal data")."""
    return f"{out}/_private/pii.id-key"


def _cli_clean(raw: Path, out: Path, id_key: str) -> str:
    res = CliRunner().invoke(app, ["clean", str(raw), "--out", str(out), "--id-key", id_key])
    assert res.exit_code == 0, res.output
    return Store(out).latest_id()


def _same_version(out_a: Path, a: str, out_b: Path, b: str) -> None:
    assert a == b
    va, vb = api.load(out_a, a), api.load(out_b, b)
    records = [sorted((d.to_record() for d in v.documents(with_edits=True)), key=lambda r: r["id"]) for v in (va, vb)]
    assert json.dumps(records[0]) == json.dumps(records[1])
    assert sorted(o.to_dict()["id"] for o in va.outcomes()) == sorted(o.to_dict()["id"] for o in vb.outcomes())
    assert sorted(json.dumps(o.to_dict()) for o in va.outcomes()) == sorted(json.dumps(o.to_dict()) for o in vb.outcomes())
    for key in ("config", "inputs", "counts", "stages", "dedup"):
        assert va.manifest[key] == vb.manifest[key], key


def test_flow_matches_the_cli(prefect_api, corpus, tmp_path):
    from cleancorpus_flows.flow import clean_corpus

    # one shard per file, so passes, fits and gathering all see several shards
    got = clean_corpus(raw_dir=str(corpus), out_dir=str(tmp_path / "flow"), shard_mb=1e-6)
    want = _cli_clean(corpus, tmp_path / "cli", _key(tmp_path / "flow"))
    _same_version(tmp_path / "flow", got, tmp_path / "cli", want)
    m = api.load(tmp_path / "flow").manifest
    assert m["counts"]["duplicate"] >= 1 and m["counts"]["rejected"] >= 1
    # unchanged input: same id, nothing new written, scratch space gone
    again = clean_corpus(raw_dir=str(corpus), out_dir=str(tmp_path / "flow"))
    assert again == got
    tables = ["documents", "duplicates", "edits", "outcomes", "versions"]
    # (_cache: the per-document results later runs reuse, README "Versions and incremental runs")
    # (_private: the id key, and the private table when something was redacted)
    assert sorted(p.name for p in (tmp_path / "flow").iterdir()) == sorted([*tables, ".lock", "_cache", "_private"])


def test_bad_configuration_fails_the_flow_run_with_the_reason(prefect_api, corpus, tmp_path):
    from cleancorpus_flows.flow import clean_corpus

    bad = tmp_path / "bad.json"
    bad.write_text('{"stages": ["no-such-stage"]}')
    state = clean_corpus(raw_dir=str(corpus), out_dir=str(tmp_path / "o"), config_path=str(bad), return_state=True)
    assert state.is_failed()
    assert "unknown stage" in str(state.message) or "unknown stage" in repr(state.result(raise_on_failure=False))
    assert Store(tmp_path / "o").latest_id() is None


def test_two_dask_workers_match_the_sequential_run(prefect_api, corpus, tmp_path, dask_dir):
    from cleancorpus_flows.flow import clean_corpus, task_runner

    runner = task_runner(workers=2, local_directory=dask_dir)
    got = clean_corpus.with_options(task_runner=runner)(
        raw_dir=str(corpus), out_dir=str(tmp_path / "dask"), shard_mb=1e-6)
    want = api.clean(corpus, tmp_path / "seq", id_key=_key(tmp_path / "dask")).version.id
    _same_version(tmp_path / "dask", got, tmp_path / "seq", want)


def test_dask_run_against_a_local_s3_server(prefect_api, corpus, tmp_path, dask_dir):
    """Raw input, scratch space and store on S3 (moto on 127.0.0.1), then a second version;
    two Dask worker processes read the inputs, write and read back the spills, fitted stages and
    dedup files (shingle sets by byte range) on S3 themselves: no shared filesystem. The result
    is the local run's, and the scratch prefix is left empty."""
    import pytest

    from s3server import MOTO, moto_s3

    if MOTO is None:
        pytest.skip("moto[server] is not installed")
    from cleancorpus_flows.flow import clean_corpus, task_runner

    with moto_s3(tmp_path) as fs:
        for p in sorted(corpus.iterdir()):
            fs.pipe(f"corpus/raw/{p.name}", p.read_bytes())
        runner = task_runner(workers=2, local_directory=dask_dir)  # workers inherit the AWS_* variables
        got = clean_corpus.with_options(task_runner=runner)(
            raw_dir="s3://corpus/raw", out_dir="s3://corpus/clean", shard_mb=1e-6,
            scratch_dir="s3://corpus/scratch")
        want = api.clean(corpus, tmp_path / "local", id_key=_key("s3://corpus/clean")).version.id
        # same relative paths, same bytes, same config and code: the same version id
        assert got == want
        va, vb = api.load("s3://corpus/clean", got), api.load(tmp_path / "local", want)
        assert sorted(json.dumps(d.to_record()) for d in va.documents(with_edits=True)) == \
            sorted(json.dumps(d.to_record()) for d in vb.documents(with_edits=True))
        fs.pipe("corpus/raw/more.txt", b"Another text, about lighthouses and the keepers who lived in them.")
        second = clean_corpus(raw_dir="s3://corpus/raw", out_dir="s3://corpus/clean")
        v2 = api.load("s3://corpus/clean", second)
        assert v2.parent == got and v2.manifest["counts"]["documents"] == va.manifest["counts"]["documents"] + 1
        from cleancorpus.store.verify import verify

        assert verify(v2).ok and verify(api.load("s3://corpus/clean", got)).ok
        assert not fs.exists("corpus/scratch") or fs.find("corpus/scratch") == []
