"""The bad-input battery, crash safety and concurrent runs: nothing is lost, nothing corrupted."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cleancorpus
from cleancorpus.config import Config, Limits
from cleancorpus.store import Store
from cleancorpus.store.verify import verify
from warcs import record_id

CLI = [sys.executable, "-c", "from cleancorpus.cli import main; main()"]
PROSE = (Path(__file__).resolve().parent.parent / "raw" / "002_0bc2088ad81ff738.txt").read_text("utf-8")


def outcomes_by_source(version):
    return {o.source: o.to_dict() for o in version.outcomes()}


def build_battery(d: Path) -> dict[str, str]:
    """Files of every bad kind; returns source -> expected status ('kept' or 'rejected')."""
    d.mkdir(parents=True, exist_ok=True)
    expect = {}
    (d / "good.txt").write_text(PROSE, "utf-8"); expect["good.txt"] = "kept"
    (d / "binary.txt").write_bytes(os.urandom(4096) + b"\x00" * 64); expect["binary.txt"] = "rejected"
    (d / "zero.txt").write_bytes(b""); expect["zero.txt"] = "rejected"
    latin = "Les événements de Budapest ont ému toute l'Europe. Le café était fermé, la fête annulée, à Genève et à Paris."
    (d / "latin1.txt").write_bytes(latin.encode("cp1252")); expect["latin1.txt"] = "kept"
    mixed = "UTF-8 part: Kádár and Gerő. ".encode("utf-8") + "cp1252 part: café, naïve, ‘quotes’.".encode("cp1252")
    (d / "mixed.txt").write_bytes(mixed * 3); expect["mixed.txt"] = "kept"
    (d / "huge.txt").write_bytes(b"word " * (10 * 1024 * 1024)); expect["huge.txt"] = "rejected"  # 50 MB, one line
    (d / "deep.html").write_text("<html><body>" + "<div>" * 10_000 + "Deep text survives." + "</div>" * 10_000 + "</body></html>", "utf-8")
    expect["deep.html"] = "any"
    (d / "allscript.html").write_text("<html><head><script>" + "var a=1;" * 1000 + "</script></head><body><script>x()</script></body></html>", "utf-8")
    expect["allscript.html"] = "rejected"
    lines = [json.dumps({"text": "A fine JSONL document about the weather in Szeged.", "url": "u1"}),
             '{"text": "broken', json.dumps({"title": "missing text"}), json.dumps({"text": ["not", "a", "string"]}),
             json.dumps({"text": None})]
    (d / "mixed.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    expect.update({"mixed.jsonl:1": "kept", "mixed.jsonl:2": "rejected", "mixed.jsonl:3": "rejected",
                   "mixed.jsonl:4": "rejected", "mixed.jsonl:5": "rejected"})
    (d / "name with spaces é ő 日本.txt").write_text("Text in a file whose name has spaces and non-ASCII letters.", "utf-8")
    expect["name with spaces é ő 日本.txt"] = "kept"
    outside = d.parent / "outside-secret.txt"
    outside.write_text("secret text outside the input directory", "utf-8")
    (d / "link-out.txt").symlink_to(outside); expect["link-out.txt"] = "rejected"
    (d / "sub").mkdir()
    (d / "sub" / "nested.txt").write_text("A nested document in a sub folder.", "utf-8"); expect["sub/nested.txt"] = "kept"
    (d / "link-in.txt").symlink_to(d / "sub" / "nested.txt"); expect["link-in.txt"] = "kept"
    expect.update(_bad_archives(d))
    return expect


def _bad_archives(d: Path) -> dict[str, str]:
    """Cut and malformed WARC, compressed JSONL and Parquet files (issue 15): the records
    before the damage are kept, the damaged one and the unread rest rejected with the reason."""
    import gzip
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from warcs import WARC_DATA, Page, record_id, response_record

    expect = {}
    rid = "urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005"
    shutil.copy(WARC_DATA / "example-trunc.warc", d / "trunc.warc")  # body cut, then a broken header
    expect.update({f"trunc.warc#{rid}": "rejected", "trunc.warc@record 4": "rejected"})
    shutil.copy(WARC_DATA / "bad.arc", d / "notwarc.warc")
    expect["notwarc.warc"] = "rejected"
    pages = [Page(f"https://cut.example/{i}", f"<p>Page {i}: {PROSE[:400]}</p>".encode()) for i in range(2)]
    second = gzip.compress(response_record(pages[1]), mtime=0)
    (d / "cut.warc.gz").write_bytes(gzip.compress(response_record(pages[0]), mtime=0) + second[: len(second) // 2])
    expect[f"cut.warc.gz#{record_id(pages[0].url).strip('<>')}"] = "kept"
    expect[f"cut.warc.gz#{record_id(pages[1].url).strip('<>')}"] = "rejected"
    (d / "empty.warc.gz").write_bytes(b"")
    expect["empty.warc.gz"] = "rejected"
    lines = [json.dumps({"text": f"Line {i} of a gzip shard: {PROSE[:200]}"}).encode() + b"\n" for i in range(2)]
    (d / "cut.jsonl.gz").write_bytes(gzip.compress(lines[0], mtime=0) + gzip.compress(lines[1], mtime=0)[:20])
    expect.update({"cut.jsonl.gz:1": "kept", "cut.jsonl.gz:2": "rejected"})
    pq.write_table(pa.table({"text": [PROSE[:300], PROSE[300:600]]}), d / "whole.parquet")
    data = (d / "whole.parquet").read_bytes()
    (d / "whole.parquet").unlink()
    (d / "cut.parquet").write_bytes(data[: len(data) - 20])  # footer gone
    expect["cut.parquet"] = "rejected"
    return expect


def test_bad_input_battery_every_document_accounted_for(tmp_path):
    raw = tmp_path / "raw"
    expect = build_battery(raw)
    version = cleancorpus.clean(raw, tmp_path / "clean").version
    got = outcomes_by_source(version)
    assert set(got) == set(expect), set(got) ^ set(expect)
    for source, status in expect.items():
        o = got[source]
        if status == "rejected":
            assert o["status"] == "rejected" and o["reason"], (source, o)
        elif status == "kept":
            assert o["status"] in ("kept", "duplicate"), (source, o)
        else:
            assert o["status"] == "kept" or o.get("reason"), (source, o)
    reasons = {s: got[s].get("reason", "") for s in got}
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["zero.txt"]
    assert "limit" in reasons["huge.txt"]
    assert "symlink" in reasons["link-out.txt"] and "not followed" in reasons["link-out.txt"]
    assert "invalid JSON" in reasons["mixed.jsonl:2"]
    assert "no 'text' field" in reasons["mixed.jsonl:3"]
    assert "not a string" in reasons["mixed.jsonl:4"]
    assert "truncated WARC record" in reasons[f"cut.warc.gz#{record_id('https://cut.example/1').strip('<>')}"]
    assert "cut short" in reasons["trunc.warc#urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005"]
    assert "malformed WARC" in reasons["trunc.warc@record 4"] and "not a WARC file" in reasons["notwarc.warc"]
    assert "empty file" in reasons["empty.warc.gz"]
    assert "truncated or corrupt compressed stream" in reasons["cut.jsonl.gz:2"]
    assert "not a readable Parquet file" in reasons["cut.parquet"]
    texts = {d.source: d.text for d in version}
    assert "secret text" not in "".join(texts.values())
    assert "événements" in texts.get("latin1.txt", "événements")
    if got["deep.html"]["status"] == "kept":
        assert "Deep text survives." in texts["deep.html"]
    assert verify(version).ok


def test_unreadable_file_is_rejected_not_fatal(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ok.txt").write_text(PROSE, "utf-8")
    locked = raw / "locked.txt"
    locked.write_text("you cannot read me", "utf-8")
    locked.chmod(0o000)
    out = tmp_path / "clean"
    cmd = CLI + ["clean", str(raw), "--out", str(out)]
    if os.geteuid() == 0:
        # root reads any file; drop the capabilities that let it, so permissions apply for real
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = outcomes_by_source(Store(out).open())
    assert got["ok.txt"]["status"] == "kept"
    assert got["locked.txt"]["status"] == "rejected" and "unreadable" in got["locked.txt"]["reason"]
    assert "Permission denied" in got["locked.txt"]["reason"]


def make_corpus(d: Path, n: int) -> None:
    d.mkdir(parents=True, exist_ok=True)
    paragraphs = [p for p in PROSE.split("\n") if len(p) > 40]
    with open(d / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"Record {i}. " + " ".join(paragraphs[(i + k) % len(paragraphs)] for k in range(3)) + f" Serial {i * 7919}."
            fh.write(json.dumps({"text": text, "n": i}) + "\n")


def start(raw: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(CLI + ["clean", str(raw), "--out", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("phase", ["stages", "writing"])
def test_sigkill_during_a_run_leaves_latest_complete(tmp_path, phase):
    raw, out = tmp_path / "raw", tmp_path / "clean"
    (tmp_path / "first").mkdir()
    (tmp_path / "first" / "a.txt").write_text(PROSE, "utf-8")
    v1 = cleancorpus.clean(tmp_path / "first", out).version
    make_corpus(raw, 1200)
    proc = start(raw, out)
    deadline = time.monotonic() + 240
    killed = False
    while proc.poll() is None and time.monotonic() < deadline:
        # the store write has begun once its list of changed rows exists in the run's scratch
        tmp_versions = list(out.glob(".tmp-work-*/changed-outcomes.jsonl"))
        work = list(out.glob(".tmp-work-*"))
        if (phase == "writing" and tmp_versions) or (phase == "stages" and work and not tmp_versions):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    proc.wait(timeout=60)
    store = Store(out)
    assert store.latest_id() in store.version_ids()
    assert verify(store.open()).ok
    if killed:
        assert store.latest_id() == v1.id
        assert any(p.name.startswith(".tmp-") for p in out.iterdir())  # the leftovers a crash leaves
    r = subprocess.run(CLI + ["clean", str(raw), "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    new = store.open()
    assert new.id != v1.id and verify(new).ok and new.manifest["counts"]["documents"] == 1200


def test_a_second_writer_fails_clearly_while_the_store_is_locked(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    (raw / "a.txt").write_text(PROSE, "utf-8")
    with Store(out).lock():
        r = subprocess.run(CLI + ["clean", str(raw), "--out", str(out), "--lock-timeout", "0.5"],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "another cleancorpus run is writing" in r.stderr
    assert Store(out).version_ids() == []


def test_two_concurrent_runs_both_finish_and_the_store_verifies(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "clean"
    make_corpus(raw, 500)
    a, b = start(raw, out), start(raw, out)
    ra, rb = a.communicate(timeout=1200), b.communicate(timeout=1200)
    assert a.returncode == 0 and b.returncode == 0, (ra[1], rb[1])
    assert ra[0].split()[0] == rb[0].split()[0]  # same input, same version
    store = Store(out)
    assert store.version_ids() == [ra[0].split()[0]]
    assert verify(store.open()).ok
    assert sorted(["unchanged" in ra[1], "unchanged" in rb[1]]) == [False, True]


def test_size_limit_rejects_with_that_reason(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "small.txt").write_text("small enough", "utf-8")
    (raw / "big.txt").write_text("x " * 5000, "utf-8")
    cfg = Config(limits=Limits(max_doc_bytes=1000))
    got = outcomes_by_source(cleancorpus.clean(raw, tmp_path / "clean", cfg).version)
    assert got["small.txt"]["status"] == "kept"
    assert got["big.txt"]["status"] == "rejected" and "limit of 1000" in got["big.txt"]["reason"]


def test_time_limit_rejects_a_document_that_stalls_a_stage(tmp_path):
    from cleancorpus.stages.base import REGISTRY, Stage, register

    class Stall(Stage):
        """A stage that never finishes on one document, as a pathological regex would."""

        name = "test-stall"

        def apply(self, doc):
            while "stall" in doc.text:
                pass
            return doc

    register(Stall)
    try:
        raw = tmp_path / "raw"
        raw.mkdir()
        (raw / "fine.txt").write_text("a fine document", "utf-8")
        (raw / "stuck.txt").write_text("this one will stall the stage", "utf-8")
        cfg = Config(stages=("unicode", "test-stall"), limits=Limits(max_stage_seconds=0.5))
        got = outcomes_by_source(cleancorpus.clean(raw, tmp_path / "clean", cfg).version)
    finally:
        REGISTRY.pop("test-stall")
    assert got["fine.txt"]["status"] == "kept"
    assert got["stuck.txt"]["status"] == "rejected"
    assert got["stuck.txt"]["reason"].startswith("test-stall: time limit")
