"""Issue 12 through the Prefect flow: a poisoned corpus costs its bad documents, not the run,
in task threads and on Dask workers (where no signal could reach a hanging document)."""

import json

import cleancorpus
from cleancorpus.config import Config
from cleancorpus.store.export import export
from cleancorpus.store.verify import verify

from poison import build_poisoned_corpus, check_poisoned_outcomes, poison_stages, strict_json_files, write_config


def _records(version):
    return [json.dumps(d.to_record(), sort_keys=True) for d in sorted(version.documents(with_edits=True), key=lambda d: d.id)]


def _check(out, got, expect):
    version = cleancorpus.load(out)
    assert version.id == got
    check_poisoned_outcomes({o.source: o.to_dict() for o in version.outcomes()}, expect, version.manifest)
    plain = out.parent / f"{out.name}-exported"
    export(version, plain, "jsonl")  # the plain files a strict JSON reader gets
    assert strict_json_files(plain) > 0
    assert verify(version).ok
    return version


def test_poisoned_corpus_through_the_flow(prefect_api, tmp_path):
    from cleancorpus_flows.flow import clean_corpus

    raw = tmp_path / "raw"
    expect = build_poisoned_corpus(raw)
    with poison_stages():  # the flow's default runner: task threads in this process
        cfg = write_config(tmp_path / "config.json")
        state = clean_corpus(raw_dir=str(raw), out_dir=str(tmp_path / "flow"), config_path=str(cfg),
                             shard_mb=1e-6, return_state=True)
        assert state.is_completed(), state.message
        got = state.result()
        version = _check(tmp_path / "flow", got, expect)
        # the same documents as the CLI's run of the same configuration
        want = cleancorpus.clean(raw, tmp_path / "api", Config.load(str(cfg)),
                                 id_key=tmp_path / "flow" / "_private" / "pii.id-key").version
        assert want.id == got
        assert _records(want) == _records(version)


def test_poisoned_corpus_on_dask_workers(prefect_api, tmp_path, dask_dir):
    from cleancorpus_flows.flow import clean_corpus, task_runner

    raw = tmp_path / "raw"
    expect = build_poisoned_corpus(raw, with_seeds=False, test_stages=False)
    cfg = write_config(tmp_path / "config.json", with_test_stages=False)
    runner = task_runner(workers=2, local_directory=dask_dir)
    state = clean_corpus.with_options(task_runner=runner)(
        raw_dir=str(raw), out_dir=str(tmp_path / "dask"), config_path=str(cfg), shard_mb=1e-6, return_state=True)
    assert state.is_completed(), state.message
    _check(tmp_path / "dask", state.result(), expect)
