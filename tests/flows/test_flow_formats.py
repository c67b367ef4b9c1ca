"""The flow reads every input format (WARC, WET, compressed JSONL, Parquet) as the CLI does."""

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from cleancorpus import api
from cleancorpus.cli import app
from cleancorpus.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warcs import write_format_corpus  # noqa: E402


def test_flow_reads_every_format_as_the_cli_does(prefect_api, tmp_path):
    from cleancorpus_flows.flow import clean_corpus

    raw = tmp_path / "raw"
    expect = write_format_corpus(raw)
    # one shard per file: the skipped-record counts are merged across shard tasks
    got = clean_corpus(raw_dir=str(raw), out_dir=str(tmp_path / "flow"), shard_mb=1e-6,
                       text_field="content", id_field="doc_id")
    # built with the flow store's id key: ids and version ids are keyed per store (README "Personal data")
    res = CliRunner().invoke(app, ["clean", str(raw), "--out", str(tmp_path / "cli"),
                                   "--text-field", "content", "--id-field", "doc_id",
                                   "--id-key", str(tmp_path / "flow" / "_private" / "pii.id-key")])
    assert res.exit_code == 0, res.output
    want = Store(tmp_path / "cli").latest_id()
    assert got == want
    vf, vc = api.load(tmp_path / "flow", got), api.load(tmp_path / "cli", want)
    records = [sorted((d.to_record() for d in v.documents(with_edits=True)), key=lambda r: r["id"]) for v in (vf, vc)]
    assert json.dumps(records[0]) == json.dumps(records[1])
    assert sorted(json.dumps(o.to_dict()) for o in vf.outcomes()) == sorted(json.dumps(o.to_dict()) for o in vc.outcomes())
    for key in ("config", "inputs", "counts", "stages"):
        assert vf.manifest[key] == vc.manifest[key], key
    assert {o.source for o in vf.outcomes()} == set(expect)
    assert vf.manifest["stages"]["ingest"]["skipped"]["request record"] == 2
