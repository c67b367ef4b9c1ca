"""The spelling stage: out-of-vocabulary tokens only, names/numbers/URLs protected."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleancorpus.api import repair_text
from cleancorpus.config import Config
from cleancorpus.document import Document
from cleancorpus.stages.base import ConfigError
from cleancorpus.stages.spelling import SpellingStage

ROOT = Path(__file__).resolve().parent.parent
RAW = sorted((ROOT / "raw").glob("*.txt"))


@pytest.fixture(scope="module")
def stage() -> SpellingStage:
    return SpellingStage()


def doc(text: str) -> Document:
    return Document("t", text, "case")


def test_hugary_in_004_becomes_hungary(stage):
    text = next(p for p in RAW if p.name.startswith("004")).read_text(encoding="utf-8")
    out = stage.apply(doc(text))
    assert [(e.before, e.after) for e in out.edits] == [("Hugary", "Hungary")]
    assert "communist rule in Hungary, Khrushchev" in out.text
    for name in ("Gerő", "Rákosi", "Matyas", "Lázló", "Rajk", "Khrushchev"):
        assert name in out.text


def test_hugary_fixed_after_fit_on_corpus():
    stage = SpellingStage()
    docs = [Document(p.name, p.read_text(encoding="utf-8"), p.name) for p in RAW]
    stage.fit(docs)
    edits = {d.id[:3]: [(e.before, e.after) for e in stage.apply(d).edits] for d in docs}
    assert edits == {"000": [], "001": [], "002": [], "003": [], "004": [("Hugary", "Hungary")]}


def test_lowercase_typo_corrected_with_confidence(stage):
    out = stage.apply(doc("The goverment announced new taxes on 4 March."))
    assert out.text == "The government announced new taxes on 4 March."
    (e,) = out.edits
    assert e.reason.startswith("spelling:") and 0 < e.confidence <= 1


@pytest.mark.parametrize("text", [
    "Ernő Gerő met János Kádár in Szolnok and Csepel.",          # non-English names
    "See http://www.state.gov/historyy or mail infoo@example.org.",  # URLs, e-mail
    "The 1200GMT newscast, USA.govU.S. and the NATOO summit.",    # numbers, glued words, acronyms
    "De-stalinisation began; the colour of the defence realised.",  # compounds, British spelling
    "The Soviet bloc's troops and Nagy's men.",                    # possessives
    "A café au lait and a crème brûlée, s'il vous plaît.",         # foreign words, short words
    "Frobnitz is a Frobnitz, whatever the frobnitz says.",          # seen more than once
    "The mayor kept balking at a bowl of chili and the saffron.",  # real words symspellpy lacks
])
def test_protected_tokens_unchanged(stage, text):
    assert stage.apply(doc(text)).text == text


def test_non_english_document_left_alone(stage):
    text = ("Kalian tidak bisa hidup tanpa rasa takut, kata orang itu dengan suara kecil. "
            "Mereka berjalan bersama ke pasar pagi ini untuk membeli sayur dan buah segar.")
    assert stage.apply(doc(text)).edits == ()


def test_corpus_word_protected_after_fit():
    stage = SpellingStage()
    stage.fit([doc("Szeged and Kecskemet hold the festival."), doc("Kecskemet won.")])
    assert stage.apply(doc("Travellers reach Kecskemet by train.")).edits == ()


def test_repair_text_runs_spelling():
    fixed = repair_text("In Hugary the protests grew. Hungary was in revolt, all Hungary.")
    assert fixed.text == "In Hungary the protests grew. Hungary was in revolt, all Hungary."
    assert [e.stage for e in fixed.edits] == ["spelling"]


def test_bad_options_fail_at_construction():
    with pytest.raises(ConfigError):
        Config(stages=("spelling",), stage_options={"spelling": {"max_edit_distance": 5}})
