"""The spun stage: done-when phrases on raw/000, must-not-change cases, held-out synthetic text,
the second (tortured-phrase) lexicon in context, edit records and idempotence."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from cleancorpus.api import repair_text
from cleancorpus.config import Config
from cleancorpus.document import Document, replay
from cleancorpus.spinsim import forward_swaps, spin, wer
from cleancorpus.stages.base import ConfigError
from cleancorpus.stages.spun import SpunOptions, SpunStage, load_lexicon

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "spun"
RAW = sorted((ROOT / "raw").glob("*.txt"))


def raw(prefix: str) -> str:
    return next(p for p in RAW if p.name.startswith(prefix)).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def stage() -> SpunStage:
    return SpunStage()


def test_000_reads_back(stage):
    text = raw("000")
    out = stage.apply(Document("000", text, "raw/000"))
    for phrase in ("and troops on November 4, 1956", "dismissed from the party",
                   "Secretary of State", "the United States", "many people in the West",
                   "An estimated 2,500 Hungarians died and 200,000 more fled"):
        assert phrase in out.text
    for spun in ("top top", "an ext", "in ~", "indigenous", "and also"):
        assert spun not in out.text
    assert out.metadata["spin_score"] >= SpunOptions().document_threshold


def test_000_close_to_its_clean_copy(stage):
    repaired = stage.apply(Document("000", raw("000"), "raw/000")).text
    # a sentence both documents share, word for word apart from the spinning
    ref = ("In response, Communist Party officials appointed Imre Nagy, a former premier who had "
           "been dismissed from the party for his criticisms of Stalinist policies, as the new premier.")
    hyp = next(s for s in repaired.split(". ") if s.startswith("In response"))
    assert wer(raw("000")[raw("000").index("In response"):][: len(hyp)], ref) > 0.1
    assert wer(ref, hyp) <= 0.15


@pytest.mark.parametrize("prefix", ["001", "002", "003", "004"])
def test_clean_seed_documents_get_no_spun_edits(stage, prefix):
    out = stage.apply(Document(prefix, raw(prefix), prefix))
    assert out.edits == ()
    assert out.metadata["spin_score"] < SpunOptions().document_threshold


def test_clean_seed_documents_untouched_after_fit_on_corpus():
    stage = SpunStage()
    docs = [Document(p.name, p.read_text(encoding="utf-8"), p.name) for p in RAW]
    stage.fit(docs)
    for doc in docs[1:]:
        assert stage.apply(doc).edits == ()
    assert "Secretary of State" in stage.apply(docs[0]).text


def test_clean_sentences_stay_byte_identical(stage):
    text = (CASES / "clean_sentences.txt").read_text(encoding="utf-8")
    assert stage.apply(Document("all", text, "case")).text == text
    for line in text.splitlines(keepends=True):
        assert stage.apply(Document("line", line, "case")).text == line, line


def test_heldout_clean_text_untouched(stage):
    text = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    assert stage.apply(Document("h", text, "case")).edits == ()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_heldout_synthetic_spun_text_is_repaired(stage, seed):
    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    spun = spin(clean, rate=0.8, seed=seed)
    before = wer(clean, spun)
    after = wer(clean, stage.apply(Document("s", spun, "synthetic")).text)
    assert before > 0.08
    assert after < 0.03
    assert after < before / 4


def test_tortured_phrases_in_context():
    with open(CASES / "tortured_in_context.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) >= 5
    for row in rows:
        fixed = repair_text(row["spun"])
        assert fixed.text == row["expected"]
        assert all("tortured_phrases" in e.reason for e in fixed.edits if e.stage == "spun")


def test_case_numbers_and_spacing_preserved():
    text = "Top top  November 4, 1956, the troops deserve to  leave.\nAN EXT 2,500 left."
    out = repair_text(text).text
    assert out == "On  November 4, 1956, the troops can  leave.\nMORE 2,500 left."


def test_edits_are_explained_and_replay(stage):
    text = raw("000")
    out = stage.apply(Document("000", text, "raw/000"))
    assert len(out.edits) > 20
    for e in out.edits:
        assert e.stage == "spun" and e.reason.startswith(("spun (", "spun case:"))
        assert 0.0 < e.confidence <= 1.0
        assert text[e.start:e.end] == e.before != e.after
    assert replay(text, out.edits) == out.text


def test_second_run_changes_nothing(stage):
    once = stage.apply(Document("000", raw("000"), "raw/000"))
    again = stage.apply(Document("000", once.text, "raw/000"))
    assert again.text == once.text and again.edits == ()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.floats(0.2, 1.0))
def test_idempotent_on_synthetic_spun_text(seed, rate):
    stage = SpunStage()
    spun = spin((CASES / "heldout_clean.txt").read_text(encoding="utf-8"), rate, seed)
    once = stage.apply(Document("s", spun, "s")).text
    assert stage.apply(Document("s", once, "s")).text == once


def test_lexicons_have_provenance():
    word = load_lexicon("word_spinner")
    sources = {e.source for e in word}
    assert {s for s in sources if not s.startswith("inflected:")} <= {
        "issue-4", "aligned-000-001", "curated", "family", "numbers"}
    # an inflected entry names the entry it inflects
    spun_forms = {" ".join(e.spun) for e in word}
    assert all(s.split(":", 1)[1] in spun_forms for s in sources if s.startswith("inflected:"))
    assert any(e.spun == ("top", "top") and e.original == "on" for e in word)
    tortured = load_lexicon("tortured_phrases")
    assert len(tortured) > 1000 and all(e.source.startswith("pps:") for e in tortured)
    assert (ROOT / "src/cleancorpus/resources/spun/LICENSE.hahuyhoang411-tortured-phrase").exists()


def test_bad_options_fail_at_construction():
    with pytest.raises(ConfigError):
        Config(stages=("spun",), stage_options={"spun": {"lexicons": ["nope"]}})
    with pytest.raises(ConfigError):
        Config(stages=("spun",), stage_options={"spun": {"ambiguous_cost": -1}})


def test_000_case_numbers_and_quoted_context(stage):
    out = stage.apply(Document("000", raw("000"), "raw/000")).text
    for phrase in ("Hungarian Prime Minister Imre Nagy", "“Our troops are fighting. The government is in place.” Within hours",
                   "executed two years later", "enter the United States", "the “liberation” of “captive peoples”",
                   "a former premier", "great power", "(the Soviet bloc’s equivalent of NATO)"):
        assert phrase in out, phrase
    case_edits = [e for e in stage.apply(Document("000", raw("000"), "raw/000")).edits if "spun case" in e.reason]
    assert {(e.before, e.after) for e in case_edits} >= {("prime", "Prime"), ("within", "Within"), ("united", "United")}


def test_case_restored_only_inside_spun_documents(stage):
    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    lowered = clean.replace("the United States", "the united States").replace("Later that evening", "later that evening")
    # clean text with odd case is not spun: left exactly as it is
    assert stage.apply(Document("c", lowered, "case")).text == lowered
    spun = spin(lowered, rate=0.8, seed=4)
    out = stage.apply(Document("s", spun, "synthetic")).text
    assert "the United States" in out and "later" not in out and "Later th" in out
    assert wer(clean, out) < 0.03


def test_case_restoration_leaves_units_ellipses_fragments_and_glued_words(stage):
    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    recipe = ("\n\nLunch: 4 oz. cooked chicken, 1 tsp. olive oil and 1 Tbsp. green onions. She paused ... "
              "because the day was long. Visit us. my6sense is the brand they chose for the campaign.")
    spun = spin(clean, rate=0.8, seed=4) + recipe
    out = stage.apply(Document("s", spun, "synthetic")).text
    # the document is spun, so sentence starts are restored, but not after units, ellipses,
    # one-word fragments, or inside a word glued to digits
    assert "oz. cooked chicken" in out and "tsp. olive oil" in out and "Tbsp. green onions" in out
    assert "... because the day" in out
    assert "my6sense is the brand" in out


def test_number_words_read_back_only_in_spun_text(stage):
    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    spun = spin(clean, rate=0.8, seed=5).replace("up to two days", "up to 2 days")
    out = stage.apply(Document("s", spun, "synthetic")).text
    assert "up to two days" in out
    assert "8-year-old" in out and "$50 or $100" in out  # digits in compounds and amounts stay
    plain = clean.replace("up to two days", "up to 2 days")
    assert stage.apply(Document("c", plain, "case")).text == plain


def test_heldout_swaps_are_not_in_the_lexicon():
    lexicon_keys = {" ".join(e.spun) for e in load_lexicon("word_spinner")}
    heldout = forward_swaps("heldout")
    assert len(heldout) >= 15
    for original, (spun_forms, _) in heldout.items():
        assert not set(spun_forms) & lexicon_keys, original
    text = "The city said it would help children get a big car."
    assert spin(text, 1.0, 0, swaps="heldout") != text
    with pytest.raises(ValueError):
        spin(text, swaps="nope")
