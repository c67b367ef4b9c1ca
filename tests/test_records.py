"""The spill record codec (records.py) gives back exactly what ``json`` did: the round trip of
``json.dumps`` + ``json.loads``, for any JSON-like value (NaN and infinities, integers beyond 64
bits, unpaired surrogates in strings and keys, non-string keys, tuples, key order), and it
reads every line ``json.dumps`` writes as ``json.loads`` does."""

import dataclasses
import datetime
import json
import math
import os
import struct

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleancorpus import records
from cleancorpus.document import Document, Edit
from cleancorpus.pipeline import read_documents, spill

SETTINGS = settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")),
                    suppress_health_check=[HealthCheck.too_slow])


def same(a, b) -> bool:
    """Equal values of the same types, floats bit for bit (NaN is NaN, -0.0 is not 0.0), dict
    keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


surrogate_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)  # Cs included
ints = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**70), st.integers(min_value=-2**70, max_value=-2**62),
                 st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1, 10**30]))
floats = st.one_of(st.floats(), st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1e16, 1e-5,
                                                 0.00012345678901234567, 1.7976931348623157e308]))
scalars = st.one_of(st.none(), st.booleans(), ints, floats, surrogate_text,
                    st.sampled_from(["null", "NaN", "Infinity", "a\x00b", "\u2028", "\\ud800", '"', "12345678901234567890"]))
keys = st.one_of(surrogate_text, st.integers(-5, 5), st.booleans(), st.none(), st.sampled_from([1.5, float("nan")]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25)


@SETTINGS
@example(value={"q": float("nan"), "n": None})
@example(value={"big": 2**64, "neg": -2**63 - 1, "ok": 2**64 - 1})
@example(value={"\ud800": "\udfff\ud83d", "x": [1, (2, 3)]})
@example(value={1: "a", "1": "b", None: True, 1.5: 2})
@given(value=values)
def test_round_trip_is_jsons(value):
    want = json.loads(json.dumps(value, ensure_ascii=False))
    assert same(records.loads(records.dumps(value)), want)


@SETTINGS
@given(value=values, ascii=st.booleans(), compact=st.booleans())
def test_reads_what_json_writes(value, ascii, compact):
    text = json.dumps(value, ensure_ascii=ascii, separators=(",", ":") if compact else None)
    assert same(records.loads(text.encode("utf-8", "surrogatepass")), json.loads(text))


def test_orjson_used_where_exact_and_json_elsewhere():
    # the common record: orjson's compact bytes
    assert records.dumps({"a": [1, 2.5, "x"], "b": {"c": True}}) == b' {"a":[1,2.5,"x"],"b":{"c":true}}'
    # what orjson would get wrong goes through json: NaN (orjson writes null), big integers
    # (orjson reads 2**64 as a float), surrogates and non-string keys (orjson refuses them)
    assert records.dumps({"q": float("nan")}) == b'{"q":NaN}'
    assert records.loads(b'{"n":18446744073709551616}') == {"n": 2**64}
    assert type(records.loads(b'{"n":18446744073709551616}')["n"]) is int
    assert records.loads(records.dumps({"s": "a\ud800"})) == {"s": "a\ud800"}
    assert records.loads(b'{"s":"\\ud800"}') == {"s": "\ud800"}
    assert records.loads(records.dumps({2: 1})) == {"2": 1}
    assert records.loads(b"[1e400, -1e400]") == [math.inf, -math.inf]


@dataclasses.dataclass
class Point:
    x: int


class Sub(str):
    pass


@pytest.mark.parametrize("value", [datetime.date(2024, 1, 2), Point(1), object()])
def test_what_json_refuses_is_refused(value):
    with pytest.raises(TypeError):
        json.dumps({"v": value})
    with pytest.raises(TypeError):
        records.dumps({"v": value})


def test_subclasses_encoded_as_json_encodes_them():
    value = {"s": Sub("x"), "f": float.__new__(type("F", (float,), {}), 1.5)}
    assert same(records.loads(records.dumps(value)), json.loads(json.dumps(value)))


def test_spill_round_trip_exact(tmp_path):
    docs = [
        Document("a", "plain text with null in it", "s:1", {"language": None, "quality": {"x": 0.1, "y": 3}},
                 (Edit("unicode", 0, 1, "P", "p", "r", 0.5),)),
        Document("b", "text \ud800 surrogate", "s:2", {"nan": float("nan"), "inf": float("-inf"), "big": 2**80,
                                                         "\udc00key": ["t", ("u", 1)]}),
        Document("c", "", "s:3", {}, (Edit("pii", 0, 0, "", "<EMAIL>", "pii: email", None, "/title"),)),
    ]
    path = spill(iter(docs), tmp_path / "spill.jsonl")
    back = list(read_documents(path))
    assert len(back) == len(docs)
    for d, b in zip(docs, back):
        want = Document.from_record(json.loads(json.dumps(d.to_record(), ensure_ascii=False)))
        assert same(b.to_record(), want.to_record())
        assert b.edits == want.edits
    assert path.read_bytes().count(b"\n") == 3


class _NoOrjson:
    """Stands in for orjson in records.py: refuses everything, so every record goes through
    json (the codec the pipeline had before records.py)."""

    JSONDecodeError = ValueError
    OPT_PASSTHROUGH_SUBCLASS = OPT_PASSTHROUGH_DATACLASS = OPT_PASSTHROUGH_DATETIME = 0

    @staticmethod
    def dumps(value, option=0):
        raise TypeError("orjson disabled")

    @staticmethod
    def loads(line):
        raise ValueError("orjson disabled")


def _odd_corpus(raw):
    raw.mkdir()
    (raw / "a.txt").write_text("The council met on 12 March 2024 to discuss the new library; write to "
                               "clerk@example.org or call +44 20 7946 0958.\n\nnull and NaN are words here.\n",
                               encoding="utf-8")
    rows = [
        '{"id": 1, "text": "Le conseil municipal s\'est r\\u00e9uni pour discuter de la biblioth\\u00e8que.", '
        '"score": NaN, "big": 123456789012345678901234567890, "tags": ["x", null, 1e-07], "n": null}',
        '{"id": "b", "text": "A broken \\ud800 surrogate in the text, and in a field.", "title": "t\\udc00", '
        '"nested": {"k": [1.5, -0.0, Infinity], "mail": "jane@example.com"}}',
        '{"id": "c", "text": "Plain English text about the weather, which was fine and sunny all week long.", '
        '"author": "Ann"}',
    ]
    (raw / "b.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return raw


def test_published_version_does_not_depend_on_the_codec(tmp_path, monkeypatch):
    """The same inputs give the same version id and the same published rows whether the spills
    are written with orjson or with json: spills are scratch, what the store writes is not."""
    from cleancorpus import api
    from cleancorpus.idkey import IdKey

    raw = _odd_corpus(tmp_path / "raw")
    key = IdKey(bytes(range(32)))

    def build(out):
        v = api.clean(raw, out, id_key=key).version
        return v.id, sorted(json.dumps(r, sort_keys=True, default=str) for r in v.rows("documents")), \
            sorted(json.dumps(r, sort_keys=True, default=str) for r in v.rows("edits"))

    import orjson

    used = {"dumps": 0, "loads": 0}

    class Counting(_NoOrjson):
        @staticmethod
        def dumps(value, option=0):
            out = orjson.dumps(value, option=option)
            used["dumps"] += 1
            return out

        @staticmethod
        def loads(line):
            out = orjson.loads(line)
            used["loads"] += 1
            return out

    Counting.JSONDecodeError = orjson.JSONDecodeError
    monkeypatch.setattr(records, "orjson", Counting)
    fast = build(tmp_path / "fast")
    assert used["dumps"] > 0 and used["loads"] > 0  # orjson did write and read spill lines
    monkeypatch.setattr(records, "orjson", _NoOrjson)
    slow = build(tmp_path / "slow")
    assert fast == slow
    docs = [json.loads(r) for r in fast[1]]
    assert len(docs) == 4 and any("123456789012345678901234567890" in json.dumps(d) for d in docs)
