"""C4's bad-words rule: the shipped list, and the stage's matching against the published
semantics datatrove's C4BadWordsFilter implements (an entry of the list in the lower-cased text,
flanked by a non-word character or an end of the text), written here as the plain regular
expression that definition amounts to, searched over the whole text."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleancorpus.stages.quality import RESOURCE_DIR, BadWords, QualityStage, _load_list

LIST = RESOURCE_DIR / "c4_badwords_en.txt"
ENTRIES = _load_list("c4_badwords_en.txt")
BAD = BadWords(ENTRIES)


DEFINITION = [(e, re.compile(r"(?:\W|^)" + re.escape(e) + r"(?:\W|$)").search) for e in ENTRIES]


def definition(text: str) -> set[str]:
    """The entries that occur by the definition: each entry searched on its own over the whole
    lower-cased text (slow, obviously right)."""
    low = text.lower()
    return {e for e, search in DEFINITION if search(low)}


STAGE = QualityStage(QualityStage.Options(rule_sets=("c4_badwords",)))


def stage_count(stage: QualityStage, text: str) -> int:
    """Through the stage: keys from the word splitter's chunks (remembered across texts)."""
    return stage.signals(text)["c4_badword_count"]


def test_the_shipped_list_is_the_pinned_ldnoobw_english_list():
    # LDNOOBW commit 25e679f03d96baa721cde20db9944649e8d0a844 "en", the version datatrove pins
    assert hashlib.sha256(LIST.read_bytes()).hexdigest() == \
        "a506cbcf8a31935b122299f3bb1d32be6db3d0ad498765d28f365dfc4f4d7b8c"
    assert len(ENTRIES) == len(set(ENTRIES)) == 377
    assert (RESOURCE_DIR / "LICENSE.ldnoobw").read_text().startswith("Attribution 4.0 International")


TRICKY = [
    "Nothing to see here, a plain sentence about rivers and fields.",
    "Classic bass players pass the assessment in Scunthorpe.",  # entries inside longer words
    "What an ASS.", "ass-hat", "(ass)", "x_ass", "ass_", "ass1", "1ass", "éass", "assé",
    "She went to the strip club.", "strip  club", "strip\nclub", "STRIP CLUB!", "strip clubs",
    "the g-spot", "xg-spot", "g-spots", "S&M", "ms&m", "s&m.",
    "🖕", "a🖕", "🖕b", " 🖕 ", "x 🖕", "two girls one cup", "2 girls 1 cup!",
    "big black", "big blacks", "a big black dog and a tied up boat",
    "fuck,fuck ass", "ass anus", "İass", "ΑΣΣ ass",
]


@pytest.mark.parametrize("text", TRICKY)
def test_matches_the_definition_on_tricky_texts(text):
    assert stage_count(STAGE, text) == BAD.count(BAD.keys_of(text), text) == len(definition(text))


@settings(max_examples=120, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(ENTRIES[:40] + ENTRIES[-40:] + [
    "river", "field", "x", "_", "1", "é", "-", "&", ".", ",", "(", ")", " ", "  ", "\n", "\t", "🖕", "İ", "Σ",
    "strip", "club", "big", "black", "girls", "cup", "2", "s", "m", "g", "spot"]), max_size=30).map("".join))
def test_matches_the_definition_on_generated_texts(text):
    fresh = QualityStage(QualityStage.Options(rule_sets=("c4_badwords",)))  # nothing remembered
    assert stage_count(fresh, text) == len(definition(text)) == stage_count(STAGE, text)
    assert stage_count(STAGE, text) == len(definition(text))  # its chunks remembered now


def test_memo_size_never_changes_the_result(monkeypatch):
    import cleancorpus.stages.quality_words as qw

    texts = TRICKY * 2
    expected = [stage_count(STAGE, t) for t in texts]
    monkeypatch.setattr(qw, "_MEMO_SIZE", 3)
    small = QualityStage(QualityStage.Options(rule_sets=("c4_badwords",)))
    assert [stage_count(small, t) for t in texts] == expected
    assert len(small.words._memo) <= 3 and len(small.words._flagged) <= 3


def test_the_stage_flags_and_counts():
    stage = QualityStage()
    text = "The river rose slowly through the night. " * 3 + "Then a big black dog went to the strip club."
    signals = stage.signals(text)
    assert signals["c4_badword_count"] == 2
    assert "c4_badwords" in stage.flags(signals)
    assert stage.signals("The river rose slowly.")["c4_badword_count"] == 0
    only = QualityStage(QualityStage.Options(rule_sets=("c4_badwords",)))
    assert only.flags(only.signals(text)) == ["c4_badwords"]
