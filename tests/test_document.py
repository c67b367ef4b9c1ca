import pytest

from cleancorpus.document import Document, Replacement, apply_edits, replay, revert, stable_id


def test_stable_id_depends_on_source_and_content():
    assert stable_id("a.txt", b"x") == stable_id("a.txt", b"x")
    assert stable_id("a.txt", b"x") != stable_id("b.txt", b"x")
    assert stable_id("a.txt", b"x") != stable_id("a.txt", b"y")
    assert len(stable_id("a.txt", b"x")) == 16


def test_revise_records_only_real_changes():
    doc = Document("d", "abc def ghi", "s")
    same = doc.revise("t", [Replacement(0, 3, "abc", "no-op")])
    assert same is doc
    new = doc.revise("t", [Replacement(4, 7, "DEF", "upper"), Replacement(0, 3, "abc", "no-op")])
    assert new.text == "abc DEF ghi"
    assert [(e.before, e.after) for e in new.edits] == [("def", "DEF")]
    assert doc.text == "abc def ghi"  # the original is untouched


def test_overlapping_replacements_are_refused():
    doc = Document("d", "abcdef", "s")
    with pytest.raises(ValueError, match="overlapping"):
        doc.revise("t", [Replacement(0, 3, "x", "r"), Replacement(2, 4, "y", "r")])


def test_replay_and_revert_round_trip_across_stages():
    original = "one two three four"
    d = Document("d", original, "s")
    d = d.revise("a", [Replacement(0, 3, "1", "digit"), Replacement(8, 13, "", "drop")])
    d = d.revise("b", [Replacement(0, 1, "ONE", "word"), Replacement(len(d.text) - 4, len(d.text), "4!", "x")])
    assert replay(original, d.edits) == d.text
    assert revert(d.text, d.edits) == original


def test_apply_edits_checks_the_text_matches():
    d = Document("d", "hello", "s").revise("t", [Replacement(0, 5, "bye", "r")])
    with pytest.raises(ValueError):
        apply_edits("HELLO", d.edits)


def test_record_round_trip():
    d = Document("d", "héllo", "s", {"k": [1, 2]}).revise("t", [Replacement(0, 1, "H", "cap", 0.5)])
    assert Document.from_record(d.to_record()) == d
