"""Incremental runs: a version is a function of its inputs, configuration and code, never of
history, and a run that reuses stored per-document results gives byte for byte what a run that
recomputes everything (``--full``) gives.

The corpora are generated from the seed documents (raw/): paragraphs recombined with a seeded
generator into JSONL files, with lines every document of a "site" repeats (corpus boilerplate),
misspellings, a spinner's word swaps and planted copies (duplicates), so that every corpus
stage and dedup have work to do.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

import cleancorpus
from cleancorpus.config import Config
from cleancorpus.incremental import file_key
from cleancorpus.store.export import export
from paths import RAW

CHROME = [
    ("Home | News | Sport | Weather | Contact", "Share this article on Facebook"),
    ("Menu Search Subscribe Sign in", "Sign up for our daily newsletter"),
]
TYPOS = [("government", "governmnet"), ("people", "peopel"), ("which", "whcih"), ("between", "betwen")]
SPINS = [(" on ", " top top "), (" and ", " and also "), (" from ", " indigenous ")]


def paragraphs() -> list[str]:
    out = []
    for path in sorted(RAW.iterdir()):
        if path.name.startswith("000_"):
            continue  # already spun
        out += [p.strip() for p in path.read_text("utf-8").split("\n\n") if len(p.split()) >= 12]
    return out


def make_doc(rng: random.Random, pool: list[str], k: int) -> str:
    body = rng.sample(pool, 3)
    if rng.random() < 0.3:
        a, b = rng.choice(TYPOS)
        body = [p.replace(a, b) for p in body]
    if rng.random() < 0.2:
        a, b = rng.choice(SPINS)
        body = [p.replace(a, b) for p in body]
    head, foot = CHROME[k % len(CHROME)]
    return "\n\n".join([head, *body, foot, f"Story {k} of the archive"])


def corpus(seed: int, files: int, per_file: int) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    pool = paragraphs()
    out: dict[str, list[dict]] = {}
    k = 0
    for f in range(files):
        docs = []
        for _ in range(per_file):
            if docs and rng.random() < 0.1:  # a planted copy, lightly edited
                text = rng.choice(docs)["text"] + "\n\nUpdated later with one more line."
            else:
                text = make_doc(rng, pool, k)
            docs.append({"id": f"d{k:04d}", "text": text})
            k += 1
        out[f"part-{f:03d}.jsonl"] = docs
    return out


def write_raw(raw: Path, files: dict[str, list[dict]]) -> Path:
    if raw.exists():
        shutil.rmtree(raw)
    raw.mkdir(parents=True)
    for name, docs in files.items():  # a str: the file's bytes as they are (a broken file)
        (raw / name).write_text(docs if isinstance(docs, str) else "".join(json.dumps(d) + "\n" for d in docs), "utf-8")
    return raw


def rows(version, to: Path) -> dict[str, list[str]]:
    """Every table of the version as exported, one JSON line a row, sorted (row order in a
    Delta table depends on which files hold the rows, not on the content)."""
    written = export(version, to)
    return {name: sorted(path.read_text("utf-8").splitlines()) for name, path in written.items() if name != "manifest"}


def same_version(a, b, tmp: Path) -> None:
    assert a.id == b.id
    ra, rb = rows(a, tmp / f"{a.id}-a"), rows(b, tmp / f"{b.id}-b")
    assert ra.keys() == rb.keys()
    for name in ra:
        assert ra[name] == rb[name], name
    content = ("counts", "stages", "dedup", "inputs", "config", "signals")
    assert {k: a.manifest[k] for k in content} == {k: b.manifest[k] for k in content}


def key_of(store: Path) -> Path:
    """A store's id key (README "Personal data"): a fresh store built with it has the same ids,
    so the same version id, as the store it came from; with its own key every id differs."""
    return store / "_private" / "pii.id-key"


@pytest.fixture(scope="module")
def base() -> dict[str, list[dict]]:
    return corpus(7, files=4, per_file=10)


def test_same_inputs_same_version_in_a_fresh_store_and_with_history(tmp_path, base):
    history = tmp_path / "history"
    cleancorpus.clean(write_raw(tmp_path / "raw", base), history)
    changed = dict(base)
    del changed["part-000.jsonl"]  # removed inputs leave the corpus
    extra = corpus(8, files=1, per_file=10)["part-000.jsonl"]
    # a better (longer) copy of a kept document arrives: it becomes the kept copy in both stores
    extra.append({"id": "better", "text": base["part-001.jsonl"][0]["text"] + "\n\nAnd a closing paragraph."})
    changed["part-009.jsonl"] = extra
    raw = write_raw(tmp_path / "raw", changed)
    with_history = cleancorpus.clean(raw, history).version
    fresh = cleancorpus.clean(raw, tmp_path / "fresh", id_key=key_of(history)).version
    same_version(with_history, fresh, tmp_path)
    sources = {o.source.split(":")[0] for o in fresh.outcomes()}
    assert "part-000.jsonl" not in sources
    assert with_history.parent is not None and fresh.parent is None


def step(tmp_path: Path, store: Path, raw: Path, config: Config | None, name: str):
    """One run incremental on ``store`` and one --full on a copy of it: the same version."""
    full_store = tmp_path / f"full-{name}"
    shutil.copytree(store, full_store)
    inc = cleancorpus.clean(raw, store, config)
    full = cleancorpus.clean(raw, full_store, config, full=True)
    assert inc.created and full.created
    same_version(inc.version, full.version, tmp_path / name)
    assert full.version.manifest["work"]["stages"]["unicode"]["reused"] == 0
    assert full.version.manifest["work"]["stages"]["spun"]["why_recomputed"] == {
        "full run": full.version.manifest["work"]["stages"]["spun"]["recomputed"]}
    return inc.version.manifest["work"]


def test_incremental_and_full_give_the_same_version(tmp_path, base):
    store, raw = tmp_path / "store", tmp_path / "raw"
    files = dict(base)
    first = cleancorpus.clean(write_raw(raw, files), store).version
    assert first.manifest["work"]["stages"]["unicode"] == {"recomputed": 40, "reused": 0,
                                                          "why_recomputed": {"input": 40}}

    # additions: one new file of 10 documents; unchanged documents skip the per-document stages
    files["part-004.jsonl"] = corpus(9, files=1, per_file=10)["part-000.jsonl"]
    # a file ingest rejects a record of, between two documents: replayed from its stored entry later
    good = [{**d, "id": f"b{i}"} for i, d in enumerate(corpus(10, files=1, per_file=2)["part-000.jsonl"])]
    files["broken.jsonl"] = json.dumps(good[0]) + "\n{not json\n" + json.dumps(good[1]) + "\n"
    work = step(tmp_path, store, write_raw(raw, files), None, "add")
    assert work["stages"]["unicode"] == {"recomputed": 12, "reused": 40, "why_recomputed": {"input": 12}}
    # publish takes the digests of files with the same spill lines and duplicate decisions from
    # their entries (incremental.PublishFiles): at least one of the four old files is such a file
    assert work["publish"]["documents_reused"] >= 10
    assert work["publish"]["documents_reused"] + work["publish"]["documents_parsed"] == 52  # every spill line
    # so does dedup's first pass (its ids, repair counts, lengths and text keys: index.FileMeta)
    assert work["dedup"]["documents_not_parsed"] >= 10
    assert work["stages"]["boilerplate"]["fit_chunks_recounted"] == 2
    assert work["stages"]["boilerplate"]["fit_chunks_reused"] == 4
    # each corpus stage's total statistics (incremental.merged_total) outlive the cache's sweep
    assert sorted(p.parent.name.split("-")[0] for p in (store / "_cache" / "fits").glob("*/total.pickle.gz")) == [
        "boilerplate", "spelling", "spun"]
    # spun's statistics changed (10 more clean documents): its results are still reused where
    # every value a document read holds, and step() checks them against --full byte for byte
    assert work["stages"]["spun"]["reused"] >= 10
    # every recomputation has its cause: a new document ("input") or the first read that moved
    spun = work["stages"]["spun"]
    assert sum(spun["why_recomputed"].values()) == spun["recomputed"] and spun["why_recomputed"]["input"] == 12

    # edits: two documents of one file change, the rest of that file is reused
    edited = [dict(d) for d in files["part-002.jsonl"]]
    edited[3]["text"] = edited[3]["text"].replace("the", "teh", 2)
    edited[7]["text"] += "\n\nA correction was appended to this story."
    files["part-002.jsonl"] = edited
    inc = cleancorpus.load(store)
    assert inc.manifest["stages"]["ingest"]["rejected"]
    work = step(tmp_path, store, write_raw(raw, files), None, "edit")
    assert work["stages"]["unicode"] == {"recomputed": 2, "reused": 50, "why_recomputed": {"input": 2}}
    assert work["stages"]["spun"]["reused"] >= 40

    # deletions: a whole file
    del files["part-001.jsonl"]
    work = step(tmp_path, store, write_raw(raw, files), None, "delete")
    assert work["stages"]["unicode"] == {"recomputed": 0, "reused": 42}
    assert work["stages"]["spun"]["reused"] >= 10
    gone = file_key("part-001.jsonl")
    cached = [p for p in (store / "_cache").rglob("*") if p.is_file()]
    assert cached and not [p for p in cached if p.name.startswith(gone)]  # removed inputs leave the cache

    # a file edited a second time, and the removed file added back (its entries were swept:
    # every stored result, publish's and dedup's per-line ones included, must come out as --full)
    again = [dict(d) for d in files["part-002.jsonl"]]
    again[7]["text"] += " And a second correction."
    files["part-002.jsonl"] = again
    files["part-001.jsonl"] = base["part-001.jsonl"]
    work = step(tmp_path, store, write_raw(raw, files), None, "edit-again-and-re-add")
    assert work["stages"]["unicode"]["recomputed"] == 11

    # a config change of the last stage: the stages before it are all reused
    config = Config(stage_options={"spelling": {"protect_min_count": 3}})
    work = step(tmp_path, store, raw, config, "config")
    assert work["stages"]["unicode"]["recomputed"] == 0
    assert work["stages"]["boilerplate"]["recomputed"] == 0
    assert work["stages"]["spun"]["recomputed"] == 0
    assert work["stages"]["spelling"]["reused"] == 0
    # the results of the old spelling options are dropped: the cache holds one configuration,
    # one entry directory per segment (incremental.SegmentFiles) and per-stage entries only for
    # the stages after a segment's head (boilerplate's segment: language, quality, pii)
    assert len(list((store / "_cache" / "files").iterdir())) == 4
    assert sorted(p.name.split("-")[0] for p in (store / "_cache" / "stages").iterdir()) == ["language", "pii", "quality"]


def test_damaged_cache_entries_are_misses(tmp_path, base):
    store, raw = tmp_path / "store", write_raw(tmp_path / "raw", base)
    cleancorpus.clean(raw, store)
    damaged = 0
    for path in (store / "_cache").rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            # empty, gzip's magic then garbage, a zstd blob cut short, one with a byte flipped
            path.write_bytes([b"", b"\x1f\x8bnot a cache entry", blob[:len(blob) // 2],
                              blob[:-1] + bytes([blob[-1] ^ 0xFF])][damaged % 4])
            damaged += 1
    assert damaged >= 4
    files = dict(base)
    files["part-007.jsonl"] = corpus(11, files=1, per_file=5)["part-000.jsonl"]
    raw = write_raw(raw, files)
    inc = cleancorpus.clean(raw, store).version
    fresh = cleancorpus.clean(raw, tmp_path / "fresh", id_key=key_of(store)).version
    same_version(inc, fresh, tmp_path)
    assert inc.manifest["work"]["stages"]["unicode"]["reused"] == 0


def test_cache_blobs_round_trip_and_entries_of_the_gzip_codec_are_read(tmp_path):
    """Entries are zstd blobs (incremental.pack_blob); one written in gzip by an older version
    is still read, and a blob that is neither, or is damaged, is a miss, never an error."""
    import gzip
    import pickle

    from cleancorpus.incremental import _ZSTD_MAGIC, _Files, _read_entry, _write_entry, pack_blob, unpack_blob

    raw = pickle.dumps({"file": "a.jsonl", "docs": [(b"x" * 16, "line", None, (1, 0), None)] * 50})
    assert unpack_blob(pack_blob(raw)) == raw and len(pack_blob(raw)) < len(raw)
    files = _Files(str(tmp_path))
    _write_entry(files, "new.pickle.gz", pickle.loads(raw))
    files.write("old.pickle.gz", gzip.compress(raw, mtime=0))
    assert _read_entry(files, "new.pickle.gz", "a.jsonl") == _read_entry(files, "old.pickle.gz", "a.jsonl") == pickle.loads(raw)
    assert _read_entry(files, "new.pickle.gz", "b.jsonl") is None  # another file's entry
    blob, h = pack_blob(raw), len(_ZSTD_MAGIC)
    wrong_size = blob[:h] + (len(raw) + 1).to_bytes(8, "little") + blob[h + 8:]
    for bad in (b"", raw, blob[:-3], wrong_size):
        files.write("bad.pickle.gz", bad)
        assert _read_entry(files, "bad.pickle.gz", "a.jsonl") is None


def test_a_damaged_fit_total_costs_a_merge_not_a_result(tmp_path, base, monkeypatch):
    """The units' digests say the stored totals hold every unchanged unit, but the totals are
    damaged: the run's fits ask the shards for every unit again (work.run_stages) and merge
    them, and the version is a fresh store's; the next run updates the rebuilt totals."""
    from cleancorpus_flows import work

    calls: list[bool] = []  # per merge: whether the stored total could be used

    def recorded(stage, shards, root, read):
        got = merged_total(stage, shards, root, read)
        if any(u[2] is None for s in shards for u in s.units):
            calls.append(got is not None)
        return got

    merged_total = work.merged_total
    monkeypatch.setattr(work, "merged_total", recorded)
    store, raw = tmp_path / "store", write_raw(tmp_path / "raw", base)
    cleancorpus.clean(raw, store)
    totals = list((store / "_cache" / "fits").glob("*/total.pickle.gz"))
    assert len(totals) == 3
    for path in totals:
        path.write_bytes(b"\x1f\x8bnot a total")
    files = dict(base)
    files["part-007.jsonl"] = corpus(11, files=1, per_file=5)["part-000.jsonl"]
    inc = cleancorpus.clean(write_raw(raw, files), store).version
    fresh = cleancorpus.clean(raw, tmp_path / "fresh", id_key=key_of(store)).version
    same_version(inc, fresh, tmp_path)
    assert inc.manifest["work"]["stages"]["unicode"]["recomputed"] == 5
    assert calls == [False, False, False]  # each stage's total refused, then every unit merged
    files["part-008.jsonl"] = corpus(12, files=1, per_file=5)["part-000.jsonl"]
    inc = cleancorpus.clean(write_raw(raw, files), store).version
    fresh = cleancorpus.clean(raw, tmp_path / "fresh2", id_key=key_of(store)).version
    same_version(inc, fresh, tmp_path)
    assert calls[3:] == [True, True, True]  # the rebuilt totals, updated


def test_the_flow_units_reuse_what_the_cli_stored(tmp_path, base):
    """The flow's sharded passes (work.run_stages, here with its serial executors) read and
    write the same cache as ``cleancorpus clean``, and spill what a full sequential run spills."""
    from cleancorpus import api
    from cleancorpus.pipeline import Pipeline
    from cleancorpus_flows import work

    store, raw = tmp_path / "store", tmp_path / "raw"
    files = dict(base)
    cleancorpus.clean(write_raw(raw, files), store)
    files["part-005.jsonl"] = corpus(12, files=1, per_file=10)["part-000.jsonl"]
    p = api.plan(write_raw(raw, files), store)
    (tmp_path / "sharded").mkdir()
    run = work.run_stages(p, tmp_path / "sharded", 1, 256)  # one shard per input file
    seq = Pipeline(p.config).run(api.iter_documents(p.files, p.config.limits, id_key=p.id_key), tmp_path / "seq",
                                 cache=str(tmp_path / "elsewhere"), full=True)
    assert run.spill.read_bytes() == seq.spill.read_bytes()
    assert {k: r.to_dict() for k, r in run.reports.items()} == {k: r.to_dict() for k, r in seq.reports.items()}
    assert run.work.to_dict()["unicode"] == {"recomputed": 10, "reused": 40, "why_recomputed": {"input": 10}}
    assert seq.work.to_dict()["unicode"] == {"recomputed": 50, "reused": 0, "why_recomputed": {"full run": 50}}


def test_incremental_on_s3(tmp_path):
    """The stored results live next to the tables, so a store on S3 reuses them too."""
    from s3server import MOTO, moto_s3

    if MOTO is None:
        pytest.skip("moto[server] is not installed (pip install -e '.[test]')")
    with moto_s3(tmp_path) as fs:
        for p in sorted(RAW.iterdir()):
            fs.pipe(f"corpus/raw/{p.name}", p.read_bytes())
        raw, out = "s3://corpus/raw", "s3://corpus/clean"
        cleancorpus.clean(raw, out)
        assert fs.find("corpus/clean/_cache/stages")
        fs.pipe("corpus/raw/new.txt", b"A new document about rivers, bridges and the boats that pass under them.")
        v2 = cleancorpus.clean(raw, out).version
        assert v2.manifest["work"]["stages"]["unicode"] == {"recomputed": 1, "reused": 5, "why_recomputed": {"input": 1}}
        local = tmp_path / "raw"
        local.mkdir()
        for key in fs.find("corpus/raw"):
            (local / key.rsplit("/", 1)[1]).write_bytes(fs.cat(key))
        fresh = cleancorpus.clean(local, tmp_path / "fresh", id_key=f"{out}/_private/pii.id-key").version
        same_version(v2, fresh, tmp_path)


def test_dedup_index_gives_what_a_full_pass_gives(tmp_path, base):
    """Signature rows of unchanged texts come from the store's dedup index; clusters and kept
    copies are those of a full pass (a new copy of an old document, an edited one, a removed file)."""
    store, raw = tmp_path / "store", tmp_path / "raw"
    files = dict(base)
    cleancorpus.clean(write_raw(raw, files), store)
    new = corpus(13, files=1, per_file=6)["part-000.jsonl"]
    new.append({"id": "copy", "text": files["part-002.jsonl"][4]["text"] + "\n\nWith a longer ending than before."})
    files["part-006.jsonl"] = new
    del files["part-003.jsonl"]
    work = step(tmp_path, store, write_raw(raw, files), None, "dedup")
    # 7 new texts; a few old documents' texts changed too (spun read the new statistics)
    assert work["dedup"]["signatures_reused"] + work["dedup"]["signatures_computed"] == 37
    assert work["dedup"]["signatures_reused"] >= 25
    # candidate pairs of two unchanged texts are not verified again (their overlaps are stored)
    assert work["dedup"]["pairs_reused"] > 0 and work["dedup"]["pairs_verified"] > 0


def test_dedup_rows_from_the_index_in_batches_across_files(tmp_path, base):
    """Rows taken from the index (dedup/index.FileRows, gathered a file at a time) in batches
    that span files and mix stored and new rows give what a pass without the index gives."""
    from cleancorpus.config import DedupConfig
    from cleancorpus.dedup.run import find_duplicates
    from cleancorpus.document import Document

    def docs(files):
        return [Document(d["id"], d["text"], f"{name}:{i + 1}") for name, ds in files.items() for i, d in enumerate(ds)]

    files = dict(base)
    config, index = DedupConfig(), str(tmp_path / "store")
    first = find_duplicates(lambda: docs(files), config, index=index, workdir=tmp_path)
    assert first.stats["exact_duplicates"] + first.stats["near_duplicates"] > 0
    files["part-001.jsonl"] = [{**d, "text": d["text"] + " Edited."} if i % 3 == 0 else d
                               for i, d in enumerate(files["part-001.jsonl"])]
    files["part-009.jsonl"] = [{"id": "copy", "text": files["part-000.jsonl"][2]["text"]}]
    for batch in (3, 7, 5000):  # each on the index the first run left
        shutil.copytree(index, tmp_path / f"store-{batch}")
        got = find_duplicates(lambda: docs(files), config, index=str(tmp_path / f"store-{batch}"), workdir=tmp_path,
                              batch_size=batch)
        plain = find_duplicates(lambda: docs(files), config, workdir=tmp_path, batch_size=batch)
        assert got.work["signatures_reused"] >= 30 and got.work["signatures_computed"] >= 1
        assert got.duplicates == plain.duplicates and got.stats == plain.stats
        assert "copy" in got.duplicates or any(d.duplicate_of == "copy" for d in got.duplicates.values())


def test_spelling_fit_chunks_keyed_by_ids_and_texts(tmp_path):
    """Spelling's fit reads only ids and texts: a chunk whose documents changed only in metadata
    (spun's spin score, say) is not recounted; a changed text is; the total is a full count's."""
    from cleancorpus.document import Document
    from cleancorpus.incremental import Work, cached_partial_fit
    from cleancorpus.pipeline import guarded_partial_fit
    from cleancorpus.stages.spelling import SpellingStage

    stage = SpellingStage()
    texts = paragraphs()[:40]
    docs = [Document(f"d{i}", t, f"part-{i // 20}.jsonl:{i % 20}", {"spin_score": 0.1}) for i, t in enumerate(texts)]

    def run(ds, read=True):
        work = Work()
        stats, _ = cached_partial_fit(stage, lambda: iter(ds), lambda d: guarded_partial_fit(stage, d, 0, True),
                                      str(tmp_path), read, work)
        return stats, work

    run(docs)
    relabelled = [Document(d.id, d.text, d.source, {"spin_score": 0.2}) for d in docs]
    stats, work = run(relabelled)
    assert work.fit_recomputed.get("spelling", 0) == 0 and work.fit_reused["spelling"] == 2
    edited = list(relabelled)
    edited[25] = Document(edited[25].id, edited[25].text + " Anothr word.", edited[25].source)
    stats, work = run(edited)
    assert work.fit_recomputed["spelling"] == 1 and work.fit_reused["spelling"] == 1
    full, _ = run(edited, read=False)
    assert stats.counts == full.counts and stats.words == full.words


def test_fit_units_recount_only_what_changed(tmp_path):
    """lines_fit (the passes' fits over spill lines): an unchanged file is one stored entry; an
    edit recounts only its unit of FIT_UNIT documents, a metadata-only change recounts nothing
    for a text-only fit; the statistics are always a full count's."""
    from cleancorpus.document import Document
    from cleancorpus.incremental import FIT_UNIT, Work, lines_fit
    from cleancorpus.pipeline import guarded_partial_fit
    from cleancorpus.stages.spelling import SpellingStage

    stage = SpellingStage()
    texts = paragraphs()[:3 * FIT_UNIT]
    docs = [Document(f"d{i}", t, f"part-{i // (2 * FIT_UNIT)}.jsonl:{i}", {"spin_score": 0.1}) for i, t in enumerate(texts)]

    def run(ds, read=True):
        groups: dict[str, list[bytes]] = {}
        for d in ds:
            groups.setdefault(d.source.split(":")[0], []).append(json.dumps(d.to_record(), ensure_ascii=False).encode())
        work = Work()
        stats, _ = lines_fit(stage, list(groups.items()), lambda d: guarded_partial_fit(stage, d, 0, True),
                             str(tmp_path), read, work)
        return stats, work

    run(docs)
    stats, work = run(docs)  # nothing changed: one entry per file, nothing parsed or counted
    assert work.fit_recomputed.get("spelling", 0) == 0 and work.fit_reused["spelling"] == 3
    edited = list(docs)
    edited[FIT_UNIT + 3] = Document(edited[FIT_UNIT + 3].id, edited[FIT_UNIT + 3].text + " Anothr word.", edited[FIT_UNIT + 3].source)
    edited[2 * FIT_UNIT] = Document(edited[2 * FIT_UNIT].id, edited[2 * FIT_UNIT].text, edited[2 * FIT_UNIT].source,
                                    {"spin_score": 0.3})  # metadata only: the text-only fit keeps its count
    stats, work = run(edited)
    assert work.fit_recomputed["spelling"] == 1 and work.fit_reused["spelling"] == 2
    full, _ = run(edited, read=False)
    assert stats.counts == full.counts and stats.words == full.words
    stats, work = run(edited)
    assert work.fit_recomputed.get("spelling", 0) == 0



def test_entry_forms_rebuild_the_output_byte_for_byte():
    """What a segment entry keeps of a document (incremental.entry_form) gives the output line
    back exactly: the splice finds the record's own edits even when the text and the metadata
    hold look-alikes, and a delta holds no original its input gives back."""
    from cleancorpus.document import Document, Edit, Replacement
    from cleancorpus.incremental import delta_of, rebuilt, splice_parts, spliced

    def line(doc):
        return json.dumps(doc.to_record(), ensure_ascii=False).encode("utf-8", "surrogatepass")

    earlier = Edit("pii", 0, 5, "Alice", "[NAME]", "name")
    doc = Document("d1", '[NAME] wrote , "edits": [ here', "a.jsonl:1", {"x": {"edits": [1, 2]}}, (earlier,))
    out = doc.revise("spun", [Replacement(7, 12, "said", "swap", 0.91234)], {"spin_score": 0.5})
    parts = splice_parts(line(doc), line(out))
    assert parts is not None and b"Alice" not in parts[1] + parts[3]
    assert spliced(line(doc), parts) == line(out)
    # a stage that only sets metadata: the entry keeps that span, not the text
    scored = doc.revise("spun", [], {"spin_score": 0.25})
    parts = splice_parts(line(doc), line(scored))
    assert parts is not None and b"wrote" not in parts[1] and b"0.25" in parts[1]
    assert spliced(line(doc), parts) == line(scored)
    delta = delta_of(doc, out)
    assert delta is not None and all("before" not in d for d in delta[0])
    assert line(rebuilt(doc, delta)) == line(out)
    assert delta_of(doc, Document("other", out.text, out.source, out.metadata, out.edits)) is None


@pytest.mark.parametrize("name", ["spelling", "boilerplate", "spun"])
def test_fit_total_updates_exactly(tmp_path, name):
    """The stored total of a corpus stage's statistics (incremental.merged_total): each run
    takes out the groups that changed or left and adds the new ones (fittotal's exact
    arithmetic), reading no entry of an unchanged group, and gives a full count's statistics
    after additions, edits, removals, a file added back, and a damaged or missing total."""
    from cleancorpus.document import Document
    from cleancorpus.incremental import FIT_TOTAL, FIT_TOTAL_KEYS, FIT_UNIT, Work, lines_fit, stage_fingerprint
    from cleancorpus.pipeline import guarded_partial_fit
    from cleancorpus.stages import REGISTRY

    stage = REGISTRY[name]()
    texts = [t + f"\n\nShare this page\nMenu {i % 5}" for i, t in enumerate(paragraphs()[:48])]  # boilerplate's lines
    files = {f"part-{i:03d}.jsonl": [Document(f"d{i}-{j}", texts[(3 * i + j) % len(texts)], f"part-{i:03d}.jsonl:{j}")
                                      for j in range(3)] for i in range(24)}
    files["part-003.jsonl"] = [Document(f"d3-{j}", texts[j % len(texts)], f"part-003.jsonl:{j}")
                               for j in range(FIT_UNIT + 3)]  # two units: shortened below

    def run(fs, read=True):
        groups = [(n, [json.dumps(d.to_record(), ensure_ascii=False).encode() for d in ds]) for n, ds in fs.items()]
        work = Work()
        stats, _ = lines_fit(stage, groups, lambda d: guarded_partial_fit(stage, d, 0, True), str(tmp_path), read, work)
        full, _ = lines_fit(stage, groups, lambda d: guarded_partial_fit(stage, d, 0, True), str(tmp_path / "full"), False)
        if name == "boilerplate":
            assert stats.keys.tolist() == full.keys.tolist() and stats.counts.tolist() == full.counts.tolist()
        else:
            assert stats == full
        return work

    run(files)
    fits = tmp_path / "_cache" / "fits" / f"{name}-{stage_fingerprint(stage)}"
    assert (fits / FIT_TOTAL).exists() and (fits / FIT_TOTAL_KEYS).exists()
    for entry in fits.glob("*-u*.pickle.gz"):  # an unchanged unit is not read at all
        entry.rename(entry.with_suffix(".moved"))
    assert run(files).fit_recomputed.get(name, 0) == 0
    for entry in fits.glob("*.moved"):
        entry.rename(entry.with_suffix(".gz"))
    edited = dict(files)
    edited["part-005.jsonl"] = [Document(d.id, d.text + " Anothr word.", d.source) for d in files["part-005.jsonl"]]
    assert run(edited).fit_recomputed[name] == 1
    edited["part-005.jsonl"] = [Document(d.id, d.text + " Yet anothr.", d.source) for d in files["part-005.jsonl"]]
    run(edited)  # edited twice
    edited["added.jsonl"] = [Document(f"n{j}", texts[j], f"added.jsonl:{j}") for j in range(4)]
    run(edited)
    removed = {k: v for k, v in edited.items() if k not in ("part-001.jsonl", "part-017.jsonl")}
    run(removed)
    run(edited)  # added back
    (fits / FIT_TOTAL).write_bytes(b"damaged")
    run(removed)  # the total cannot be used: every group from its entry
    (fits / FIT_TOTAL).unlink()
    run(edited)
    run(files)
    shorter = dict(files)
    shorter["part-003.jsonl"] = files["part-003.jsonl"][:1]
    run(shorter)


def test_fittotal_arithmetic_is_a_merge():
    """fittotal.add and subtract on each corpus stage's statistics give what merge_stats gives."""
    from cleancorpus import fittotal
    from cleancorpus.document import Document
    from cleancorpus.stages import REGISTRY

    texts = [t + f"\n\nShare this page\nMenu {i % 5}" for i, t in enumerate(paragraphs()[:30])]
    docs = [Document(f"d{i}", t, f"f:{i}") for i, t in enumerate(texts)]
    for name in ("spelling", "boilerplate", "spun"):
        stage = REGISTRY[name]()
        a, b, c = (stage.partial_fit(docs[i::3]) for i in range(3))
        whole = stage.merge_stats([a, b, c])
        got = fittotal.subtract(fittotal.add(stage.merge_stats([a, b]), c), b)
        want = stage.merge_stats([a, c])
        if name == "boilerplate":
            assert got.keys.tolist() == want.keys.tolist() and got.counts.tolist() == want.counts.tolist()
            back = fittotal.add(got, b)
            assert back.keys.tolist() == whole.keys.tolist() and back.counts.tolist() == whole.counts.tolist()
        else:
            assert got == want
            assert fittotal.add(got, b) == whole  # (in place)
        with pytest.raises(ValueError):  # what the total does not hold cannot be taken out
            fittotal.subtract(stage.merge_stats([a]), whole)


def test_fittotal_update_is_a_merge():
    """fittotal.update (several parts out and in at once: spun's sketches in one pass) gives
    what merge_stats gives, and refuses a part the total does not hold."""
    from cleancorpus import fittotal
    from cleancorpus.document import Document
    from cleancorpus.stages import REGISTRY

    texts = [t + f"\n\nShare this page\nMenu {i % 5}" for i, t in enumerate(paragraphs()[:30])]
    docs = [Document(f"d{i}", t, f"f:{i}") for i, t in enumerate(texts)]
    for name in ("spelling", "boilerplate", "spun"):
        stage = REGISTRY[name]()
        parts = [stage.partial_fit(docs[i::5]) for i in range(5)]
        got = fittotal.update(stage.merge_stats(parts[:3]), [parts[0], parts[2]], [parts[3], parts[4]])
        want = stage.merge_stats([parts[1], parts[3], parts[4]])
        if name == "boilerplate":
            assert got.keys.tolist() == want.keys.tolist() and got.counts.tolist() == want.counts.tolist()
        else:
            assert got == want
        with pytest.raises(ValueError):
            fittotal.update(stage.merge_stats(parts[:2]), [parts[3]], [])
