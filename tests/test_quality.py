"""The quality stage: one case per rule (a text that fails it), exact values of the trickier
signals against their published definitions, the word splitter against known spaCy splits,
clean seeds that must not be flagged, the filter option, configuration errors, determinism."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cleancorpus
from cleancorpus.config import DEFAULT_STAGES, Config, DedupConfig
from cleancorpus.document import Document, Rejection
from cleancorpus.stages.base import ConfigError
from cleancorpus.stages.quality import RULE_SETS, QualityStage, load_thresholds, ngram_repetition
from cleancorpus.stages.quality_words import WordSplitter

STAGE = QualityStage()

# Prose that passes every rule: 6 lines, 13 sentences, about 190 words, nothing repeated.
PROSE = """The river rose slowly through the night, and by morning the lower fields were under water.
Farmers moved their animals to the ridge before dawn. Nobody in the valley could remember a flood like it.

The county engineer said the old levee had held for forty years. It was built after the storm of 1983, when the town lost its bridge.
She thinks the repairs will take most of the summer, and that the cost will be shared with the state.

Volunteers filled sandbags at the school until the light failed. Others cooked soup for the families who had to leave their homes.
By the weekend the water had started to fall, leaving a line of mud on every wall it had touched. The mayor thanked everyone who helped."""


def flags(text: str, **options) -> list[str]:
    stage = QualityStage(QualityStage.Options(**options)) if options else STAGE
    return stage.flags(stage.signals(text))


def test_clean_prose_fails_no_rule():
    assert flags(PROSE) == []


def _lines(n: int, make) -> str:
    return "\n".join(make(i) for i in range(n))


WORDS = ("river field morning water county engineer summer bridge volunteer school family weekend "
         "mayor valley animal ridge repair state cost light soup home mud wall line storm town").split()


def distinct(i: int) -> str:
    """A distinct short sentence for line i (no two lines alike)."""
    a, b, c = WORDS[i % 27], WORDS[(i * 7 + 3) % 27], WORDS[(i * 11 + 5) % 27]
    return f"The {a} and the {b} met {c} number {i} again."


CASES = {
    # Gopher quality (Rae et al. 2021, A.1.1)
    "gopher_short_doc": "The cat sat on the mat. It was happy there.",
    "gopher_long_doc": " ".join(["the river rose and the fields were under water"] * 11_112),
    "gopher_short_words": " ".join(["a", "to", "be", "or", "of", "I", "it", "is", "the", "an"] * 8) + ".",
    "gopher_long_words": " ".join(["internationalisation", "counterrevolutionary", "the", "and",
                                   "incomprehensibility"] * 15) + ".",
    "gopher_too_many_hashes": PROSE + "\n" + " ".join(f"#tag{i}" for i in range(40)),
    "gopher_too_many_ellipsis": " ".join(w + ("..." if i % 4 == 3 else "") for i, w in enumerate(PROSE.split(" "))),
    "gopher_too_many_bullets": _lines(20, lambda i: "- " + distinct(i)),
    "gopher_too_many_end_ellipsis": _lines(20, lambda i: distinct(i)[:-1] + "..."),
    "gopher_few_alpha_words": PROSE + "\n" + " ".join(str(1000 + i) for i in range(300)) + ".",
    "gopher_few_stop_words": _lines(12, lambda i: f"River {WORDS[i]} rose quickly near {WORDS[i + 1]} fields."),
    # Gopher repetition (Rae et al. 2021, Table A1)
    "gopher_empty": "",
    "gopher_dup_para_frac": "\n\n".join(["Same short paragraph here.", "Another one."] * 4 + [PROSE]),
    "gopher_dup_para_char_frac": "\n\n".join([PROSE, PROSE]),
    "gopher_dup_line_frac": "\n".join(["ok."] * 10 + [PROSE]),
    "gopher_dup_line_char_frac": PROSE + "\n" + "\n".join(PROSE.split("\n")[:2]),
    "gopher_top_2_gram": PROSE + " " + "big deal " * 60,
    "gopher_top_3_gram": PROSE + " " + " ".join(f"big red deal w{i}" for i in range(40)),
    "gopher_top_4_gram": PROSE + " " + " ".join(f"big red old deal w{i} v{i}" for i in range(30)),
    "gopher_dup_5_gram": PROSE + " " + " ".join(f"one two three four five x{i} y{i} z{i} q{i} r{i}" for i in range(25)),
    "gopher_dup_10_gram": PROSE + " " + " ".join(f"a1 b2 c3 d4 e5 f6 g7 h8 i9 j10 k{i}" for i in range(20)),
    # C4 (Raffel et al. 2020, 2.2)
    "c4_too_few_sentences": "Home\nNews\nSport\nThe river rose through the night. Farmers moved their animals.",
    "c4_lorem_ipsum": PROSE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.",
    "c4_curly_bracket": PROSE + "\nThe function returns {value} when it is called.",
    # C4's bad-words list (Raffel et al. 2020, 2.2; LDNOOBW, resources/quality/c4_badwords_en.txt)
    "c4_badwords": PROSE + "\nThe tour ended at a strip club downtown.",
    # FineWeb (Penedo et al. 2024, 3.3.3)
    "fineweb_empty": "\n \n\t\n",
    "fineweb_line_punct_ratio": _lines(20, lambda i: distinct(i)[:-1]),
    "fineweb_short_line_ratio": PROSE + "\n" + _lines(30, lambda i: f"Menu item {i}"),
    "fineweb_char_dup_ratio": PROSE + "\n" + PROSE.split("\n")[0],
    "fineweb_list_ratio": _lines(60, lambda i: f"{WORDS[i % 27]} {i}."),
}


def test_every_rule_has_a_case():
    rules = {r for s in RULE_SETS for r in load_thresholds()[s]["rules"]}
    covered = set(CASES) | {f"gopher_dup_{n}_gram" for n in (6, 7, 8, 9)}
    assert rules == covered


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_flags_its_case(rule):
    assert rule in flags(CASES[rule])


def test_duplicated_n_gram_lengths_in_between_are_flagged():
    text = PROSE + " " + " ".join(f"one two three four five six seven eight x{i} y{i}" for i in range(25))
    got = flags(text)
    assert {"gopher_dup_6_gram", "gopher_dup_7_gram", "gopher_dup_8_gram"} <= set(got)


# -- exact values from the published definitions ---------------------------------------------------
def test_gopher_quality_values():
    s = STAGE.signals("Hello, world... #one\n- two words\n• and more…")
    # words: Hello , world ... # one - two words • and more … -> 13 tokens, 8 not only punctuation
    # ("•" is not in datatrove's punctuation table, so it counts as a word, as there)
    assert s["word_count"] == 13
    assert s["gopher_word_count"] == 8
    assert s["gopher_mean_word_length"] == pytest.approx(
        sum(map(len, ["Hello", "world", "one", "two", "words", "•", "and", "more"])) / 8)
    assert s["gopher_hash_word_ratio"] == pytest.approx(1 / 13)
    assert s["gopher_ellipsis_word_ratio"] == pytest.approx(2 / 13)
    assert s["gopher_bullet_line_frac"] == pytest.approx(2 / 3)
    assert s["gopher_ellipsis_line_frac"] == pytest.approx(1 / 3)
    assert s["gopher_alpha_word_frac"] == pytest.approx(7 / 13)
    assert s["gopher_stop_word_count"] == 1  # "and"


def test_repetition_values_follow_the_scan_that_jumps_over_repeats():
    # "a b c d e" three times: the second and third 5-grams repeat the first (5 chars each);
    # overlapping windows after a repeat are jumped over, so no other repeat is counted
    words = "a b c d e a b c d e a b c d e".split()
    top, dup = ngram_repetition(words, use_numpy=False)
    assert dup[5] == 10
    assert dup[6] == 6  # "abcdea" at 5 repeats 0, jump to 11: no 6-gram left
    # top 2-gram "a b" (first among the most frequent: count 3) -> 3 characters with the space, x3
    assert top[2] == 9
    assert ngram_repetition(words, use_numpy=True) == (top, dup)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "cc", "d"]), max_size=80))
def test_numpy_and_python_n_gram_statistics_agree(words):
    assert ngram_repetition(words, use_numpy=True) == ngram_repetition(words, use_numpy=False)


def test_numpy_and_python_agree_on_long_repetitive_texts():
    rng = random.Random(5)
    for vocab in (3, 30, 300):
        words = [f"w{rng.randrange(vocab)}" for _ in range(3000)]
        words[1000:1400] = words[:400]  # a long repeated block
        assert ngram_repetition(words, use_numpy=True) == ngram_repetition(words, use_numpy=False)


def test_line_and_paragraph_duplicates():
    text = "one\ntwo\none\n\nthree\n\nthree"
    s = STAGE.signals(text)
    # paragraphs (split at 2+ newlines): "one\ntwo\none", "three", "three" -> 1 of 3 repeats
    assert s["gopher_dup_para_frac"] == pytest.approx(1 / 3)
    assert s["gopher_dup_para_char_frac"] == pytest.approx(5 / len(text))
    # lines (split at 1+ newlines): one two one three three -> 2 of 5 repeat, 3 + 5 chars
    assert s["gopher_dup_line_frac"] == pytest.approx(2 / 5)
    assert s["gopher_dup_line_char_frac"] == pytest.approx(8 / len(text))


def test_c4_counts_sentences_only_in_the_lines_it_keeps():
    text = ("Dr. Smith arrived at 9 a.m. today. He left soon after. Everyone waved.\n"
            "This line has no end mark\n"
            "Too short.\n"
            "Please enable JavaScript to view this page.\n"
            "We use cookies to improve the site. Read our privacy policy.\n"
            "It rained [citation needed].\n"
            "Was it worth it? Nobody could say! The end.")
    s = STAGE.signals(text)
    # kept: line 1 (3 sentences: "Dr." and "a.m." do not end one), "It rained." (1), the last (3)
    assert s["c4_sentence_count"] == 7
    assert s["c4_kept_line_frac"] == pytest.approx(3 / 7)
    assert not s["c4_lorem_ipsum"] and not s["c4_curly_bracket"]


def test_c4_curly_bracket_only_counts_in_lines_c4_keeps():
    # a brace in a line C4 drops anyway (no end punctuation) does not reject the page
    assert "c4_curly_bracket" not in flags(PROSE + "\nvar x = {a: 1}")
    assert "c4_curly_bracket" in flags(PROSE + "\nThe value {a} is one.")


def test_fineweb_values():
    line = "A line that ends well enough, really."
    text = f"{line}\nshort\n{line}\n\nno end mark here at all, none"
    s = STAGE.signals(text)
    assert s["fineweb_line_count"] == 4
    assert s["fineweb_line_punct_frac"] == pytest.approx(2 / 4)
    assert s["fineweb_short_line_frac"] == pytest.approx(2 / 4)  # <= 30 characters
    assert s["fineweb_dup_line_char_frac"] == pytest.approx(len(line) / (len(text) - 4))
    assert s["fineweb_newline_word_ratio"] == pytest.approx(4 / s["word_count"])


# -- the word splitter --------------------------------------------------------------------------------
SPACY_SPLITS = {  # spaCy 3.8 spacy.blank("en") on these strings (checked in the datatrove venv)
    "Hello, world! Don't do it.": ["Hello", ",", "world", "!", "Do", "n't", "do", "it", "."],
    "Mr. Smith went to the U.S. in 1999...": ["Mr.", "Smith", "went", "to", "the", "U.S.", "in", "1999", "..."],
    "well-known e-mail $5 10km (see http://x.com/a?b=1) end.Next":
        ["well", "-", "known", "e", "-", "mail", "$", "5", "10", "km", "(", "see", "http://x.com/a?b=1", ")",
         "end", ".", "Next"],
    "A--b 3+4 “quoted”": ["A", "--", "b", "3", "+", "4", "“", "quoted", "”"],
    "It's 5:30pm and/or co-op #tag — ok": ["It", "'s", "5:30pm", "and/or", "co", "-", "op", "#", "tag", "—", "ok"],
}


@pytest.mark.parametrize("text", sorted(SPACY_SPLITS))
def test_words_split_as_spacy_splits_them(text):
    assert WordSplitter().words(text) == SPACY_SPLITS[text]


def test_fast_paths_give_the_general_split():
    w = WordSplitter()
    for chunk in ["word,", "word.", "(word", "dont.", "'quoted", "(Mr.", "U.S.", "I.", "ok?", "“Hi"]:
        general = list(w.specials[chunk]) if chunk in w.specials else list(w._split(chunk))
        assert w.words(chunk) == general, chunk


def test_sentences_as_the_sentencizer_counts():
    w = WordSplitter()
    assert w.sentence_count("One. Two! Three?") == 3
    assert w.sentence_count("Wait... what") == 1  # "..." is not a sentence end for spaCy
    assert w.sentence_count("He said. \"Yes.\" Then left.") == 3
    assert w.sentence_count("") == 0
    # a whitespace run other than one plain space is a token, a "word" for the sentencizer
    assert w.sentence_count("It is small.\u2009»") == 2
    assert w.sentence_count("It is small. »") == 1
    assert w.sentence_count("End.  \"Next\"") == 2


def test_special_cases_cut_by_affixes_are_rejoined():
    w = WordSplitter()
    assert w.words("durch z.B. mit") == ["durch", "z.", "B.", "mit"]
    assert w.words("voters,’’ Will") == ["voters", ",", "’’", "Will"]
    assert w.words("이번 아니다.") == ["이번", "아니다", "."]  # uncased letters end a word before "."


# -- the faster equivalents of the speed work: the same answers as the plain definitions ----------
def test_classes_split_at_the_bmp_match_the_same_characters():
    """``_one_of`` (the BMP part of a class in one table, the rest tried only beyond the BMP) and
    the plain class ``[...]`` match the same characters: every BMP code point, and every 7th one
    of planes 1-3 with the ends of the ranges around the BMP's edge."""
    import re

    from cleancorpus.stages.quality_words import _classes, _one_of

    points = [*range(0x10000), *range(0x10000, 0x32000, 7), 0xFFFF, 0x10000, 0x1F200, 0x1F2FF, 0x3134F]
    for name, (bmp, astral) in _classes().items():
        split = re.compile(_one_of(bmp, astral)).fullmatch
        plain = re.compile(f"[{bmp}{astral}]").fullmatch
        differ = [hex(cp) for cp in points if bool(split(chr(cp))) != bool(plain(chr(cp)))]
        assert not differ, (name, differ[:10])


LINE_PIECES = ["word", "Word", "x", "1", "3.5", ".", "!", "?", "...", "…", "。", "．", "\U00011047", "(", ")", "\"",
               "“", "”", "'", "-", "—", "#", "+", "$", "[1]", "Mr.", "U.S.", "e.g.", "etc.", "z.B.", "don't", "é",
               "_", "|", "»", "«", "🙂", "𝐀"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.sampled_from(LINE_PIECES), min_size=1, max_size=4).map("".join), min_size=1, max_size=25),
       st.sampled_from([" ", " ", " ", "  ", "\u2009", "\t"]))
def test_boundary_kinds_count_the_sentences_line_kinds_counts(chunks, space):
    """boundary_kinds (only the chunks holding a sentence-ending character looked up) counts the
    sentence boundaries of every token's kind (line_kinds), and is never empty for a non-blank line."""
    w = STAGE.words
    line = space.join(chunks).strip()
    if not line:
        return
    full, fast = w.line_kinds(line), w.boundary_kinds(line)
    assert fast and w.count_boundaries(fast) == w.count_boundaries(full)
    assert w.count_boundaries(w.boundary_kinds(line, line.split())) == w.count_boundaries(full)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
       | st.lists(st.sampled_from(LINE_PIECES + [" ", "\n", "\u2009", "can't", "gonna", "1,000.", "http://a.b/c"]),
                  max_size=40).map("".join))
def test_tokens_joined_are_the_chunks(text):
    """A chunk's tokens are its characters, cut (what lets the stage count the words' characters
    from the chunks)."""
    w = STAGE.words
    assert w.tokens_join
    for chunk in text.split():
        assert "".join(w.words(chunk)) == chunk


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "cc", "d", "e"]), min_size=600, max_size=1200),
       st.integers(0, 600), st.integers(1, 300))
def test_numpy_and_python_n_grams_agree_on_long_generated_texts(words, at, length):
    """Long enough for the numpy path to run by default, with a block repeated (menus)."""
    words = words[:at] + words[:length] + words[at:]
    assert ngram_repetition(words) == ngram_repetition(words, use_numpy=False) == ngram_repetition(words, use_numpy=True)


# -- in the pipeline --------------------------------------------------------------------------------
def test_quality_is_in_the_default_pipeline_after_boilerplate():
    assert "quality" in DEFAULT_STAGES
    # after boilerplate (judged on the page without its chrome) and language, before the repairs
    assert DEFAULT_STAGES.index("boilerplate") < DEFAULT_STAGES.index("quality") < DEFAULT_STAGES.index("spun")
    assert Config().to_dict()["stage_options"]["quality"]["filter"] is False


def test_cleaned_seeds_are_not_flagged(seeds, out):
    """raw/001-004 are ordinary articles: once cleaned, no rule may fire (000 is spun text,
    kept as a near-duplicate of 001)."""
    result = cleancorpus.clean(seeds, out, config=Config(dedup=DedupConfig(enabled=False)))
    docs = {d.source.split("/")[-1][:3]: d for d in result.version}
    for key in ("001", "002", "003", "004"):
        assert docs[key].metadata["quality_flags"] == [], key
        q = docs[key].metadata["quality"]
        assert q["gopher_word_count"] >= 50 and q["c4_sentence_count"] >= 5


def test_filter_rejects_with_the_rule_names(seeds, out):
    short = Document("s", "The cat sat on the mat. It was happy there.", "s")
    stage = QualityStage(QualityStage.Options(filter=True))
    got = stage.apply(short)
    assert isinstance(got, Rejection)
    assert got.stage == "quality"
    assert got.reason.split(", ") == flags(short.text)
    assert "gopher_short_doc" in got.reason and "gopher_word_count 10 < 50" in got.detail
    # kept documents pass through with their annotations
    kept = stage.apply(Document("p", PROSE, "p"))
    assert not isinstance(kept, Rejection) and kept.metadata["quality_flags"] == []
    # only the chosen rules or rule sets reject
    c4_only = QualityStage(QualityStage.Options(filter=True, filter_rules=("c4_lorem_ipsum", "fineweb")))
    out_doc = c4_only.apply(short)
    assert isinstance(out_doc, Document)
    assert "gopher_short_doc" in out_doc.metadata["quality_flags"]


def test_filter_option_in_a_run_records_the_rejection(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "short.txt").write_text("The cat sat on the mat. It was happy there.\n", "utf-8")
    (raw / "prose.txt").write_text(PROSE + "\n", "utf-8")
    config = Config(stages=("unicode", "quality"), stage_options={"quality": {"filter": True}},
                    dedup=DedupConfig(enabled=False))
    result = cleancorpus.clean(raw, tmp_path / "clean", config=config)
    assert result.summary["kept"] == 1 and result.summary["rejected"] == 1
    rejected = [o for o in result.version.outcomes() if o.status == "rejected"]
    assert rejected[0].reason.startswith("quality: gopher_short_doc")


def test_annotation_off_by_default_keeps_text_and_adds_json_metadata():
    doc = Document("x", CASES["gopher_short_doc"], "x")
    out = STAGE.apply(doc)
    assert isinstance(out, Document) and out.text == doc.text and out.edits == ()
    json.dumps(out.metadata, allow_nan=False)  # plain JSON, no NaN
    assert set(out.metadata) >= {"quality", "quality_flags"}


def test_undefined_signals_are_null_and_fail_nothing():
    s = STAGE.signals("")
    assert s["gopher_mean_word_length"] is None and s["fineweb_line_punct_frac"] is None
    assert flags("") == ["gopher_short_doc", "gopher_few_stop_words", "gopher_empty", "c4_too_few_sentences",
                         "fineweb_empty"]


def test_rule_sets_option_limits_the_signals():
    stage = QualityStage(QualityStage.Options(rule_sets=["c4"]))
    s = stage.signals(PROSE)
    assert "c4_sentence_count" in s and "gopher_word_count" not in s
    assert stage.flags(stage.signals("Short.")) == ["c4_too_few_sentences"]


@pytest.mark.parametrize("options", [
    {"rule_sets": ["gopher"]}, {"rule_sets": []}, {"rule_sets": "c4"}, {"filter": "yes"},
    {"filter_rules": ["no_such_rule"]}, {"threshold": 3},
])
def test_bad_options_fail_at_construction(options):
    with pytest.raises(ConfigError):
        Config(stages=("quality",), stage_options={"quality": options})


def test_deterministic_and_independent_of_what_was_seen_before():
    texts = [CASES[k] for k in sorted(CASES) if k != "gopher_long_doc"] + [PROSE]
    fresh = [STAGE.signals(t) for t in texts]
    again = QualityStage()
    rng = random.Random(3)
    order = list(range(len(texts)))
    rng.shuffle(order)
    shuffled = {i: again.signals(texts[i]) for i in order}
    assert [shuffled[i] for i in range(len(texts))] == fresh
    assert [json.dumps(again.apply(Document("d", t, "d")).metadata, sort_keys=True) for t in texts] == \
           [json.dumps(STAGE.apply(Document("d", t, "d")).metadata, sort_keys=True) for t in texts]


def test_memo_size_never_changes_the_result(monkeypatch):
    """The word splitter's memos are caches only: emptied every few entries, same output."""
    import cleancorpus.stages.quality_words as qw

    texts = [CASES[k] for k in sorted(CASES) if k != "gopher_long_doc"] + [PROSE]
    expected = [STAGE.signals(t) for t in texts]
    monkeypatch.setattr(qw, "_MEMO_SIZE", 3)
    small = QualityStage()
    assert [small.signals(t) for t in texts] == expected
    assert len(small.words._memo) <= 3


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
       | st.lists(st.sampled_from(["word", "W.", "...", "…", "#", "-", "\n", "\n\n", " ", "\u2009", "{", "[1]",
                                    "e.g.", "don't", "(x)", "1,000.", "http://a.b/c", "’’", "z.B.", "\r"]),
                  max_size=60).map("".join))
def test_any_text_gives_strict_json_signals_and_never_raises(text):
    out = STAGE.apply(Document("f", text, "f"))
    assert isinstance(out, Document) and out.text == text
    json.dumps(out.metadata, allow_nan=False)
    assert all(f in STAGE._specs for f in out.metadata["quality_flags"])


def test_the_stage_pickles_with_its_memos():
    import pickle

    stage = QualityStage()
    stage.signals(PROSE)
    again = pickle.loads(pickle.dumps(stage))
    assert again.signals(CASES["gopher_dup_5_gram"]) == STAGE.signals(CASES["gopher_dup_5_gram"])
    assert again.apply(Document("p", PROSE, "p")).metadata == STAGE.apply(Document("p", PROSE, "p")).metadata
