"""The flow's units of work as plain functions: no Prefect, no server."""

import pickle
from pathlib import Path

import pytest

from cleancorpus import api
from cleancorpus.config import Config
from cleancorpus.pipeline import Pipeline
from cleancorpus_flows import work


def test_segments_cut_where_the_pipeline_cuts():
    config = Config()
    got = [list(s.stages) for s in work.segments(config)]
    want = [[st.name for st in seg] for seg in Pipeline(config).segments]
    assert got == want
    assert list(work.new_reports(config)) == list(Pipeline(config).new_reports())


def test_shards_keep_order_and_cover_every_file(corpus, out):
    p = api.plan(corpus, out)
    for shard_bytes, max_shards in ((1, 256), (1, 3), (10**9, 256), (5000, 256)):
        shards = work.plan_shards(p.files, p.inputs, shard_bytes, max_shards)
        assert [f for s in shards for f in s] == list(p.files)
        assert 1 <= len(shards) <= max_shards
    assert len(work.plan_shards(p.files, p.inputs, 1, 256)) == len(p.files)
    assert work.plan_shards([], [], 1, 4) == [()]
    with pytest.raises(ValueError):
        work.plan_shards(p.files, p.inputs, 0, 4)


def test_chunks_are_ordered_and_bounded():
    items = list(range(10))
    for parts in (1, 3, 16):
        cs = work.chunks(items, parts)
        assert [x for c in cs for x in c] == items and len(cs) == min(parts, 10)
        assert all(cs)
    assert work.chunks([], 4) == [[]]


@pytest.mark.parametrize("shard_bytes", [1, 10**9])
def test_sharded_run_spills_what_the_sequential_run_spills(corpus, out, tmp_path, shard_bytes):
    p = api.plan(corpus, out)
    seq = Pipeline(p.config).run(api.iter_documents(p.files, p.config.limits, id_key=p.id_key), tmp_path / "seq")
    (tmp_path / "sharded").mkdir()
    run = work.run_stages(p, tmp_path / "sharded", shard_bytes, 256)
    assert run.spill.read_bytes() == seq.spill.read_bytes()
    assert {k: r.to_dict() for k, r in run.reports.items()} == {k: r.to_dict() for k, r in seq.reports.items()}
    key = lambda o: (o.source, o.id)  # noqa: E731
    assert sorted(run.rejected, key=key) == sorted(seq.rejected, key=key) and run.rejected
    assert run.documents_in == seq.documents_in
    # only the final spill (and fitted stages) remain: the per-shard spills were removed
    assert {f.suffix for f in (tmp_path / "sharded").iterdir()} <= {".jsonl", ".pickle"}
    assert len(list((tmp_path / "sharded").glob("*.jsonl"))) == 1


def test_fitted_stage_is_a_fresh_instance_shipped_as_a_file(corpus, out, tmp_path):
    config = Config()
    seg = next((s for s in work.segments(config) if s.needs_fit), None)
    if seg is None:
        pytest.skip("no registered stage needs the corpus")
    p = api.plan(corpus, out, config)
    spill = work.run_pass(work.PassJob("ingest", config, None, tuple(p.files), tmp_path / "in.jsonl"))
    cached = work.pipeline_for(config).stages[seg.start]
    before = pickle.dumps(cached)
    res = work.fit_stage(work.FitJob("fit", config, seg.start, (spill.out,), tmp_path / "fit.pickle"))
    assert res.path.stat().st_size == res.pickle_bytes > 0
    assert pickle.dumps(cached) == before  # the shared, cached stage was not fitted in place
    fitted = work.pipeline_for(config, {seg.start: res.path})
    assert type(fitted.stages[seg.start]) is type(cached)
    assert work.pipeline_for(config, {seg.start: res.path}) is fitted  # loaded once per process
