"""Gopher's n-gram repetition, three ways (the compiled module _ngrams.c, plain Python, numpy),
against the straightforward definition written out below: every n-gram counted, the most
frequent (first among equals) for n = 2..4, and datatrove's left-to-right scan over every
position for n = 5..10."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleancorpus.stages import quality
from cleancorpus.stages.quality import DUP_NS, TOP_NS, QualityStage, ngram_repetition

compiled = pytest.mark.skipif(quality._ngrams is None, reason="the C module _ngrams was not built (no C compiler at install time)")


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
    if quality._ngrams is not None:
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
        quality._ngrams.repetition(("a", "b"))
    with pytest.raises(TypeError):
        quality._ngrams.repetition(["a", 1])
    assert quality._ngrams.repetition([]) == (0,) * 9


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
