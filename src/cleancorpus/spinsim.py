"""Synthetic spun text in the style of the spinner behind raw/000, for evaluation only.

Applies forward swaps to clean text at a given rate, keeping case, punctuation and spacing, so
that repair can be measured on text that is not in this repository (word error rate before and
after, against the clean original). Three swap sets (``SWAP_SETS``):

* ``issue``: the swaps issue 4 lists for this spinner (resources/spun/forward_swaps.tsv);
* ``lexicon``: every single-word entry of the reverse lexicon (word_spinner.tsv), run forwards;
* ``heldout``: synonym swaps the lexicon does not hold (resources/spun/heldout_swaps.tsv), to
  measure honestly what the repair does with swaps it has never seen;
* ``mixed``: the issue's swaps and the held-out ones together (a spinner whose known swaps give it
  away, with unseen ones among them: what the WordNet proposer works on).

``spin_wordnet`` imitates a heavier spinner family: any content word may be replaced by a WordNet
synonym in its inflection (the same candidates synonyms.py proposes, so this measures detection
and the language model's choice, not the candidate generator's coverage).
"""

from __future__ import annotations

import random
from functools import lru_cache
from importlib import resources

from .stages.spun import cased, load_lexicon, tokenize

SWAP_SETS = ("issue", "lexicon", "heldout", "mixed")
Swaps = dict[str, tuple[tuple[str, ...], str | None]]


def forward_swaps(which: str = "issue") -> Swaps:
    """original word -> (spun alternatives, required previous word or None)."""
    if which not in SWAP_SETS:
        raise ValueError(f"swap set must be one of {SWAP_SETS}, not {which!r}")
    if which == "mixed":
        return {**_swap_file("forward_swaps"), **_swap_file("heldout_swaps")}
    return _lexicon_swaps() if which == "lexicon" else _swap_file(f"{which}_swaps" if which == "heldout" else "forward_swaps")


@lru_cache(maxsize=None)
def _swap_file(name: str) -> Swaps:
    path = resources.files("cleancorpus") / "resources" / "spun" / f"{name}.tsv"
    swaps = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                original, spun, left = line.rstrip("\n").split("\t")
                swaps[original] = (tuple(spun.split("|")), None if left == "-" else left)
    return swaps


@lru_cache(maxsize=1)
def _lexicon_swaps() -> Swaps:
    grouped: dict[tuple[str, str | None], list[str]] = {}
    for e in load_lexicon("word_spinner"):
        if " " not in e.original:
            grouped.setdefault((e.original.lower(), e.left), []).append(" ".join(e.spun))
    return {orig: (tuple(spun), left) for (orig, left), spun in grouped.items()}


def spin(text: str, rate: float = 0.6, seed: int = 0, swaps: str = "issue") -> str:
    """``text`` with each swappable word replaced, with probability ``rate``, by a spun form."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], not {rate}")
    rng = random.Random(seed)
    table = forward_swaps(swaps)
    out, pos, prev = [], 0, ""
    for tok in tokenize(text):
        word = tok.text.lower()
        entry = table.get(word)
        out.append(text[pos:tok.start])
        if entry and (entry[1] is None or entry[1] == prev) and rng.random() < rate:
            # "States" after "United" is spun in lower case: the spinner does not keep it capital
            out.append(cased(rng.choice(entry[0]), tok.text) if entry[1] is None else rng.choice(entry[0]))
        else:
            out.append(tok.text)
        pos, prev = tok.end, word
    out.append(text[pos:])
    return "".join(out)


def spin_wordnet(text: str, rate: float = 0.3, seed: int = 0) -> str:
    """``text`` with each content word that has WordNet synonyms replaced, with probability
    ``rate``, by one of its one-word synonyms (case kept; capitalised words after a sentence's
    first are names and stay)."""
    from .synonyms import word_candidates

    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], not {rate}")
    rng = random.Random(seed)
    out, pos = [], 0
    for tok in tokenize(text):
        out.append(text[pos:tok.start])
        cands = [c.words[0] for c in word_candidates(tok.text.lower())
                 if len(c.words) == 1 and c.source.startswith("wordnet:")]
        if cands and (tok.text.islower() or not pos) and rng.random() < rate:
            out.append(cased(rng.choice(cands), tok.text))
        else:
            out.append(tok.text)
        pos = tok.end
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
