"""A segment of several stages takes documents through them a batch at a time, stage by stage
(pipeline.Pipeline._batched). Its results must be those of one document at a time through every
stage: the same documents out, the same reports, the same rejections in the same order (the
upstream ones appended while a batch is read included), and with a stage cache the same stored
entries, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleancorpus import pipeline
from cleancorpus.config import Config
from cleancorpus.document import Document, Outcome, Rejection, Status
from cleancorpus.incremental import StageCache
from cleancorpus.pipeline import Pipeline

TEXTS = [
    "The committee met on Tuesday to discuss the budget for next year.\nIt agreed on most points.",
    "Le comité s'est réuni mardi pour discuter du budget de l'année prochaine et des travaux.",
    "Please write to me at jane.doe@example.org about the new schedule for the reading group, or call\nme on +1 212 555 0143 after five in the evening, when the office is quiet and the phones are free and nobody else is waiting to speak with them.",
    "buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy",
    "A short line.",
    "Der Ausschuss traf sich am Dienstag, um den Haushalt für das nächste Jahr zu besprechen.",
    "12345 67890",
    "The river rose overnight and the old bridge was closed to traffic until the water fell.",
]


def config() -> Config:
    return Config(stages=("language", "quality", "pii"),
                  stage_options={"language": {"keep": ["en", "de"]}, "quality": {"filter": True, "filter_rules": ["gopher_few_alpha_words"]}})


def documents(n: int, files: int) -> list[Document]:
    return [Document(f"d{i}", TEXTS[i % len(TEXTS)] + f" Item {i}.", f"f{i % files}.jsonl:{i}" if files > 1
                     else f"one.jsonl:{i}") for i in range(n)]


def stream(docs: list[Document], rejected: list[Outcome], every: int):
    """The documents, with an upstream rejection (as ingest's admit makes) before every
    ``every``-th one and after the last."""
    for i, doc in enumerate(docs):
        if i % every == 0:
            rejected.append(Outcome(f"up{i}", f"up{i}", Status.REJECTED, reason="limits: upstream"))
        yield doc
    rejected.append(Outcome("up-end", "up-end", Status.REJECTED, reason="limits: upstream"))


def one_at_a_time(pipe: Pipeline, docs: list[Document], every: int, cache: StageCache | None = None):
    """The reference: every document through the whole segment before the next one is read."""
    reports, rejected, out = pipe.new_reports(), [], []
    for doc in stream(docs, rejected, every):
        r = pipe._through(doc, pipe.segments[0], reports, cache)
        if isinstance(r, Rejection):
            rejected.append(Outcome(doc.id, doc.source, Status.REJECTED, reason=str(r)))
        else:
            out.append(r)
    if cache is not None:
        cache.flush()
    return out, rejected, reports


def batched(pipe: Pipeline, docs: list[Document], every: int, cache: StageCache | None = None):
    reports, rejected = pipe.new_reports(), []
    out = []
    for d in pipe.apply_segment(0, stream(docs, rejected, every), reports, rejected, cache):
        # the rejections before a kept document are in place when it is yielded
        out.append((d, len(rejected)))
    return out, rejected, reports


def summary(reports) -> dict:
    return {k: (r.seen, r.changed, r.edits, dict(r.rejected)) for k, r in reports.items()}


@pytest.mark.parametrize("size", [1, 3, 7, 128])
@pytest.mark.parametrize("every", [1, 4])
def test_batches_give_what_one_document_at_a_time_gives(monkeypatch, size: int, every: int) -> None:
    monkeypatch.setattr(pipeline, "BATCH_DOCS", size)
    pipe = Pipeline(config())
    assert len(pipe.segments) == 1 and len(pipe.segments[0]) == 3
    docs = documents(40, 1)
    want, want_rejected, want_reports = one_at_a_time(pipe, docs, every)
    got, got_rejected, got_reports = batched(pipe, docs, every)
    assert [d.to_record() for d, _ in got] == [d.to_record() for d in want]
    assert [o.to_dict() for o in got_rejected] == [o.to_dict() for o in want_rejected]
    assert summary(got_reports) == summary(want_reports)
    # every kind of result occurs: kept, rejected by language, by quality, redacted
    reasons = {o.reason.split(":")[0] for o in want_rejected}
    assert {"language", "quality", "limits"} <= reasons
    assert any(e.stage == "pii" for d in want for e in d.edits)
    # a kept document is yielded after the rejections that come before it, not later ones
    order = [o.id for o in want_rejected]
    ids = [d.id for d in docs]
    for d, placed in got:
        before = {f"up{i}" for i in range(ids.index(d.id) + 1) if i % every == 0}
        before |= {o.id for o in want_rejected if o.id in ids[:ids.index(d.id)]}
        assert set(order[:placed]) == before


def test_batches_bounded_by_characters(monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH_CHARS", 200)
    pipe = Pipeline(config())
    docs = documents(30, 1)
    want, want_rejected, _ = one_at_a_time(pipe, docs, 3)
    got, got_rejected, _ = batched(pipe, docs, 3)
    assert [d.to_record() for d, _ in got] == [d.to_record() for d in want]
    assert [o.to_dict() for o in got_rejected] == [o.to_dict() for o in want_rejected]


def test_batches_with_a_stage_cache_store_the_same_entries(tmp_path: Path, monkeypatch) -> None:
    """With a cache a batch stays inside one input file (the cache holds one file's entries at a
    time): the stored entries are those of one document at a time, and a second run reuses them."""
    monkeypatch.setattr(pipeline, "BATCH_DOCS", 5)
    pipe = Pipeline(config())
    docs = sorted(documents(36, 3), key=lambda d: d.source.split(":")[0])  # input-file order
    want, want_rejected, _ = one_at_a_time(pipe, docs, 4, StageCache(str(tmp_path / "a"), pipe.segments[0]))
    got, got_rejected, _ = batched(pipe, docs, 4, StageCache(str(tmp_path / "b"), pipe.segments[0]))
    assert [d.to_record() for d, _ in got] == [d.to_record() for d in want]
    assert [o.to_dict() for o in got_rejected] == [o.to_dict() for o in want_rejected]
    files = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert files and files == {p.relative_to(tmp_path / "b"): p.read_bytes()
                               for p in (tmp_path / "b").rglob("*") if p.is_file()}
    cache = StageCache(str(tmp_path / "b"), pipe.segments[0])
    again, again_rejected, _ = batched(pipe, docs, 4, cache)
    assert [d.to_record() for d, _ in again] == [d.to_record() for d in want]
    assert [o.to_dict() for o in again_rejected] == [o.to_dict() for o in want_rejected]
    assert not cache.work.recomputed and sum(cache.work.reused.values()) > 0


def test_a_stream_closed_early_keeps_the_upstream_rejections(monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH_DOCS", 10)
    pipe = Pipeline(config())
    rejected: list[Outcome] = []
    out = pipe.apply_segment(0, stream(documents(10, 1), rejected, 1), pipe.new_reports(), rejected)
    next(out)
    out.close()
    assert {f"up{i}" for i in range(10)} <= {o.id for o in rejected}


def test_the_cli_path_batches_with_the_same_version(tmp_path: Path, monkeypatch) -> None:
    """``cleancorpus clean`` runs the segment through work.py's per-file pass with the store's
    entries: batched there too (a batch ends at a reused document, so lines and entries keep
    their order), a fresh run and an incremental one give what one document at a time gives."""
    import json

    import cleancorpus
    from cleancorpus import api
    from cleancorpus_flows import work
    from tests.test_incremental import corpus, key_of, same_version, write_raw

    spills: list[bytes] = []  # the stages' output, in order, as dedup reads it
    dedup = api.deduplicate
    monkeypatch.setattr(api, "deduplicate", lambda p, spill, **kw: (spills.append(Path(spill).read_bytes()),
                                                                     dedup(p, spill, **kw))[1])

    files = corpus(11, files=3, per_file=12)
    # documents the segment rejects (a language outside keep, a failed quality rule) and redacts
    files["part-001.jsonl"][3:3] = [{"id": f"t{i}", "text": t} for i, t in enumerate(TEXTS)]
    raw = write_raw(tmp_path / "raw", files)
    cfg = Config(stage_options={"language": {"keep": ["en", "de"]},
                                "quality": {"filter": True, "filter_rules": ["gopher_few_alpha_words"]}})
    monkeypatch.setattr(work, "BATCH_DOCS", 1)
    one = cleancorpus.clean(raw, tmp_path / "one", cfg).version
    monkeypatch.setattr(work, "BATCH_DOCS", 5)
    batched = cleancorpus.clean(raw, tmp_path / "batched", cfg, id_key=key_of(tmp_path / "one")).version
    same_version(one, batched, tmp_path / "fresh")
    assert spills[0] == spills[1]
    assert one.manifest["counts"]["rejected"] >= 3
    # an edit in the middle of a file: computed documents between reused ones
    lines = (raw / "part-002.jsonl").read_text("utf-8").splitlines()
    for i in (2, 3, 7):
        obj = json.loads(lines[i])
        obj["text"] += "\n\nA closing sentence added to this one."
        lines[i] = json.dumps(obj)
    (raw / "part-002.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    inc = cleancorpus.clean(raw, tmp_path / "batched", cfg).version
    monkeypatch.setattr(work, "BATCH_DOCS", 1)
    ref = cleancorpus.clean(raw, tmp_path / "one", cfg).version
    same_version(inc, ref, tmp_path / "edited")
    assert spills[2] == spills[3] and len(spills) == 4
