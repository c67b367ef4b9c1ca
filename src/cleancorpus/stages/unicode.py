"""Unicode repair with ftfy: mojibake, control characters, width, ligatures.

Each contiguous changed span becomes one Edit whose reason names the ftfy steps that changed
the text (ftfy's own explanation), so the change can be audited and reverted.
"""

from __future__ import annotations

import dataclasses
import difflib
import re

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
                fixed, steps = ftfy.fix_and_explain(line, config=self._config)
                if fixed != line:
                    reason = "ftfy: " + ", ".join(dict.fromkeys(step.parameter for step in steps or ()))
                    reps.extend(
                        Replacement(offset + s, offset + e, after, reason)
                        for s, e, after in changed_spans(line, fixed)
                    )
            offset += len(line)
        return doc.revise(self.name, reps)


# lines end at "\n" only: str.splitlines also breaks at \x1c-\x1e and \x85, which would cut
# a mojibake sequence in two and leave half of it for a second run to fix
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def _may_need_fixing(text: str) -> bool:
    return not text.isascii() or "\r" in text or _has_ascii_controls(text)


def _has_ascii_controls(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\n\t" for c in text) or "\x7f" in text
