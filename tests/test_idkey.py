"""Keyed identifiers (idkey.py): document ids, the version id and the manifest's input digest are
HMAC-SHA256 with a per-store key kept beside the private table, so the published tables hold no
unkeyed hash of any input file or document's raw bytes (which, with a withheld phone number's
span published, could be searched for the number: bench/id_bruteforce.py)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cleancorpus
from cleancorpus import __version__, api
from cleancorpus.cli import app
from cleancorpus.document import stable_id
from cleancorpus.idkey import IdKey, IdKeyError
from cleancorpus.report import report_path, write_report
from cleancorpus.store.export import export
from cleancorpus.store.verify import verify
from test_private import A, contents, corpus, published_files

LINES = [{"id": "r1", "text": "Questions about the allotments go to plots@example.com, the committee answers weekly."},
         {"id": "r2", "text": "The allotment waiting list is open again this spring for residents of the parish."}]


def raw_corpus(raw: Path) -> Path:
    corpus(raw)
    (raw / "plots.jsonl").write_text("".join(json.dumps(r) + "\n" for r in LINES), "utf-8")
    return raw


def key_file(out: Path) -> Path:
    return out / "_private" / "pii.id-key"


def ids(v) -> dict[str, str]:
    return {o.source: o.id for o in v.outcomes()}


def unkeyed_digests(raw: Path) -> set[str]:
    """Every unkeyed hash of raw input a store used to publish or could: each input file's
    sha256, each document's plain ``stable_id`` (txt: the file; JSONL: a line, with and without
    its newline) and sha256 of its bytes, the unkeyed inputs digest and the version id as they
    were computed before keyed ids (full hex and the 16-digit prefixes used as ids)."""
    out: set[str] = set()
    files, inputs = api.describe_inputs(raw)
    for f in files:
        data = f.path.read_bytes()
        pieces = [(f.relpath, data)]
        if f.relpath.endswith(".jsonl"):
            for n, line in enumerate(data.splitlines(keepends=True), 1):
                pieces += [(f"{f.relpath}:{n}", line), (f"{f.relpath}:{n}", line.rstrip(b"\n"))]
        for source, content in pieces:
            sha = hashlib.sha256(content).hexdigest()
            out |= {sha, sha[:16], stable_id(source, content)}
    blob = json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()
    out.add(hashlib.sha256(blob).hexdigest())
    h = hashlib.sha256()  # the version id's formula before keyed ids
    h.update(f"cleancorpus {__version__}\n".encode())
    h.update(cleancorpus.Config().fingerprint().encode())
    h.update(api.package_fingerprint().encode())
    for item in inputs:
        h.update(f"\n{item['path']}\0{item.get('sha256') or item.get('problem')}".encode())
    out.add(h.hexdigest()[:16])
    return out


def test_published_tables_hold_no_unkeyed_hash_of_the_raw_input(tmp_path):
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    v = cleancorpus.clean(raw, out).version
    key = IdKey.read(key_file(out))
    forbidden = unkeyed_digests(raw) | {key.secret.hex()}
    # the ids are still derived from source and content, with the key: a's id is the HMAC of its bytes
    assert ids(v)["a.txt"] == key.doc_id("a.txt", A.encode()) != stable_id("a.txt", A.encode())
    assert v.manifest["inputs"]["id_key"] == key.fingerprint
    # every byte a reader of the published version can reach (as tests/test_private.py)
    files = published_files(out)
    for fmt in ("jsonl", "parquet"):
        files += list(export(v, tmp_path / f"export-{fmt}", fmt).values())
    files.append(write_report(v, report_path(v)) or report_path(v))
    texts = [contents(p) for p in files]
    runner = CliRunner()
    for args in (["show", "--out", str(out), "--json"], ["show", "--out", str(out), "--list", "all"],
                 ["versions", "--out", str(out)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        texts.append(r.output)
    seen = "\n".join(texts)
    assert v.id in seen and ids(v)["a.txt"] in seen  # the search does look at the ids
    assert [d for d in sorted(forbidden) if d in seen] == []


def test_ids_are_stable_across_runs_of_a_store(tmp_path):
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    first = cleancorpus.clean(raw, out).version
    again = cleancorpus.clean(raw, out)
    assert not again.created and again.version.id == first.id
    (raw / "later.txt").write_text("A later page about the harbour and its boats, moored along the quay.\n", "utf-8")
    second = cleancorpus.clean(raw, out).version
    assert second.id != first.id
    before, after = ids(first), ids(second)
    assert {s: after[s] for s in before} == before and "later.txt" in after
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in after.values())


def test_other_key_other_ids_same_key_same_ids(tmp_path):
    raw = raw_corpus(tmp_path / "raw")
    a = cleancorpus.clean(raw, tmp_path / "a").version
    b = cleancorpus.clean(raw, tmp_path / "b").version  # its own new key
    c = cleancorpus.clean(raw, tmp_path / "c", id_key=key_file(tmp_path / "a")).version
    assert IdKey.read(key_file(tmp_path / "a")) != IdKey.read(key_file(tmp_path / "b"))
    # one content per version id: other ids, other version id and input digest
    assert a.id != b.id and a.manifest["inputs"]["sha256"] != b.manifest["inputs"]["sha256"]
    assert ids(a).keys() == ids(b).keys() and not set(ids(a).values()) & set(ids(b).values())
    assert sorted(d.text for d in a.documents()) == sorted(d.text for d in b.documents())
    # the same key: the same version, id for id; and the key became c's own
    assert c.id == a.id and ids(c) == ids(a) and c.manifest["inputs"] == a.manifest["inputs"]
    assert key_file(tmp_path / "c").read_bytes() == key_file(tmp_path / "a").read_bytes()
    assert cleancorpus.clean(raw, tmp_path / "c").version.id == a.id


def test_the_key_file_is_owner_only_and_never_in_a_repr(tmp_path):
    out = tmp_path / "clean"
    p = api.plan(raw_corpus(tmp_path / "raw"), out)
    mode = stat.S_IMODE(key_file(out).stat().st_mode)
    assert mode == 0o600 and stat.S_IMODE((out / "_private").stat().st_mode) == 0o700
    assert p.id_key.secret.hex() not in repr(p) and p.id_key.fingerprint in repr(p.id_key)


def test_a_store_without_a_key_gets_one_and_every_id_changes_once(tmp_path):
    """A store written before keyed ids has no key: its next build creates one, every id and the
    version id change once, and the versions verify; later builds keep the new ids."""
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    old = cleancorpus.clean(raw, out).version
    os.remove(key_file(out))  # what a store from before keyed ids (or one that lost its key) has
    new = cleancorpus.clean(raw, out).version
    assert new.id != old.id and new.parent == old.id
    assert ids(new).keys() == ids(old).keys() and not set(ids(new).values()) & set(ids(old).values())
    assert verify(new).ok and verify(cleancorpus.load(out, old.id)).ok
    assert cleancorpus.revert(out, "a.txt", private="_private/pii") == A
    assert cleancorpus.clean(raw, out).version.id == new.id


def test_moving_the_private_table_keeps_the_key(tmp_path):
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    v1 = cleancorpus.clean(raw, out).version
    vault = tmp_path / "vault" / "pii"
    (raw / "later.txt").write_text("A later page about the harbour.\n", "utf-8")
    v2 = cleancorpus.clean(raw, out, private_out=vault).version
    assert Path(f"{vault}.id-key").read_bytes() == key_file(out).read_bytes()
    assert {s: ids(v2)[s] for s in ids(v1)} == ids(v1)


def test_a_bad_key_file_is_a_clear_error(tmp_path):
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    bad = tmp_path / "key.txt"
    bad.write_text("not a key\n", "utf-8")
    with pytest.raises(IdKeyError, match="not a cleancorpus id key"):
        cleancorpus.clean(raw, out, id_key=bad)
    r = CliRunner().invoke(app, ["clean", str(raw), "--out", str(out), "--id-key", str(tmp_path / "missing")])
    assert r.exit_code != 0 and "no id key at" in r.output
    short = IdKey.generate().dumps().replace("\n", "", 1)
    with pytest.raises(IdKeyError):
        IdKey.loads(short)


def test_verify_says_whether_the_key_is_the_one_the_ids_were_made_with(tmp_path):
    raw, out = raw_corpus(tmp_path / "raw"), tmp_path / "clean"
    v = cleancorpus.clean(raw, out).version
    rep = verify(v)
    assert rep.ok and rep.checked["id_key"].startswith(f"the store's key (fingerprint {v.manifest['inputs']['id_key']})")
    r = CliRunner().invoke(app, ["verify", "--out", str(out)])
    assert r.exit_code == 0 and "id key: the store's key" in r.output
    saved = key_file(out).read_bytes()
    key_file(out).write_text(IdKey.generate().dumps(), "utf-8")  # replaced: the next build changes every id
    rep = verify(v)
    assert rep.ok and "the next build changes every id" in rep.checked["id_key"]
    os.remove(key_file(out))  # lost (or not readable by whoever verifies): said, not a failure
    rep = verify(v)
    assert rep.ok and rep.checked["id_key"].startswith("not checked: not readable")
    key_file(out).write_text("cleancorpus id key v1\nzz\n", "utf-8")
    assert any("id key is damaged" in p for p in verify(v).problems)
    key_file(out).write_bytes(saved)
    assert verify(v).ok


def test_the_key_lives_beside_the_private_table():
    from cleancorpus.idkey import location

    assert location("/srv/clean/_private/pii") == "/srv/clean/_private/pii.id-key"
    assert location("s3://vault/pii/") == "s3://vault/pii.id-key"
    assert location("s3://vault") == "s3://vault/_id.id-key"  # a table at a bucket's root keeps it inside
    key = IdKey(bytes(range(32)))
    assert IdKey.loads(key.dumps()) == key and key.fingerprint == IdKey(bytes(range(32))).fingerprint
    assert key.doc_id("a.txt", b"x") == stable_id("a.txt", b"x", key.secret) != stable_id("a.txt", b"x")
    assert key.fingerprint != IdKey(bytes(range(1, 33))).fingerprint
