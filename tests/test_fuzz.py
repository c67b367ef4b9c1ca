"""Fuzzing the whole run: arbitrary bytes into every reader, arbitrary JSON values (NaN,
huge numbers, unpaired surrogates, deep nesting) into JSONL, then the whole pipeline. No
exception escapes, every input is accounted for in the outcomes, every JSON written is strict
and the version verifies.

CI runs a few derandomized examples; ``make fuzz`` runs many more (FUZZ_EXAMPLES, default 500).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleancorpus
from cleancorpus.store.export import export
from cleancorpus.store.verify import verify

from poison import strict_json_files

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")) or EXAMPLES <= 12,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# any code point, unpaired surrogates included (hypothesis leaves them out by default)
any_char = st.characters(codec=None, exclude_categories=())
any_text = st.text(any_char, max_size=60)
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | any_text)
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(any_text, kids, max_size=4),
                           max_leaves=12)
# a JSONL line: an object with a text (often), anything else (sometimes), or raw garbage
document_objects = st.builds(lambda text, meta: {**meta, "text": text},
                             any_text | st.text(min_size=20, max_size=300), st.dictionaries(any_text, json_values, max_size=4))
jsonl_lines = st.one_of(
    document_objects.map(lambda o: json.dumps(o, allow_nan=True).encode()),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.integers(1, 3000).map(lambda n: b'{"text": "long number", "n": ' + b"7" * n + b"}"),
    st.integers(1, 5000).map(lambda n: b'{"text": "deep", "x": ' + b"[" * n + b"]" * n + b"}"),
    st.binary(max_size=80),
)
jsonl_files = st.lists(jsonl_lines, max_size=6).map(lambda lines: b"\n".join(lines))
html_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from([b"<p>", b"</p>", b"<div>", b"</div>", b"<script>", b"</script>", b"<nav>", b"text ",
                              b"&amp;", b"<br>", b"\xff", b"\x00", b"<!--", b"-->", b"caf\xc3\xa9 "]), max_size=60).map(b"".join),
)
inputs = st.fixed_dictionaries({
    "a.txt": st.binary(max_size=300) | any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    "b.html": html_bytes,
    "c.jsonl": jsonl_files,
})


def expected_outcomes(name: str, data: bytes) -> set[str]:
    """The sources a run must account for: one per file, one per non-blank JSONL line."""
    if name.endswith(".jsonl"):
        lines = {f"{name}:{i}" for i, raw in enumerate(data.splitlines(keepends=True) if b"\r" not in data
                                                      else data.split(b"\n"), start=1) if raw.strip()}
        return lines or {name}
    return {name}


@SETTINGS
@given(inputs)
def test_any_input_runs_to_a_verified_version(files):
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        raw = tmp / "raw"
        raw.mkdir()
        expect: set[str] = set()
        for name, data in files.items():
            (raw / name).write_bytes(data)
            expect |= expected_outcomes(name, data)
        version = cleancorpus.clean(raw, tmp / "clean").version
        outcomes = [o.to_dict() for o in version.outcomes()]
        assert {o["source"] for o in outcomes} == expect
        assert len(outcomes) == len(expect)
        assert all(o["status"] in ("kept", "duplicate") or o.get("reason") for o in outcomes)
        assert verify(version).ok
        export(version, tmp / "plain", "jsonl")  # the plain files a strict JSON reader gets
        strict_json_files(tmp / "plain")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
