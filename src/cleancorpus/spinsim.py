"""Synthetic spun text in the style of the spinner behind raw/000, for evaluation only.

Applies the spinner's known forward swaps (resources/spun/forward_swaps.tsv) to clean text at a
given rate, keeping case, punctuation and spacing, so that repair can be measured on text that
is not in this repository (word error rate before and after, against the clean original).
"""

from __future__ import annotations

import random
from functools import lru_cache
from importlib import resources

from .stages.spun import cased, tokenize


@lru_cache(maxsize=1)
def forward_swaps() -> dict[str, tuple[tuple[str, ...], str | None]]:
    path = resources.files("cleancorpus") / "resources" / "spun" / "forward_swaps.tsv"
    swaps = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                original, spun, left = line.rstrip("\n").split("\t")
                swaps[original] = (tuple(spun.split("|")), None if left == "-" else left)
    return swaps


def spin(text: str, rate: float = 0.6, seed: int = 0) -> str:
    """``text`` with each swappable word replaced, with probability ``rate``, by a spun form."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], not {rate}")
    rng = random.Random(seed)
    swaps = forward_swaps()
    out, pos, prev = [], 0, ""
    for tok in tokenize(text):
        word = tok.text.lower()
        entry = swaps.get(word)
        out.append(text[pos:tok.start])
        if entry and (entry[1] is None or entry[1] == prev) and rng.random() < rate:
            # "States" after "United" is spun in lower case: the spinner does not keep it capital
            out.append(cased(rng.choice(entry[0]), tok.text) if entry[1] is None else rng.choice(entry[0]))
        else:
            out.append(tok.text)
        pos, prev = tok.end, word
    out.append(text[pos:])
    return "".join(out)


def words(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def word_errors(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(ref: str, hyp: str) -> float:
    """Word error rate of ``hyp`` against ``ref`` (case-sensitive words, punctuation ignored)."""
    r = words(ref)
    return word_errors(r, words(hyp)) / max(1, len(r))
