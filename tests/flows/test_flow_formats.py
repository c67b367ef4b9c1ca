"""The flow reads every input format (WARC, WET, compressed JSONL, Parquet) as the CLI does."""

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from cleancorpus import api
from cleancorpus.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warcs import write_format_corpus  # noqa: E402


def test_flow_reads_every_format_as_the_cli_does(prefect_api, tmp_path):
    from cleancorpus_flows.flow import clean_corpus

    raw = tmp_path / "raw"
    expect = write_format_corpus(raw)
    # one shard per file: the skipped-record counts are merged across shard tasks
    got = clean_corpus(raw_dir=str(raw), out_dir=str(tmp_path / "flow"), shard_mb=1e-6,
                       text_field="content", id_field="doc_id")
    res = CliRunner().invoke(app, ["clean", str(raw), "--out", str(tmp_path / "cli"),
                                   "--text-field", "content", "--id-field", "doc_id"])
    assert res.exit_code == 0, res.output
    want = (tmp_path / "cli" / "latest").read_text().strip()
    assert got == want
    assert (tmp_path / "flow" / got / "documents.jsonl").read_bytes() == (tmp_path / "cli" / want / "documents.jsonl").read_bytes()
    mf, mc = (json.loads((tmp_path / o / v / "manifest.json").read_text()) for o, v in (("flow", got), ("cli", want)))
    for key in ("config", "inputs", "counts", "stages", "outcomes"):
        assert mf[key] == mc[key], key
    m = api.load(tmp_path / "flow").manifest
    assert {o["source"] for o in m["outcomes"]} == set(expect)
    assert m["stages"]["ingest"]["skipped"]["request record"] == 2
