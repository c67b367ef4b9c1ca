"""The quality stage's compiled loops (_quality_c.c) and their Python fallback, against the
straightforward definitions written out here: Gopher's n-gram repetition (every n-gram counted,
the most frequent, first among equals, for n = 2..4, datatrove's left-to-right scan over every
position for n = 5..10) three ways (compiled, plain Python, numpy), and Gopher's quality counts."""

from __future__ import annotations

import os
import random
from collections import Counter
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleancorpus.stages import quality, quality_words
from cleancorpus.stages.quality_words import WordSplitter
from cleancorpus.stages.quality import DUP_NS, TOP_NS, QualityStage, ngram_repetition

compiled = pytest.mark.skipif(quality._quality_c is None, reason="the C module _quality_c was not built (no C compiler at install time)")


def test_compiled_module_is_built_in_ci():
    # the fallback is correct but about half as fast: CI, whose machine has a compiler, must
    # build and test the compiled path instead of skipping it quietly
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        assert quality._quality_c is not None, "the C module _quality_c was not built"
    else:
        pytest.skip("checked under CI only")


@contextmanager
def python_fallback(owner):
    """Within the block, ``owner`` (the quality or quality_words module) runs without the C
    module, as an install without a compiler does."""
    module = owner._quality_c
    owner._quality_c = None
    try:
        yield
    finally:
        owner._quality_c = module


def definition(words: list[str]) -> tuple[dict[int, int], dict[int, int]]:
    top = {}
    for n in TOP_NS:
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            top[n] = 0
            continue
        counts = Counter(grams)  # first-seen order
        best = max(counts.values())
        gram = next(g for g, c in counts.items() if c == best)
        top[n] = (sum(map(len, gram)) + n - 1) * best
    dup = {}
    for n in DUP_NS:
        seen: set = set()
        chars = i = 0
        while i <= len(words) - n:
            gram = tuple(words[i:i + n])
            if gram in seen:
                chars += sum(map(len, gram))
                i += n
            else:
                seen.add(gram)
                i += 1
        dup[n] = chars
    return top, dup


def all_ways(words: list[str]) -> list:
    ways = [ngram_repetition(words, use_numpy=False), ngram_repetition(words, use_numpy=True)]
    if quality._quality_c is not None:
        ways.append(ngram_repetition(words, compiled=True))
    return ways


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "cc", "d", "ééé", "\U0001F600"]), max_size=90))
def test_every_way_gives_the_definition(words):
    expected = definition(words)
    for got in all_ways(words):
        assert got == expected


@settings(max_examples=40, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "cc", "d", "e"]), min_size=600, max_size=1500),
       st.integers(0, 600), st.integers(1, 400))
def test_long_texts_with_a_repeated_block(words, at, length):
    words = words[:at] + words[:length] + words[at:]
    expected = definition(words)
    for got in all_ways(words):
        assert got == expected


@compiled
def test_compiled_on_long_texts_and_equal_strings_that_are_different_objects():
    rng = random.Random(3)
    for vocab in (2, 30, 3000):
        # words built anew each time: equal strings, different objects (as the word splitter's)
        words = ["".join(["w", str(rng.randrange(vocab))]) for _ in range(4000)]
        words[2000:2600] = [w + "" for w in words[100:700]]
        assert ngram_repetition(words, compiled=True) == ngram_repetition(words, use_numpy=True) == definition(words)


@compiled
def test_compiled_takes_only_a_list_of_str():
    with pytest.raises(TypeError):
        quality._quality_c.repetition(("a", "b"))
    with pytest.raises(TypeError):
        quality._quality_c.repetition(["a", 1])
    assert quality._quality_c.repetition([]) == (0,) * 9


def test_stage_signals_equal_the_definition():
    """The stage's n-gram signals (whichever way it computes them) are the definition's numbers."""
    stage = QualityStage(QualityStage.Options(rule_sets=("gopher_repetition",)))
    rng = random.Random(8)
    for _ in range(30):
        words = [rng.choice(["menu", "Home", "About", "the", "cat", "sat"]) for _ in range(rng.randrange(1, 1200))]
        text = " ".join(words)
        signals = stage.signals(text)
        top, dup = definition(stage.words.words(text))
        for n in TOP_NS:
            assert signals[f"gopher_top_{n}_gram_char_frac"] == top[n] / len(text)
        for n in DUP_NS:
            assert signals[f"gopher_dup_{n}_gram_char_frac"] == dup[n] / len(text)


PIECES = ["the", "of", "and", "with", "Have", "cat", "naïve", "3.5", "...", "…", "#tag", "-", "•", "—", "!!",
          "e-mail", "(see", "it.", "Mr.", "don't", "\u00a0", "\U0001F600", "•item", "-dash", "x...", "ΣΑΣ"]


def gopher_quality_definition(text: str, words: list[str], stage: QualityStage) -> dict:
    """Gopher's quality signals written out plainly (what _gopher_quality computes)."""
    symbols = [w for w in words if stage._only_symbols[w]]
    counted = [w for w in words if not stage._only_symbols[w]]
    lines = [line.strip() for line in text.splitlines()]
    n = len(words)
    return {
        "gopher_word_count": len(counted),
        "gopher_mean_word_length": sum(map(len, counted)) / len(counted) if counted else None,
        "gopher_hash_word_ratio": text.count("#") / n if n else None,
        "gopher_ellipsis_word_ratio": (text.count("...") + text.count("…")) / n if n else None,
        "gopher_bullet_line_frac": sum(line.startswith(("•", "-")) for line in lines) / len(lines) if lines else None,
        "gopher_ellipsis_line_frac": sum(line.endswith(("...", "…")) for line in lines) / len(lines) if lines else None,
        "gopher_alpha_word_frac": sum(any(c.isalpha() for c in w) for w in words) / n if n else None,
        "gopher_stop_word_count": len({w for w in words if w in stage._stop_words}),
    }


GQ_STAGE = QualityStage(QualityStage.Options(rule_sets=("gopher_quality",)))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from([" ", "\n", "  ", "\n\n", " \n ", "\r\n", "\u2028"])),
                max_size=60))
def test_gopher_quality_signals_compiled_and_python_give_the_definition(pieces):
    text = "".join(p + sep for p, sep in pieces)
    stage = GQ_STAGE
    expected = gopher_quality_definition(text, stage.words.words(text), stage)
    got = stage.signals(text)
    with python_fallback(quality):
        fallback = stage.signals(text)
    for key, value in expected.items():
        assert got[key] == fallback[key]
        assert got[key] == value or (value is not None and got[key] == pytest.approx(value, rel=1e-12)), key


@compiled
def test_word_counts_checks_its_arguments():
    stage = QualityStage()
    with pytest.raises(TypeError):
        quality._quality_c.word_counts(["a", 2], stage._stop_words, stage._symbol_str)
    with pytest.raises(TypeError):
        quality._quality_c.word_counts(("a",), stage._stop_words, stage._symbol_str)
    assert quality._quality_c.word_counts([], stage._stop_words, stage._symbol_str) == (0,) * 5


CHUNKS = ["word", "Word.", "word.", "WORD.", "word,", "(word", "“word", "word”", "don't", "can't.", "Mr.", "(Mr.",
          "e.g.", "z.B.", "naïve", "ΣΑΣ.", "ß,", "3.5", "a-b", "(", ".", ",", "’’", "x", "\U0001F600", "http://a.b/c",
          "«Hi»", "word…", "…", "so...", "U.S.", "gonna", "(gonna", "gonna.", "it's", "I", "I.", "i.", "Ǆ.",
          "1910", "1910,", "2.5.", "12.11.2009", "09:41", "63,1", "1,000).", "7", "7.", "1.", "1..", "10km", "3:", "٣", "²",
          "1.2.", "(1910)", "1910…", "1,", ",1", "1,,2", "5m.", '"Hi,"', 'shocked."', "hope.”", "Django’s", "magician's",
          "Django’s,", "co-founder", "co-founder.", "CAN-SPAM", "23-33", "a--b", "-a", "a-", "(NIF)", "(Torhüter)",
          "Rest\xadsauer", "l’homme", "l’’homme", "’tis", "x’", "1-a", "e-mail,", "(e.g.", "(Mr.)", "«Mr.»", "don't.",
          "(don't)", "U.S.,", "so....", "so...,", "AB.", "ab..", "He”.", "he’s.", "Mr.’", "n't", "(n't", "'s", "vs.",
          "(vs.)", "etc.)", "I'm.", "’S", "a²", "x_y", "(a-b),", "((a", "a))", "a……", "1’s"]


def python_words(splitter, chunks):
    with python_fallback(quality_words):
        return splitter.words_of_chunks(chunks)


SPLITTERS = WordSplitter(), WordSplitter()
REFERENCE = WordSplitter()


@compiled
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CHUNKS), max_size=30), min_size=1, max_size=4), st.sampled_from([2, 5, 1 << 18]))
def test_chunk_words_gives_the_words_and_the_memo_of_the_python_path(texts, memo_size):
    """The same words, the same memo (entries and their order) and the same stamp changes, with a
    memo that fills up (the limit taken from _MEMO_SIZE at each call) or not."""
    old = quality_words._MEMO_SIZE
    quality_words._MEMO_SIZE = memo_size
    try:
        compiled_splitter, python_splitter = SPLITTERS
        for splitter in SPLITTERS:  # fresh memos (a new WordSplitter costs a few ms)
            splitter._memo = quality_words._ChunkTokens(splitter)
        for chunks in texts:
            stamps = compiled_splitter._stamp, python_splitter._stamp
            got = compiled_splitter.words_of_chunks(chunks)
            assert got == python_words(python_splitter, chunks) == [t for c in chunks for t in REFERENCE._chunk(c)]
            assert list(compiled_splitter._memo.items()) == list(python_splitter._memo.items())
            assert (compiled_splitter._stamp is stamps[0]) == (python_splitter._stamp is stamps[1])
    finally:
        quality_words._MEMO_SIZE = old


@compiled
def test_chunk_words_with_keys_keeps_chunks_with_keys_apart():
    """With C4's bad words (key_of), a chunk with keys is kept out of the memo, as in Python."""
    stage, python_stage = QualityStage(), QualityStage()
    text = "What the hell, this is a strip club. Hell. Normal words here, hell."
    assert stage.words.words_and_keys(text.split()) == python_words_and_keys(python_stage.words, text.split())
    assert list(stage.words._memo) == list(python_stage.words._memo)
    assert stage.signals(text) == python_stage.signals(text)


def python_words_and_keys(splitter, chunks):
    with python_fallback(quality_words):
        return splitter.words_and_keys(chunks)


@compiled
def test_chunk_words_checks_its_arguments():
    splitter = WordSplitter()
    with pytest.raises(TypeError):
        quality._quality_c.chunk_words(["a", 1], splitter._memo, splitter.specials, 10, ",", "(", splitter._rejoin_specials, splitter._general, None, {}, splitter._flag, None)
    with pytest.raises(TypeError):
        quality._quality_c.chunk_words(["a"], {"a": ["a"]}, splitter.specials, 10, ",", "(", splitter._rejoin_specials, splitter._general, None, {}, splitter._flag, None)


def c4_definition(stage: QualityStage, text: str) -> dict:
    """C4's line rules and sentence count written out line by line (each kept line's sentences
    counted on its own by the word splitter's sentence_count)."""
    kept = sentences = lines = 0
    lorem = curly = False
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        lines += 1
        ws = line.split()
        if len(ws) < 3 or any(len(w) > 1000 for w in ws):
            continue
        line = stage._c4_citation.sub("", line)
        if not line or line[-1] not in stage._c4_end_chars or line.endswith("..."):
            continue
        low = line.lower()
        if "lorem ipsum" in low:
            lorem = True
            continue
        if "javascript" in low:
            continue
        if "{" in line:
            curly = True
            continue
        if any(p in low for p in stage._c4_policy):
            continue
        kept += 1
        sentences += stage.words.sentence_count(line)
    return {"c4_sentence_count": sentences, "c4_kept_line_frac": kept / lines if lines else None,
            "c4_lorem_ipsum": lorem, "c4_curly_bracket": curly}


C4_PIECES = ["word", "Word", "the", "end.", "end!", "Why?", "e.g.", "Mr.", "U.S.", "“Quoted.”", "(aside).", "x.Y",
             "a.b.", "...", "so...", "…", "。", "\U0001173c", "𑜼.", "[1]", "[edit]", "{", "}", "lorem ipsum",
             "JavaScript", "Privacy Policy", "'", '"', "3.5", ".", "!", "?!", "end。", "here\U0001173c", "«Oui.»", "§"]
C4_SEPARATORS = [" ", " ", " ", "  ", "\u2009", "\t", "\n", "\n", "\n\n"]
C4_STAGE = QualityStage(QualityStage.Options(rule_sets=("c4",)))


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(C4_PIECES), st.sampled_from(C4_SEPARATORS)), max_size=50))
def test_c4_signals_give_the_line_by_line_definition(pieces):
    text = "".join(p + sep for p, sep in pieces)
    expected = c4_definition(C4_STAGE, text)
    module = quality._quality_c
    for way in (module, None):  # compiled (when built), then the Python fallback
        quality._quality_c = way
        try:
            got = C4_STAGE.signals(text)
        finally:
            quality._quality_c = module
        assert {k: got[k] for k in expected} == expected


CHUNK_ALPHABET = "aZé1.,;:!?()[]\"'’“”«»-…\xad$%/_ß²"


@compiled
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.text(alphabet=CHUNK_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=20))
def test_chunk_words_splits_generated_chunks_as_the_python_path(chunks):
    compiled_splitter, python_splitter = SPLITTERS
    for splitter in SPLITTERS:
        splitter._memo = quality_words._ChunkTokens(splitter)
    got = compiled_splitter.words_of_chunks(chunks)
    assert got == python_words(python_splitter, chunks) == [t for c in chunks for t in REFERENCE._chunk(c)]
    assert list(compiled_splitter._memo.items()) == list(python_splitter._memo.items())


BAD_CHUNKS = CHUNKS[:40] + ["hell", "Hell.", "(hell", "strip", "club.", "g-spot", "s&m", "arse,", "HELL", "hell…",
                            "HeLL", "hell2", "STRIP", "Club", "arse", "Arse", "bollocks", "BOLLOCKS", "hellé"]
KEYED = QualityStage(), QualityStage()


@compiled
@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.sampled_from(BAD_CHUNKS), max_size=25), min_size=1, max_size=4), st.sampled_from([2, 5, 1 << 18]))
def test_chunk_words_with_keys_gives_the_words_keys_memo_and_flagged_of_the_python_path(texts, memo_size):
    old = quality_words._MEMO_SIZE
    quality_words._MEMO_SIZE = memo_size
    try:
        compiled_words, python_words_ = (stage.words for stage in KEYED)
        for splitter in (compiled_words, python_words_):
            splitter._memo = quality_words._ChunkTokens(splitter)
            splitter._flagged = {}
        for chunks in texts:
            got = compiled_words.words_and_keys(chunks)
            assert got == python_words_and_keys(python_words_, chunks)
            assert list(compiled_words._memo.items()) == list(python_words_._memo.items())
            assert list(compiled_words._flagged.items()) == list(python_words_._flagged.items())
    finally:
        quality_words._MEMO_SIZE = old
