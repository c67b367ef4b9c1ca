"""Redact personal data: e-mail addresses, telephone numbers, IP addresses and payment cards.

Each match is replaced by a typed placeholder (``<EMAIL>``, ``<PHONE>``, ``<IP>``, ``<CARD>``)
and recorded as an Edit whose reason names the kind (``pii: phone (...)``), so the report
counts redactions per kind. ``metadata["pii"]`` counts the redactions per kind. A version does
not publish the originals: they go to a private table (store/private.py), from which
``cleancorpus revert --private`` gives them back to whoever may read it.

Detection is patterns plus checks, not a model: an address must parse (``ipaddress``), a card
number must pass the Luhn check and start with a network's issuer prefix for its length
(resources/pii/card_prefixes.tsv), and a digit run is a phone number only in a shape numbers in
running text do not take (a leading "+", an area code in brackets, a trunk "0" with grouped
digits, the North American 3-3-4) or after a word that says so ("Tel.", "Fax", "call";
resources/pii/phone_context.txt). Dates, times, years and year ranges, prices, counts with
thousands separators, version and section numbers and ISBNs are rejected explicitly.
Precision and recall per kind on the labelled set: tests/cases/pii/ and bench/README.md.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

from ..document import Document, Edit, Replacement, pointer, pointer_set
from .base import ConfigError, Stage, register

KINDS = ("email", "phone", "ip", "card")
PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "ip": "<IP>", "card": "<CARD>"}
# where two matches overlap, the more specific kind wins
_PRIORITY = {"email": 0, "ip": 1, "card": 2, "phone": 3}


@dataclasses.dataclass(frozen=True)
class PiiOptions:
    # the kinds to redact; () turns redaction off (the stage then only writes empty counts)
    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        if isinstance(self.kinds, (list, str)):
            object.__setattr__(self, "kinds", (self.kinds,) if isinstance(self.kinds, str) else tuple(self.kinds))
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown PII kind(s) {', '.join(map(repr, unknown))}; known: {', '.join(KINDS)}")
        if len(set(self.kinds)) != len(self.kinds):
            raise ValueError(f"PII kinds repeated: {self.kinds!r}")


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    kind: str
    why: str
    confidence: float


def edit_kind(edit: Edit) -> str | None:
    """The PII kind a ``pii`` edit redacted (None for any other edit)."""
    if edit.stage != "pii" or not edit.reason.startswith("pii: "):
        return None
    kind = edit.reason[5:].split(" ", 1)[0]
    return kind if kind in KINDS else None


@register
class PiiStage(Stage):
    name = "pii"
    Options = PiiOptions

    def __init__(self, options: PiiOptions | None = None) -> None:
        super().__init__(options)
        self._kinds = frozenset(self.options.kinds)
        load_card_prefixes(), phone_context(), not_ip_context()  # fail at setup on a bad resource

    def apply(self, doc: Document) -> Document:
        found = find_pii(doc.text, self._kinds)
        counts: dict[str, int] = {}
        for f in found:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        reps = [Replacement(f.start, f.end, PLACEHOLDERS[f.kind], f"pii: {f.kind} ({f.why})", f.confidence)
                for f in found]
        metadata, field_edits = self._redact_metadata(doc.metadata, counts)
        out = doc.revise(self.name, reps, {"pii": dict(sorted(counts.items()))})
        if not field_edits:
            return out
        return dataclasses.replace(out, metadata={**metadata, "pii": dict(sorted(counts.items()))},
                                   edits=out.edits + tuple(field_edits))

    def _redact_metadata(self, metadata: dict, counts: dict[str, int]) -> tuple[dict, list[Edit]]:
        """Every string value of the metadata (an HTML title, a JSONL field, nested ones too)
        redacted like the text: one Edit per match, naming the value by its JSON Pointer
        (``Edit.field``) so the report shows it, the version withholds its original and
        ``revert --metadata --private`` restores it."""
        edits: list[Edit] = []
        changed: list[tuple[str, str]] = []
        for parts, value in _candidate_strings(metadata, ()):
            path = pointer(parts)
            found = find_pii(value, self._kinds)
            if not found:
                continue
            new = []
            pos = 0
            for f in found:
                counts[f.kind] = counts.get(f.kind, 0) + 1
                edits.append(Edit(self.name, f.start, f.end, value[f.start:f.end], PLACEHOLDERS[f.kind],
                                  f"pii: {f.kind} ({f.why}) in metadata {path}", f.confidence, field=path))
                new += [value[pos:f.start], PLACEHOLDERS[f.kind]]
                pos = f.end
            changed.append((path, "".join(new) + value[pos:]))
        if not changed:
            return metadata, []
        out = copy.deepcopy(metadata)
        for path, value in changed:
            pointer_set(out, path, value)
        return out, edits


_SCALARS = (int, float, bool, type(None))


def _candidate_strings(obj: dict | list | tuple, parts: tuple) -> Iterator[tuple[tuple, str]]:
    """(path parts, value) of every string inside the metadata (an HTML title, a JSONL field,
    nested ones too), depth first in the containers' order, that holds a character PII needs
    (``_ANY``: a digit, "@", "::", "[at]"); the others cannot hold a match (find_pii returns
    nothing for them). Numbers are passed over by type: the quality signals are 30 of them."""
    for k, v in (obj.items() if isinstance(obj, dict) else enumerate(obj)):
        if type(v) in _SCALARS:
            continue
        if isinstance(v, str):
            if _ANY.search(v):
                yield (*parts, k), v
        elif isinstance(v, (dict, list, tuple)):
            yield from _candidate_strings(v, (*parts, k))


def holds_personal_data(edit: Edit, kinds: frozenset[str] | set[str] | tuple[str, ...] = KINDS) -> bool:
    """Whether a version must withhold this edit's original (``before``): a redaction's always,
    and any other stage's when it holds what this stage redacts (a boilerplate footer cut
    before the pii stage ran may carry a contact address). store/private.py keeps them apart."""
    if edit.before is None:
        return False  # already withheld
    if edit.stage == "pii":
        return True
    return bool(kinds) and bool(find_pii(edit.before, kinds))


def find_pii(text: str, kinds: frozenset[str] | set[str] | tuple[str, ...] = KINDS) -> list[Found]:
    """Every PII match of the given kinds, sorted and non-overlapping."""
    if not _ANY.search(text):
        return []
    # each pattern scans the whole text; most texts have too few digits for most of them (a
    # phone number has at least 7, a card number 12, an IPv4 address 4), so count them first
    # (one fast scan) and run only the finders that can match
    digits = len(_DIGIT.findall(text))
    candidates: list[Found] = []
    for k in KINDS:
        if k not in kinds:
            continue
        if k == "email":
            candidates += _emails(text)
        elif k == "ip":
            candidates += _ips(text, ipv4=digits >= 4)
        elif digits >= _MIN_DIGITS[k]:
            candidates += _cards(text) if k == "card" else _phones(text)
    candidates.sort(key=lambda f: (f.start, _PRIORITY[f.kind], -(f.end - f.start)))
    chosen: list[Found] = []
    for f in candidates:
        if chosen and f.start < chosen[-1].end:
            prev = chosen[-1]
            # a more specific kind that starts at the same place, or a longer match, replaces it
            if _PRIORITY[f.kind] < _PRIORITY[prev.kind] and f.start == prev.start:
                chosen[-1] = f
            continue
        chosen.append(f)
    return chosen


_ANY = re.compile(r"[\d@]|::|[\[(]at[\])]", re.I)
_DIGIT = re.compile(r"\d")  # a digit as the patterns read one (\d: Unicode decimal digits)
# the fewest digits a match holds: _PHONE's 7 to 15 (checked in _phones), _CARD's \d(?:[ -]?\d){11,18}
_MIN_DIGITS = {"phone": 7, "card": 12}

# -- e-mail
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w%+-](?:[\w.%+-]{0,62}[\w%+-])?"   # local part, no leading or trailing dot
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}"  # domain labels and a letters-only TLD
    r"(?![\w-]|\.[^\W_])"
)


# "jane [at] example [dot] org": the usual way of hiding an address from harvesters
_EMAIL_HIDDEN = re.compile(
    r"(?<![\w.%+-])[\w%+-](?:[\w.%+-]{0,62}[\w%+-])?[ \u00a0]*[\[(]at[\])][ \u00a0]*"
    r"[^\W_][\w-]{0,62}(?:(?:[ \u00a0]*[\[(]dot[\])][ \u00a0]*|\.)[^\W_][\w-]{0,62})+(?![\w-])", re.I)
# "logo@2x.png": retina image names are address-shaped
_FILE_EXTENSIONS = frozenset("png jpg jpeg gif svg webp avif bmp ico tif tiff css js mjs json pdf".split())


def _emails(text: str) -> Iterator[Found]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            s = m.group()
            if ".." in s or s.rsplit(".", 1)[-1].lower() in _FILE_EXTENSIONS:
                continue
            yield Found(m.start(), m.end(), "email", "e-mail address", 0.99)
    if "at]" in text or "at)" in text or "AT]" in text:
        for m in _EMAIL_HIDDEN.finditer(text):
            yield Found(m.start(), m.end(), "email", "e-mail address written with [at]", 0.9)


# -- IP addresses
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?:%[\w.]+)?(?![\w:])"
)
_LAST_WORD = re.compile(r"(\S+)\s*$")


def _ips(text: str, ipv4: bool = True) -> Iterator[Found]:
    """IPv4 and IPv6 addresses; ``ipv4=False``: the text has too few digits for an IPv4 one."""
    if ipv4 and "." in text:
        for m in _IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue  # an octet over 255 or with a leading zero: a number, not an address
            last = _LAST_WORD.search(text, max(0, m.start() - 24), m.start())
            if last and last.group(1).lower() in not_ip_context():
                continue  # "version 1.2.3.4", "section 2.1.4.3"
            yield Found(m.start(), m.end(), "ip", "IPv4 address", 0.95)
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            s = m.group()
            try:
                ipaddress.IPv6Address(s)
            except ValueError:
                continue  # times (12:30:45), MAC addresses, ratios
            groups = [g for g in re.split(r"[:%]", s.split("%")[0]) if g]
            # "a::b", "::1" in code or prose: an address written by a person has more to it
            if len(groups) < 3 and not any(len(g) >= 3 for g in groups):
                continue
            yield Found(m.start(), m.end(), "ip", "IPv6 address", 0.95)


# -- payment cards
_CARD = re.compile(r"(?<![\w.,/-])\d(?:[ -]?\d){11,18}(?![\w]|[.,/-]\d)")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_network(digits: str) -> str | None:
    """The network whose issuer prefix and card lengths match, if any."""
    for first, last, lengths, network in load_card_prefixes():
        head = digits[: len(first)]
        if len(digits) in lengths and first <= head <= last:
            return network
    return None


def _cards(text: str) -> Iterator[Found]:
    for m in _CARD.finditer(text):
        s = m.group()
        seps = set(re.findall(r"[ -]", s))
        if len(seps) > 1:
            continue
        groups = re.split(r"[ -]", s)
        if len(groups) > 1 and not _card_grouping([len(g) for g in groups]):
            continue
        digits = "".join(groups)
        network = card_network(digits)
        if network and luhn_ok(digits):
            yield Found(m.start(), m.end(), "card", f"{network} number, Luhn check passed", 0.99)


def _card_grouping(sizes: list[int]) -> bool:
    """How card numbers are printed: fours (the last group shorter), or Amex/Diners' 4-6-5/4-6-4."""
    if sizes in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(n == 4 for n in sizes[:-1]) and 1 <= sizes[-1] <= 4


# -- telephone numbers
_SEP = r"(?:[ \u00a0]?[-./\u2010\u2011][ \u00a0]?|[ \u00a0])"
_PHONE = re.compile(
    r"(?<![\w+.,/@#$\u20ac\u00a3\u00a5%&=-])"
    r"(?:\+[ \u00a0]?)?"
    r"(?:\(\+?\d{1,5}\)[ \u00a0]?\d{1,14}|\d{1,14})"
    rf"(?:{_SEP}\d{{1,14}}|[ \u00a0]?\(\d{{1,5}}\)[ \u00a0]?\d{{1,14}})*"
    r"(?![\w@]|[.,/:-]?\d)"
)
_DATE = re.compile(r"\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}")
_GROUPS = re.compile(r"\d+")


def _phones(text: str) -> Iterator[Found]:
    for m in _PHONE.finditer(text):
        s = m.group()
        digits = "".join(_GROUPS.findall(s))
        if not 7 <= len(digits) <= 15:
            continue
        verdict = _phone_shape(s, digits)
        if verdict is None:
            continue
        why, strong = verdict
        context = _phone_context(text, m.start())
        if not strong and not context:
            continue
        if context and not strong:
            why = f"{why} after {context!r}"
        yield Found(m.start(), m.end(), "phone", why, 0.95 if strong else 0.8)


def _phone_shape(s: str, digits: str) -> tuple[str, bool] | None:
    """(why, strong) for a number that may be a phone number, None for one that is not.

    Strong shapes are phone numbers on their own; weak ones only after a phone word."""
    groups = _GROUPS.findall(s)
    sizes = [len(g) for g in groups]
    if _DATE.fullmatch(s):
        return None  # 2024-03-12, 12.03.2024, 12/03/24
    if len(groups) > 1 and all(n == 4 and g[0] in "12" for n, g in zip(sizes, groups)):
        return None  # years and year ranges: 1990-2000, 2019 2020 2021
    if len(groups) > 1 and sizes[-1] == 1:
        return None  # ISBN (check digit last), section numbers, list numbering
    if s.startswith("+"):
        return ("international number (+ country code)", len(digits) >= 8)
    if "(" in s:
        return ("number with an area code in brackets", len(digits) >= 8)
    if len(groups) > 1 and digits.startswith("00") and digits[2] != "0" and len(digits) >= 10:
        return ("international number (00 prefix)", True)
    nanp = sizes == [3, 3, 4] or (sizes == [1, 3, 3, 4] and groups[0] == "1")
    if nanp and groups[-3][0] in "23456789":
        return ("North American number", True)
    if (len(groups) > 1 and groups[0].startswith("0") and not groups[0].startswith("00")
            and sizes[0] >= 2 and min(sizes) >= 2 and 9 <= len(digits) <= 12
            and not all(n == 3 for n in sizes[1:])):
        return ("national number with trunk prefix 0", True)
    if len(groups) > 1 and 1 <= sizes[0] <= 3 and all(n == 3 for n in sizes[1:]) and ("." in s or "," in s):
        return None  # 1.234.567: a count with thousands separators
    return ("number", False)


def _phone_context(text: str, start: int) -> str | None:
    window = text[max(0, start - 24):start]
    window = window[window.rfind("\n") + 1:]
    m = None
    for m in _phone_words().finditer(window):
        pass
    return m.group().strip().lower() if m else None


@lru_cache(maxsize=1)
def _phone_words() -> re.Pattern[str]:
    words = sorted(phone_context(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.I)


# -- resources
def _lines(name: str) -> list[str]:
    path = resources.files("cleancorpus") / "resources" / "pii" / name
    try:
        with path.open(encoding="utf-8") as fh:
            return [ln.rstrip("\n") for ln in fh if ln.strip() and not ln.startswith("#")]
    except OSError as exc:
        raise ConfigError(f"cannot read resources/pii/{name}: {exc}") from exc


@lru_cache(maxsize=1)
def load_card_prefixes() -> tuple[tuple[str, str, frozenset[int], str], ...]:
    rows = []
    for no, line in enumerate(_lines("card_prefixes.tsv"), 1):
        cols = line.split("\t")
        try:
            first, last, lengths, network = cols
            sizes = frozenset(int(x) for x in lengths.split(","))
        except ValueError as exc:
            raise ConfigError(f"resources/pii/card_prefixes.tsv row {no}: expected first, last, lengths, network") from exc
        if not (first.isdigit() and last.isdigit() and len(first) == len(last) and first <= last):
            raise ConfigError(f"resources/pii/card_prefixes.tsv row {no}: bad prefix range {first}-{last}")
        rows.append((first, last, sizes, network))
    return tuple(rows)


@lru_cache(maxsize=1)
def phone_context() -> frozenset[str]:
    return frozenset(ln.strip().lower() for ln in _lines("phone_context.txt"))


@lru_cache(maxsize=1)
def not_ip_context() -> frozenset[str]:
    return frozenset(ln.strip().lower() for ln in _lines("not_ip_context.txt"))
