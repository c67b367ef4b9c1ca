import json

import pytest

from cleancorpus.document import Document, replay, revert
from cleancorpus.stages.unicode import UnicodeOptions, UnicodeStage
from cleancorpus.stages.base import ConfigError
from cleancorpus.config import Config

from paths import CASES, RAW

MOJIBAKE = [json.loads(line) for line in (CASES / "unicode" / "mojibake.jsonl").read_text("utf-8").splitlines()]
NEGATIVE = (CASES / "unicode" / "negative.txt").read_text("utf-8").splitlines()


@pytest.mark.parametrize("case", MOJIBAKE, ids=[c["input"][:20] for c in MOJIBAKE])
def test_repairs_mojibake_and_explains(case):
    doc = Document("d", case["input"], "s")
    out = UnicodeStage().apply(doc)
    assert out.text == case["expected"]
    assert out.edits, "a change must be recorded"
    assert all(e.stage == "unicode" and e.reason.startswith("ftfy:") for e in out.edits)
    assert replay(case["input"], out.edits) == out.text


@pytest.mark.parametrize("text", NEGATIVE)
def test_correct_text_is_left_alone(text):
    doc = Document("d", text, "s")
    out = UnicodeStage().apply(doc)
    assert out is doc


def test_seed_documents_need_no_unicode_repair():
    stage = UnicodeStage()
    for path in sorted(RAW.glob("*.txt")):
        doc = Document("d", path.read_text("utf-8"), path.name)
        assert stage.apply(doc) is doc, path.name


def test_options_are_validated_when_built():
    with pytest.raises(ValueError):
        UnicodeOptions(normalization="NFX")
    with pytest.raises(ConfigError, match="no option"):
        Config(stage_options={"unicode": {"bogus": 1}})


INVISIBLE = [json.loads(line) for line in (CASES / "unicode" / "invisible.jsonl").read_text("utf-8").splitlines()]
INVISIBLE_NEGATIVE = (CASES / "unicode" / "invisible_negative.txt").read_text("utf-8").splitlines()


@pytest.mark.parametrize("case", INVISIBLE, ids=[c["why"] for c in INVISIBLE])
def test_invisible_characters_removed_with_reasons(case):
    doc = Document("d", case["input"], "s")
    out = UnicodeStage().apply(doc)
    assert out.text == case["expected"]
    assert any("invisible:" in e.reason and "(U+" in e.reason for e in out.edits)
    assert replay(case["input"], out.edits) == out.text
    assert revert(out.text, out.edits) == case["input"]
    assert UnicodeStage().apply(Document("d", out.text, "s")).edits == ()  # a second run: nothing


@pytest.mark.parametrize("text", INVISIBLE_NEGATIVE)
def test_invisible_characters_a_script_needs_stay(text):
    doc = Document("d", text, "s")
    assert UnicodeStage().apply(doc) is doc


def test_invisible_normalisation_can_be_turned_off():
    doc = Document("d", "co\u00adoperation \u202eevil", "s")
    assert UnicodeStage(UnicodeOptions(normalize_invisible=False)).apply(doc) is doc


def test_unpaired_surrogates_become_replacement_characters():
    out = UnicodeStage().apply(Document("d", "a \ud83d b \udc80 c \ud83d\ude00", "s"))
    assert out.text == "a \ufffd b \ufffd c \U0001F600"
    assert all("fix_surrogates" in e.reason for e in out.edits)
    out.text.encode("utf-8")  # valid UTF-8 now
