"""Language, quality flags and PII in the version's summary, the report and `cleancorpus show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cleancorpus import api
from cleancorpus.cli import app
from cleancorpus.config import Config
from cleancorpus.document import Document, Edit, Withheld, revert
from cleancorpus.report import build_report
from cleancorpus.signals import Tally, describe

EN = ("The council met on 12 March 2024 to discuss the new library. About 1,200 residents signed the "
      "petition, and the mayor promised a decision before the summer recess.")
FR = ("Le conseil municipal s'est réuni le 12 mars 2024 pour discuter de la nouvelle bibliothèque. "
      "Environ 1 200 habitants ont signé la pétition.")
EN2 = ("The swimming pool will stay closed while the roof is repaired, and the works should last until the "
       "end of the autumn according to the city's technical department, which apologised to swimmers.")
FR2 = ("La piscine restera fermée pendant les travaux, qui devraient durer jusqu'à la fin de l'automne "
       "selon les services techniques de la ville.")
CONTACT = "For questions write to clerk@example.org or call +44 20 7946 0958."


def corpus(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(f"{EN}\n\n{CONTACT}\n", encoding="utf-8")
    (raw / "b.txt").write_text(f"{FR}\n", encoding="utf-8")
    (raw / "c.txt").write_text(f"{EN2}\n\n{FR2}\n", encoding="utf-8")
    return raw


def test_version_counts_languages_and_pii_and_revert_restores(tmp_path):
    result = api.clean(corpus(tmp_path), tmp_path / "clean")
    sig = result.version.manifest["signals"]
    assert sig["documents"] == 3
    assert sig["language"]["by_document"] == {"en": 2, "fr": 1}
    shares = sig["language"]["share_of_text"]
    assert set(shares) == {"en", "fr"} and abs(sum(shares.values()) - 1) < 1e-3
    assert sig["pii"] == {"documents": 1, "redactions": {"email": 1, "phone": 1}}
    docs = {d.source: d for d in result.version.documents(with_edits=True)}
    a = docs["a.txt"]
    assert "write to <EMAIL> or call <PHONE>." in a.text and "12 March 2024" in a.text and "1,200" in a.text
    assert a.metadata["pii"] == {"email": 1, "phone": 1}
    # the published edits withhold the originals; the private table gives them back
    assert all(e.before is None for e in a.edits if e.stage == "pii")
    with pytest.raises(Withheld):
        revert(a.text, a.edits)
    full = result.version.edits(private="_private/pii")[a.id]
    assert CONTACT in revert(a.text, full)
    assert set(docs["c.txt"].metadata["languages"]) == {"en", "fr"}


def test_keep_option_rejects_with_reason_language(tmp_path):
    cfg = Config(stage_options={"language": {"keep": ["en"]}})
    v = api.clean(corpus(tmp_path), tmp_path / "clean", cfg).version
    m = v.manifest
    rejected = [o for o in v.outcome_rows() if o["status"] == "rejected"]
    assert [(o["source"], o["reason"].split(" (")[0]) for o in rejected] == [("b.txt", "language: language")]
    assert m["stages"]["language"]["rejected"] == {"language": 1}


def test_report_and_show(tmp_path):
    out = tmp_path / "clean"
    api.clean(corpus(tmp_path), out)
    html = build_report(api.load(out))
    assert "Language, quality and personal data" in html
    assert '<td class="lang">en 5' in html or '<td class="lang">fr 5' in html  # the mixed document's shares
    assert "personal data redacted: <b>email 1, phone 1</b>" in html
    res = CliRunner().invoke(app, ["show", "latest", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "languages (kept documents by main language): en 2" in res.output
    assert "PII redacted: email 1, phone 1 (in 1 documents)" in res.output


def test_tally_reads_quality_flags_when_present():
    t = Tally()
    t.add(Document("1", "x", "s", {"quality": {"words": 3}, "quality_flags": ["gopher_min_words", "c4_lines"]}))
    t.add(Document("2", "y", "s", {"quality": {"words": 90}, "quality_flags": []}))
    t.add(Document("3", "z", "s", {}, (Edit("pii", 0, 1, "a@b.cd", "<EMAIL>", "pii: email (e-mail address)"),)))
    sig = t.to_dict()
    assert sig["quality"] == {"documents": 2, "flagged": 1, "flags": {"c4_lines": 1, "gopher_min_words": 1}}
    assert sig["pii"] == {"documents": 1, "redactions": {"email": 1}}
    lines = describe(sig, ["pii"])
    assert "quality flags: 1 of 2 kept documents flagged; c4_lines 1, gopher_min_words 1" in lines
    assert json.loads(json.dumps(sig)) == sig
