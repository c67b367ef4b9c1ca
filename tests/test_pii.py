"""The pii stage: typed placeholders, an Edit per redaction, revert, and the labelled set's floors."""

from __future__ import annotations

import json
from pathlib import Path

import sys

import pytest
from hypothesis import given, settings, strategies as st

from cleancorpus.config import Config
from cleancorpus.document import Document, replay, revert
from cleancorpus.stages.base import ConfigError
from cleancorpus.stages.pii import KINDS, PiiStage, edit_kind, find_pii, luhn_ok

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "cases" / "pii" / "labelled.jsonl"
sys.path.insert(0, str(ROOT / "bench"))
from pii import score  # noqa: E402  (bench/pii.py: one scorer for the test floors and the bench table)
CASES = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
RAW = sorted((ROOT / "raw").glob("*.txt"))

# measured on the labelled set (bench/pii.py); the two misses the set marks on purpose, and one
# Mexican national number with no trunk prefix and no phone word, are what keeps recall under 1
FLOORS = {"email": (1.0, 0.94), "phone": (1.0, 0.95), "ip": (1.0, 1.0), "card": (1.0, 1.0)}


def doc(text: str) -> Document:
    return Document("t", text, "case")


def test_precision_and_recall_floors_per_kind():
    table, _ = score(LABELLED)  # the scorer bench/pii.py reports with
    for kind, (p_floor, r_floor) in FLOORS.items():
        assert table[kind]["tp"] > 0, kind
        assert table[kind]["precision"] >= p_floor, kind
        assert table[kind]["recall"] >= r_floor, kind
    assert sum(1 for c in CASES if not c["pii"]) >= 40  # hard negatives: must-not-change cases


@pytest.mark.parametrize("case", [c for c in CASES if not c["pii"]], ids=lambda c: c["note"])
def test_hard_negatives_stay(case):
    out = PiiStage().apply(doc(case["text"]))
    assert out.text == case["text"] and out.edits == () and out.metadata["pii"] == {}


def test_placeholders_edits_metadata_and_revert():
    text = ("Mail jane.roe@example.com or call +44 20 7946 0958; server 192.0.2.44 "
            "and 2001:db8::1; card 4111 1111 1111 1111. Founded 1998, 1,200 staff, v2.3.1.")
    out = PiiStage().apply(doc(text))
    assert out.text == ("Mail <EMAIL> or call <PHONE>; server <IP> and <IP>; card <CARD>. "
                        "Founded 1998, 1,200 staff, v2.3.1.")
    assert out.metadata["pii"] == {"card": 1, "email": 1, "ip": 2, "phone": 1}
    assert [edit_kind(e) for e in out.edits] == ["email", "phone", "ip", "ip", "card"]
    assert all(e.stage == "pii" and e.reason.startswith("pii: ") and 0 < e.confidence <= 1 for e in out.edits)
    assert revert(out.text, out.edits) == text
    assert replay(text, out.edits) == out.text


def test_kinds_option_and_off():
    text = "Mail jane.roe@example.com or call +44 20 7946 0958."
    only_mail = PiiStage(PiiStage.Options(kinds=("email",))).apply(doc(text))
    assert only_mail.text == "Mail <EMAIL> or call +44 20 7946 0958."
    off = PiiStage(PiiStage.Options(kinds=())).apply(doc(text))
    assert off.text == text and off.edits == () and off.metadata["pii"] == {}
    assert Config(stage_options={"pii": {"kinds": ["phone", "card"]}}).to_dict()["stage_options"]["pii"]["kinds"] == ("phone", "card")


@pytest.mark.parametrize("bad", [{"kinds": ["ssn"]}, {"kinds": ["email", "email"]}, {"placeholder": "X"}])
def test_bad_options_fail_at_construction(bad):
    with pytest.raises(ConfigError):
        Config(stage_options={"pii": bad})


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112") and not luhn_ok("1234567890123456")


@pytest.mark.parametrize("path", RAW, ids=lambda p: p.name[:3])
def test_seeds_hold_no_pii(path):
    # the seeds are news and history pages: their years, dates, counts and prices all stay
    text = path.read_text(encoding="utf-8")
    assert find_pii(text) == []


def test_other_edits_unaffected_and_second_run_changes_nothing():
    text = "Contact: press@example.org, tel. 030/12345678.\nPrices from 1.234,50 EUR (2024-03-12)."
    once = PiiStage().apply(doc(text))
    twice = PiiStage().apply(once)
    assert twice.edits == once.edits and twice.text == once.text


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 .-:/+()@abcxyz[]\n"), max_size=80))
def test_any_text_redacts_consistently(text):
    out = PiiStage().apply(doc(text))
    assert revert(out.text, out.edits) == text
    assert sum(out.metadata["pii"].values()) == len(out.edits)
    assert all(e.after in ("<EMAIL>", "<PHONE>", "<IP>", "<CARD>") and edit_kind(e) in KINDS for e in out.edits)


def _every_finder(text: str, kinds=KINDS) -> list:
    """find_pii without its digit count: every chosen kind's finder on every text, then the
    same choice among overlapping matches (the reference the count must not change)."""
    from cleancorpus.stages import pii

    finders = {"email": pii._emails, "phone": pii._phones, "ip": pii._ips, "card": pii._cards}
    found = sorted((f for k in KINDS if k in kinds for f in finders[k](text)),
                   key=lambda f: (f.start, pii._PRIORITY[f.kind], -(f.end - f.start)))
    chosen: list = []
    for f in found:
        if chosen and f.start < chosen[-1].end:
            if pii._PRIORITY[f.kind] < pii._PRIORITY[chosen[-1].kind] and f.start == chosen[-1].start:
                chosen[-1] = f
            continue
        chosen.append(f)
    return chosen


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 .-/+()@:[]at\u00a0\u0663x\n"), max_size=40),
       st.sampled_from([KINDS, ("phone",), ("ip", "card"), ("email", "ip")]))
def test_digit_count_skips_only_finders_that_cannot_match(text, kinds):
    # find_pii runs a finder only when the text has the digits its matches need (7 for a
    # phone number, 12 for a card, 4 for an IPv4 address): the same matches as running all
    assert find_pii(text, kinds) == _every_finder(text, kinds)


def test_digit_count_on_the_labelled_set():
    for case in CASES:
        assert find_pii(case["text"]) == _every_finder(case["text"]), case["text"]
