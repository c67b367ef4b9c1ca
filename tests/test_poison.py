"""Issue 12: no single input, stage error or failed write stops a run (CLI, API, any thread)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cleancorpus
from cleancorpus.cli import app
from cleancorpus.store import Store
from cleancorpus.store.verify import verify

from poison import (
    PROSE, build_poisoned_corpus, check_poisoned_outcomes, poison_config, poison_stages,
    strict_json_files, write_config,
)

CLI = [sys.executable, "-c", "from cleancorpus.cli import main; main()"]


def _outcomes(version) -> dict[str, dict]:
    return {o.source: o.to_dict() for o in version.outcomes()}


def _check_version(version, expect, tmp_path: Path) -> None:
    from cleancorpus.store.export import export

    check_poisoned_outcomes(_outcomes(version), expect, version.manifest)
    export(version, tmp_path / "exported", "jsonl")  # the plain files a strict JSON reader gets
    assert strict_json_files(tmp_path / "exported") > 0
    assert verify(version).ok
    docs = {d.source: d for d in version.documents(with_edits=True)}
    # the lone surrogate became U+FFFD through a recorded unicode edit
    lone = docs["poison.jsonl:3"]
    assert "\ufffd" in lone.text and "\ud83d" not in lone.text
    assert any(e.stage == "unicode" and "fix_surrogates" in e.reason for e in lone.edits)
    # NaN/Infinity: null in the output, and the document says where they were
    nan = docs["poison.jsonl:4"]
    assert nan.metadata["score"] is None and nan.metadata["big"] is None and nan.metadata["ok"] == 1
    assert nan.metadata["nonfinite_to_null"] == ["score=NaN", "big=Infinity", "low=-Infinity"]
    # invisible characters removed, each with its reason
    inv = docs["poison.jsonl:8"]
    assert inv.text.startswith("Zerowidth, softhyphen and an RLO evil here.")
    reasons = [e.reason for e in inv.edits if e.stage == "unicode"]
    assert len(reasons) == 4 and all(r.startswith("invisible:") for r in reasons)
    assert docs["poison.jsonl:9"].metadata["title"] == "bad \ufffd title"


def test_poisoned_corpus_through_the_cli(tmp_path):
    raw = tmp_path / "raw"
    expect = build_poisoned_corpus(raw)
    with poison_stages():
        cfg = write_config(tmp_path / "config.json")
        res = CliRunner().invoke(app, ["clean", str(raw), "--out", str(tmp_path / "clean"), "--config", str(cfg)])
        assert res.exit_code == 0, res.output
        _check_version(Store(tmp_path / "clean").open(), expect, tmp_path)


def test_poisoned_corpus_in_a_worker_thread(tmp_path):
    """The time limits hold off the main thread, where a signal could not reach."""
    raw = tmp_path / "raw"
    expect = build_poisoned_corpus(raw, with_seeds=False)
    result: dict = {}

    def run():
        try:
            result["version"] = cleancorpus.clean(raw, tmp_path / "clean", poison_config()).version
        except BaseException as exc:  # pragma: no cover - reported below
            result["error"] = exc

    with poison_stages():
        t = threading.Thread(target=run, name="not-the-main-thread")
        t.start()
        t.join(timeout=600)
        assert not t.is_alive() and "error" not in result, result
        _check_version(result["version"], expect, tmp_path)


def test_fail_fast_lets_the_error_escape(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_text('{"text": "%s EXPLODE-ON-PURPOSE"}\n' % PROSE, "utf-8")
    with poison_stages():
        with pytest.raises(ValueError, match="boom on purpose"):
            cleancorpus.clean(raw, tmp_path / "clean", poison_config(), fail_fast=True)
        cfg = write_config(tmp_path / "config.json")
        res = CliRunner().invoke(app, ["clean", str(raw), "--out", str(tmp_path / "c2"), "--config", str(cfg), "--fail-fast"])
        assert res.exit_code != 0 and isinstance(res.exception, ValueError)
    assert Store(tmp_path / "clean").latest_id() is None


def _first_version(tmp_path: Path) -> tuple[Path, Path, str]:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    (raw / "a.txt").write_text(PROSE * 5, "utf-8")
    v1 = cleancorpus.clean(raw, out).version.id
    # a bigger second version, so that its writes pass the limit
    with open(raw / "more.jsonl", "w", encoding="utf-8") as fh:
        for i in range(400):
            fh.write('{"text": "Record %d. %s"}\n' % (i, PROSE * 4))
    return raw, out, v1


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _after_failure(raw: Path, out: Path, v1: str) -> None:
    store = Store(out)
    assert store.latest_id() == v1
    assert verify(store.open(v1)).ok
    # the next run, with room to write, cleans the leftovers and publishes
    v2 = cleancorpus.clean(raw, out).version.id
    assert v2 != v1 and store.latest_id() == v2
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]


def test_file_size_limit_is_one_line_and_keeps_latest(tmp_path):
    raw, out, v1 = _first_version(tmp_path)

    def limit():  # like `ulimit -f 64`: no file may grow past 64 KiB
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    r = subprocess.run(CLI + ["clean", str(raw), "--out", str(out)], capture_output=True, text=True,
                       preexec_fn=limit, timeout=600)
    assert r.returncode != 0
    line = _one_line_error(r.stderr)
    assert "File too large" in line and "EFBIG" in line and str(out) in line and "latest is unchanged" in line
    _after_failure(raw, out, v1)


def test_read_only_store_is_one_line_and_keeps_latest(tmp_path):
    raw, out, v1 = _first_version(tmp_path)
    cmd = CLI + ["clean", str(raw), "--out", str(out)]
    if os.geteuid() == 0:  # root writes anywhere; drop the capabilities so permissions apply
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *cmd]
    out.chmod(0o555)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    finally:
        out.chmod(0o755)
    assert r.returncode != 0
    line = _one_line_error(r.stderr)
    assert "Permission denied" in line and str(out) in line
    _after_failure(raw, out, v1)
