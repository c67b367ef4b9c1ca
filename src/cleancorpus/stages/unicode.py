"""Unicode repair with ftfy: mojibake, control characters, width, ligatures, unpaired
surrogates; and the invisible characters that break downstream use of text.

Each contiguous changed span becomes one Edit whose reason names the ftfy steps that changed
the text (ftfy's own explanation), so the change can be audited and reverted. Invisible
characters (soft hyphens, zero-width characters where the script does not need them, the
bidirectional embeddings and overrides, a byte-order mark inside the text; the list, policies and
reasons are data in ``resources/unicode/invisible.tsv``) are removed first, each run as an Edit
whose reason starts with ``invisible:``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import unicodedata
from pathlib import Path

import ftfy

from ..document import Document, Replacement
from .base import Stage, register


@dataclasses.dataclass(frozen=True)
class UnicodeOptions:
    # Curly quotes and dashes are correct text in most corpora; keep them as they are.
    uncurl_quotes: bool = False
    fix_latin_ligatures: bool = True
    fix_character_width: bool = True
    remove_control_chars: bool = True
    fix_line_breaks: bool = True
    normalization: str | None = "NFC"
    # remove invisible characters where they are not needed (resources/unicode/invisible.tsv)
    normalize_invisible: bool = True

    def __post_init__(self) -> None:
        if self.normalization not in (None, "NFC", "NFKC", "NFD", "NFKD"):
            raise ValueError(f"normalization must be NFC, NFKC, NFD, NFKD or None, not {self.normalization!r}")


def changed_spans(before: str, after: str) -> list[tuple[int, int, str]]:
    """The minimal (start, end, replacement) spans that turn ``before`` into ``after``."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        (i1, i2, after[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


@register
class UnicodeStage(Stage):
    name = "unicode"
    Options = UnicodeOptions

    def __init__(self, options: UnicodeOptions | None = None) -> None:
        super().__init__(options)
        o = self.options
        self._config = ftfy.TextFixerConfig(
            uncurl_quotes=o.uncurl_quotes,
            fix_latin_ligatures=o.fix_latin_ligatures,
            fix_character_width=o.fix_character_width,
            remove_control_chars=o.remove_control_chars,
            fix_line_breaks=o.fix_line_breaks,
            normalization=o.normalization,
            explain=True,
        )

    def apply(self, doc: Document) -> Document:
        text = doc.text
        if not _may_need_fixing(text):
            return doc  # plain ASCII text: nothing ftfy would change, skip the expensive path
        reps: list[Replacement] = []
        offset = 0
        # ftfy works line by line anyway; per line keeps each edit's explanation precise
        for line in _LINES.findall(text):
            if _may_need_fixing(line):
                reps.extend(Replacement(offset + s, offset + e, after, reason)
                            for s, e, after, reason in self._fix_line(line))
            offset += len(line)
        return doc.revise(self.name, reps)

    def _fix_line(self, line: str) -> list[tuple[int, int, str, str]]:
        """(start, end, after, reason) changes of one line: invisible characters removed, then
        ftfy on what is left, both in the line's own coordinates and never overlapping."""
        removed = invisible_removals(line) if self.options.normalize_invisible else []
        if removed:
            gone = {i for s, e, _ in removed for i in range(s, e)}
            kept_at = [i for i in range(len(line)) if i not in gone]  # cleaned index -> line index
            cleaned = "".join(line[i] for i in kept_at)
        else:
            kept_at, cleaned = [], line
        fixed, steps = ftfy.fix_and_explain(cleaned, config=self._config)
        changes: list[tuple[int, int, str, str]] = [(s, e, "", why) for s, e, why in removed]
        if fixed != cleaned:
            reason = "ftfy: " + ", ".join(dict.fromkeys(step.parameter for step in steps or ()))
            late = invisible_removals(fixed) if self.options.normalize_invisible else []
            if late:  # ftfy itself produced one (a mojibake of a zero-width space, say)
                fixed = "".join(fixed[i] for i in range(len(fixed))
                                if not any(s <= i < e for s, e, _ in late))
                reason += "; " + "; ".join(dict.fromkeys(why for _, _, why in late))
            for s, e, after in changed_spans(cleaned, fixed):
                if removed:  # back to the line's coordinates
                    s, e = _to_line(kept_at, s, len(line)), (kept_at[e - 1] + 1 if e > s else _to_line(kept_at, s, len(line)))
                changes.append((s, e, after, reason))
        return _merge_overlaps(line, changes)


# lines end at "\n" only: str.splitlines also breaks at \x1c-\x1e and \x85, which would cut
# a mojibake sequence in two and leave half of it for a second run to fix
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def _may_need_fixing(text: str) -> bool:
    return not text.isascii() or "\r" in text or _has_ascii_controls(text)


def _has_ascii_controls(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\n\t" for c in text) or "\x7f" in text


INVISIBLE_FILE = Path(__file__).resolve().parent.parent / "resources" / "unicode" / "invisible.tsv"


@functools.lru_cache(maxsize=1)
def invisible_table() -> dict[str, tuple[str, str, str]]:
    """character -> (name, policy, reason), from resources/unicode/invisible.tsv."""
    table: dict[str, tuple[str, str, str]] = {}
    for raw in INVISIBLE_FILE.read_text("utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        code, name, policy, reason = raw.split("\t")
        if policy not in ("remove", "joiner", "spaceless"):
            raise ValueError(f"{INVISIBLE_FILE}: unknown policy {policy!r} for U+{code}")
        table[chr(int(code, 16))] = (name, policy, reason)
    return table


@functools.lru_cache(maxsize=1)
def _invisible_pattern() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in invisible_table()) + "]+")


# scripts written without spaces between words, where U+200B marks word boundaries
_SPACELESS = ((0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF),
              (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


def _is_spaceless(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _SPACELESS)


def _joins(ch: str) -> bool:
    """A letter or mark beyond Latin (where joiners shape words), or an emoji-like symbol."""
    if not ch:
        return False
    cat = unicodedata.category(ch)
    if cat == "So" or ch == "\ufe0f" or 0x1F3FB <= ord(ch) <= 0x1F3FF:
        return True
    return ord(ch) > 0x024F and cat[0] in "LM"


def _needed(ch: str, before: str, after: str) -> bool:
    policy = invisible_table()[ch][1]
    if policy == "joiner":
        return _joins(before) and _joins(after)
    if policy == "spaceless":
        return bool(before) and bool(after) and _is_spaceless(before) and _is_spaceless(after)
    return False


def invisible_removals(line: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) runs of invisible characters this line does not need."""
    out: list[tuple[int, int, str]] = []
    table = invisible_table()
    for m in _invisible_pattern().finditer(line):
        before = line[m.start() - 1] if m.start() else ""
        after = line[m.end()] if m.end() < len(line) else ""
        run = [i for i in range(m.start(), m.end()) if not _needed(line[i], before, after)]
        for i in run:
            name, _, reason = table[line[i]]
            why = f"invisible: {reason} (U+{ord(line[i]):04X} {name})"
            if out and out[-1][1] == i and out[-1][2] == why:
                out[-1] = (out[-1][0], i + 1, why)
            else:
                out.append((i, i + 1, why))
    return out


def _to_line(kept_at: list[int], k: int, length: int) -> int:
    return kept_at[k] if k < len(kept_at) else length


def _merge_overlaps(line: str, changes: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """One change per region: an invisible removal inside (or touching the inside of) a ftfy
    change becomes part of it, its reason added."""
    changes.sort(key=lambda c: (c[0], c[1]))
    merged: list[tuple[int, int, str, str]] = []
    for s, e, after, why in changes:
        if merged and s < merged[-1][1]:
            ps, pe, pafter, pwhy = merged[-1]
            # the earlier one is a removal (after == "") or a ftfy change; ftfy's text wins
            new_after = pafter if pafter or not after else after
            merged[-1] = (ps, max(pe, e), new_after, pwhy if why in pwhy else f"{pwhy}; {why}")
        else:
            merged.append((s, e, after, why))
    return merged
