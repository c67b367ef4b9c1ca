"""The spun stage: done-when phrases on raw/000, must-not-change cases, held-out synthetic text,
the second (tortured-phrase) lexicon in context, edit records and idempotence."""

from __future__ import annotations

import csv
import dataclasses
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


# -- issue 17: learned swaps, WordNet proposals, the stronger scorer ------------------------

def mining_corpus() -> list[str]:
    return (CASES / "mining_corpus.txt").read_text(encoding="utf-8").split("\n\n")


def pair_docs(paras: list[str]) -> list[Document]:
    """Each paragraph and its copy spun with the held-out swaps (which no lexicon holds)."""
    docs = []
    for i, p in enumerate(paras):
        docs += [Document(f"p{i}-clean", p, "case"), Document(f"p{i}-spun", spin(p, 1.0, i, swaps="heldout"), "case")]
    return docs


def test_swaps_mined_from_000_and_001_with_provenance():
    stage = SpunStage()
    docs = [Document(p.name[:3], p.read_text(encoding="utf-8"), p.name) for p in RAW]
    stage.fit(docs)
    m = stage.mined[(("previous",), "former")]
    assert m.pairs == [("000", "001")] and m.count == 2
    assert "a [previous -> former] premier" in m.contexts
    # swaps the lexicon lacks are learned too: "recorded" for "captured", "equipped" for "armed"
    assert {(("recorded",), "captured"), (("equipped",), "armed"), (("seek",), "sought")} <= set(stage.mined)
    out = stage.apply(docs[0])
    assert "was captured shortly" in out.text and "Sporadic armed resistance" in out.text
    mined_edits = [e for e in out.edits if "spun (corpus, mined" in e.reason]
    assert mined_edits and all("000~001" in e.reason for e in mined_edits)
    for doc in docs[1:]:
        assert stage.apply(doc).edits == ()


def test_mined_lexicon_repairs_a_spun_document_without_a_clean_twin():
    paras = mining_corpus()
    stage = SpunStage(SpunOptions(fingerprint_count=2))
    stage.fit(pair_docs(paras[:4]))
    assert stage.mined[(("stated",), "said")].count >= 3
    assert {(("utilize",), "use"), (("frequently",), "often"), (("additionally",), "also")} <= set(stage.mined)
    # the spun members were not given away by any lexicon, so fit counted them as clean; once
    # found spun by their pairs, their words leave the clean-document counts
    before = SpunStage(SpunOptions(learn_swaps=False))
    before.fit(pair_docs(paras[:4]))
    assert before._lm.corpus.unigrams["utilize"] > 0
    assert stage._lm.corpus.unigrams["utilize"] < before._lm.corpus.unigrams["utilize"]
    assert stage._lm.corpus.unigrams["use"] == before._lm.corpus.unigrams["use"] > 0
    twinless = spin(paras[4], 1.0, 9, swaps="heldout")
    assert SpunStage().apply(Document("t", twinless, "case")).text == twinless  # unseen swaps: no repair
    out = stage.apply(Document("t", twinless, "case")).text
    assert "She also said" in out and "students often struggle" in out
    assert wer(paras[4], out) < wer(paras[4], twinless) / 2
    # a clean document using one of the learned spun forms properly is left alone
    assert stage.apply(Document("c", paras[5], "case")).edits == ()


def test_lone_and_repeated_fingerprints_gate_twinless_documents():
    paras = mining_corpus()
    options = SpunOptions(fingerprint_count=2, fingerprint_odds=2)
    # a twinless document with one swap only: "utilize", which the pairs' clean members never
    # wrote and clean writers rarely choose over "use"
    one = paras[4].replace("will use the grant", "will utilize the grant")
    docs = pair_docs(paras[:4]) + [Document("t", one, "case")]
    stage = SpunStage(options)
    stage.fit(docs)
    assert stage.mined[(("utilize",), "use")].clean_uses == 0
    assert "will use the grant" in stage.apply(Document("t", one, "case")).text
    # it wrote a fingerprint, so it left the clean-document counts (it would vouch for itself)
    assert stage._lm.corpus.unigrams["teacher"] == 0
    plain = SpunStage(dataclasses.replace(options, learn_swaps=False))
    plain.fit(docs)
    assert plain._lm.corpus.unigrams["teacher"] > 0
    # lone fingerprints off: one swap alone is not trusted
    off = SpunStage(dataclasses.replace(options, lone_fingerprint_ratio=0.0))
    off.fit(docs)
    assert off.apply(Document("t", one, "case")).text == one
    # a fingerprint clean writers choose often ("town" for "city") counts once however often a
    # document repeats it; one clean writers rarely choose ("stated") counts every time
    town = ("After a long debate about the state of the old bridge, the town council met on Monday with "
            "engineers and residents from both banks of the river. Engineers who inspected it last month "
            "found rust on several beams, and the repairs will cost more than the council had planned. "
            "The town will vote on a repair contract in the autumn session, after a public hearing at the library. "
            "Residents who drive across the river every morning have complained for years about the noise, the "
            "potholes and the long queues at the junction, and several of them plan to speak at the hearing.")
    assert (("town",), "city") in stage.mined and stage.apply(Document("c", town, "case")).edits == ()
    every = SpunStage(dataclasses.replace(options, repeat_fingerprint_ratio=1.0))
    every.fit(docs)
    assert every.apply(Document("c", town, "case")).edits != ()
    stated = "The mayor stated the budget was final. Her deputy stated the vote would be held in the spring."
    assert stage.apply(Document("s", stated, "case")).text.count(" said ") == 2


def test_spun_fit_statistics_merge_exactly():
    paras = mining_corpus()
    docs = pair_docs(paras[:4]) + [Document(p.name[:3], p.read_text(encoding="utf-8"), p.name) for p in RAW]
    stage = SpunStage(SpunOptions(trigrams=True))
    whole = stage.partial_fit(docs)
    parts = [stage.partial_fit(docs[k::3]) for k in range(3)]
    merged = stage.merge_stats(parts[::-1])
    assert merged.sketches == whole.sketches
    assert merged.counts.unigrams == whole.counts.unigrams and merged.counts.bigrams == whole.counts.bigrams
    assert whole.trigrams.trigrams and merged.trigrams == whole.trigrams
    a, b = SpunStage(SpunOptions(trigrams=True)), SpunStage(SpunOptions(trigrams=True))
    a.finish_fit(whole)
    b.finish_fit(merged)
    assert {k: (m.count, m.pairs, m.clean_uses) for k, m in a.mined.items()} == \
           {k: (m.count, m.pairs, m.clean_uses) for k, m in b.mined.items()}
    text = raw("000")
    assert a.apply(Document("000", text, "raw")).edits == b.apply(Document("000", text, "raw")).edits


def test_trigram_counts_decide_where_the_bigram_model_cannot():
    from cleancorpus.lm import Arc, viterbi, web_lm
    from cleancorpus.trigram import TrigramCounts, TrigramLM, chain3, decode3, viterbi3

    lm = web_lm()
    # "the" read back as "of": the web bigrams keep "crust the water" ("the water" is common)
    arcs = [Arc(0, 1, ("crust",)), Arc(1, 2, ("the",)), Arc(2, 3, ("water",)), Arc(1, 2, ("of",), 1.0, "entry")]
    assert [a.words for a in viterbi(lm, 3, arcs).arcs][1] == ("the",)
    # a corpus that writes "crust of water" settles it
    counts = TrigramCounts()
    counts.add([["Crust", "of", "water"]] * 20)
    tri = TrigramLM(lm, counts)
    best, gain = decode3(tri, 3, arcs, frozenset(), ["crust", "the", "water"])
    assert [a.words for a in best.arcs][1] == ("of",) and gain > 0
    assert tri.logp3("crust", "of", "water") > lm.logp("of", "water")
    assert tri.logp3("crust", "of", "ice") < lm.logp("of", "ice")  # a seen context, another word
    # a context the corpus never showed is the bigram model's, to the last bit, and the identity
    # reading's score equals the decoder's
    empty = TrigramLM(lm, TrigramCounts())
    assert viterbi3(empty, 3, arcs) == viterbi(lm, 3, arcs)
    assert chain3(tri, ["crust", "the", "water"]) == viterbi3(tri, 3, arcs[:3]).score
    # island by island gives what the whole sentence gives (fitted on the bench corpus)
    from cleancorpus.stages.spun import sentences, tokenize

    stage = SpunStage(SpunOptions(trigrams=True))
    stage.fit([Document(p.name[:3], p.read_text(encoding="utf-8"), p.name) for p in RAW])
    model = stage._lm.model
    assert isinstance(model, TrigramLM)
    text = raw("000")
    tokens = tokenize(text)
    checked = 0
    for s, e in sentences(tokens):
        sarcs, _ = stage._arcs(tokens, s, e, stage._costs(True))
        if len(sarcs) == e - s:
            continue
        breaks = stage._breaks(tokens, s, e)
        words = [t.text for t in tokens[s:e]]
        path, gain = decode3(model, e - s, sarcs, breaks, words)
        whole = viterbi3(model, e - s, sarcs, breaks)
        assert [a.words for a in path.arcs] == [a.words for a in whole.arcs]
        assert gain == pytest.approx(whole.score - chain3(model, words, breaks), abs=1e-9)
        checked += 1
    assert checked >= 10
    with pytest.raises(ConfigError):
        Config(stages=("spun",), stage_options={"spun": {"trigram_prior": 0}})


def test_trigram_reads_are_recorded_and_checked():
    """A fitted stage with trigrams records its trigram reads; a changed trigram count that a
    document read invalidates its reuse, one it did not read does not."""
    import dataclasses as dc

    paras = mining_corpus()
    docs = pair_docs(paras[:4]) + [Document(p.name[:3], p.read_text(encoding="utf-8"), p.name) for p in RAW]
    stage = SpunStage(SpunOptions(trigrams=True))
    stats = stage.partial_fit(docs)
    stage.finish_fit(stats)
    doc = Document("000", raw("000"), "raw")
    out, reads = stage.apply_recorded(doc)
    assert out.edits and reads.get("l3")
    assert stage.reads_hold(reads, doc)
    a, b, w, _ = next(r for r in reads["l3"] if r[0] is not None and r[1] is not None)

    def refit(triple):
        changed = dc.replace(stats, trigrams=dc.replace(stats.trigrams, trigrams=stats.trigrams.trigrams.copy()))
        changed.trigrams.trigrams[triple] += 1000
        other = SpunStage(SpunOptions(trigrams=True))
        other.finish_fit(changed)
        return other

    # a triple this document read, seen far more often: the read answers otherwise
    assert not refit((a, b, w)).reads_hold(reads, doc)
    # a triple in a context the document never reads: every read answers the same
    assert refit(("zyzzyva", "quokka", "the")).reads_hold(reads, doc)


def test_wordnet_candidates_inflected_and_phrases_both_ways():
    from cleancorpus.synonyms import phrase_candidates, word_candidates

    forms = {" ".join(c.words) for c in word_candidates("required")}
    assert {"took", "needed", "demanded"} <= forms  # "require" -> "take", in the past tense
    assert "former" in {" ".join(c.words) for c in word_candidates("previous")}
    assert "president" in {" ".join(c.words) for c in word_candidates("chairman")}
    assert "sought" in {" ".join(c.words) for c in word_candidates("seek")}  # another form of the verb
    assert word_candidates("the") == () and word_candidates("was") == ()
    assert ("to",) in {c.words for c in phrase_candidates(("in", "order", "to"))}
    assert ("prior", "to") in {c.words for c in phrase_candidates(("before",))}
    assert (ROOT / "src/cleancorpus/resources/spun/LICENSE.wordnet").exists()


def test_wordnet_proposals_gated_on_detection():
    # even with proposals switched on and free, clean text is not touched: they run only in
    # documents found spun
    eager = SpunOptions(wordnet=True, spun_wordnet_cost=0.0, spun_inflection_cost=0.0, spun_phrase_cost=0.0,
                        frequency_penalty=0.0)
    stage = SpunStage(eager)
    text = (CASES / "clean_sentences.txt").read_text(encoding="utf-8")
    assert stage.apply(Document("all", text, "case")).text == text
    for prefix in ("001", "002", "003", "004"):
        assert stage.apply(Document(prefix, raw(prefix), prefix)).edits == ()
    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    assert stage.apply(Document("h", clean, "case")).edits == ()
    # the same text forced to count as spun gets WordNet readings, each explained
    forced = SpunStage(dataclasses.replace(eager, document_threshold=0.0))
    edits = forced.apply(Document("h", clean, "case")).edits
    assert any(e.reason.startswith("spun (wordnet, wordnet:") for e in edits)


def test_wordfreq_knows_what_symspell_lacks():
    from cleancorpus.lm import web_lm

    lm = web_lm()
    assert lm.p_unigram("vapor") > 100 * lm.with_wordfreq(0.0).p_unigram("vapor")
    # frequent words keep symspellpy's frequency: wordfreq would tilt the function-word ties
    # ("come"/"to", "yet"/"but") the spinner's swaps create
    for word in ("the", "to", "come", "but", "yet"):
        assert lm.p_unigram(word) == lm.with_wordfreq(0.0).p_unigram(word)
    # a mid-frequency word symspellpy knows takes the mix
    assert lm.p_unigram("equipped") != lm.with_wordfreq(0.0).p_unigram("equipped")
    with pytest.raises(ConfigError):
        Config(stages=("spun",), stage_options={"spun": {"wordfreq_weight": 2}})


def test_spin_wordnet_changes_content_words_only():
    from cleancorpus.spinsim import spin_wordnet

    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    spun = spin_wordnet(clean, 0.5, seed=3)
    assert 0.05 < wer(clean, spun) < 0.3
    assert spun.count("Apple") == clean.count("Apple") and spin_wordnet(clean, 0.0) == clean


def test_unseen_spinning_flagged_not_edited_and_clean_text_not_flagged():
    from cleancorpus.spinsim import spin_wordnet

    stage = SpunStage(SpunOptions(detect_unseen=True))
    clean = (CASES / "heldout_clean.txt").read_text(encoding="utf-8")
    texts = [clean, (CASES / "clean_sentences.txt").read_text(encoding="utf-8")] + [raw(p) for p in ("001", "002", "003", "004")]
    for text in texts:
        out = stage.apply(Document("c", text, "case"))
        assert out.metadata["spun_unseen"] is False and out.edits == ()
    spun = spin_wordnet(clean, 0.5, seed=2)  # a thesaurus spinner: not one swap in any lexicon
    assert SpunStage().apply(Document("s", spun, "case")).metadata["spin_score"] < SpunOptions().document_threshold
    out = stage.apply(Document("s", spun, "case"))
    assert out.metadata["spun_unseen"] is True and out.metadata["unseen_spin_score"] >= SpunOptions().unseen_threshold
    assert out.edits == ()  # flagged for review: the bigram model cannot choose the synonyms back reliably
    # the flagged sentences are given as character spans of the text
    spans = out.metadata["spun_unseen_spans"]
    assert spans and all(0 <= a < b <= len(spun) for a, b in spans)
    # the readings must change enough different words (a clean writer's odd word, repeated, is
    # one word): asking for more than the spinner changed leaves the document unflagged
    strict = SpunStage(SpunOptions(detect_unseen=True, unseen_min_words=500))
    assert strict.apply(Document("s", spun, "case")).metadata["spun_unseen"] is False


def clean_and_spun(paras: list[str]) -> list[Document]:
    """Each paragraph clean and spun (held-out swaps, every candidate word), as two documents."""
    docs = []
    for i, p in enumerate(paras):
        docs += [Document(f"p{i}-clean", p, "case"), Document(f"p{i}-spun", spin(p, 1.0, i, swaps="heldout"), "case")]
    return docs


def fitted_with_memo(opts: SpunOptions, docs: list[Document]) -> tuple[SpunStage, dict]:
    """A stage fitted on ``docs`` from an empty fit memo, and the memo its fit leaves."""
    stage = SpunStage(opts)
    stage.fit_memo = {}
    stage.fit(docs)
    return stage, stage.take_fit_memo()


def test_a_fit_memo_leaves_the_fitted_stage_as_it_is():
    """finish_fit with the memo an earlier fit left (pair verdicts by sketch digests, the
    fingerprints each counted document writes), with none, or with a damaged one: the same
    fitted stage, byte for byte."""
    import pickle

    from cleancorpus.spinsim import spin

    paras = (ROOT / "tests" / "cases" / "spun" / "mining_corpus.txt").read_text(encoding="utf-8").split("\n\n")
    docs = clean_and_spun(paras[:5])
    opts = SpunOptions(fingerprint_count=2)
    earlier, memo = fitted_with_memo(opts, docs[:6])
    assert memo["pairs"] and memo["writes"][1]

    def fitted(memo) -> bytes:
        stage = SpunStage(opts)
        stage.fit_memo = memo
        stage.fit(docs)
        stage.take_fit_memo()
        # apart from the earlier fits' lexicon words, which only narrow the check of records
        # made under them (test_spunreads: checked only for the words added since)
        assert stage._index._earlier == ({} if memo is not None and "keys" not in memo else memo["keys"])
        stage._index._earlier, stage._index._steps = {}, {}
        return pickle.dumps(stage)

    plain = SpunStage(opts)
    plain.fit(docs)
    assert plain.mined and pickle.dumps(plain) == fitted(memo) == fitted({}) == fitted({"pairs": "damaged"})
