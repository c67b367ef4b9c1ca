import json

import pytest

from cleancorpus.document import Document, replay
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
