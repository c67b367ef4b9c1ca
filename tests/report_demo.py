"""A version of the seed corpus carrying edits of every kind the report must draw.

The boilerplate, spun and spelling edits are made with ``Document.revise`` on the seeds as
ingested (the way those stages record theirs), so the report is tested on the real data model
even before every stage exists; the rest (ids, ingest, rejects, store files) is the real thing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from cleancorpus.config import Limits
from cleancorpus.document import Document, Outcome, Replacement, Status
from cleancorpus.ingest import RejectedInput, iter_documents, list_inputs
from cleancorpus.report import write_report
from cleancorpus.store import Store, Version
from cleancorpus.store.write import write_version

HOSTILE = "Before </body></html><script>document.body.dataset.pwned = 'yes'</script> after & <b>bold</b>\n"

SPUN = [  # (tortured wording, plain wording, confidence)
    (r"\btop top\b", "on", 0.93),
    (r"\bindigenous\b", "from", 0.88),
    (r"\band also\b", "and", 0.71),
    (r"\broadways\b", "streets", 0.8),
    (r"\bpolitics system\b", "political system", 0.77),
    (r"\bUnited claims\b", "United States", 0.9),
    (r"\bchairman\b", "President", 0.45),
]


def _replace_all(doc: Document, stage: str, rules, reason: str) -> Document:
    reps = [
        Replacement(m.start(), m.end(), after, f"{reason}: {m.group(0)!r}", conf)
        for pattern, after, conf in rules
        for m in re.finditer(pattern, doc.text)
    ]
    return doc.revise(stage, reps)


def _remove_lines(doc: Document, keep: "re.Pattern[str]", reason: str, metadata: dict) -> Document:
    reps, pos = [], 0
    for line in doc.text.splitlines(keepends=True):
        if not keep.search(line):
            reps.append(Replacement(pos, pos + len(line), "", reason))
        pos += len(line)
    return doc.revise("boilerplate", reps, metadata)


def edited(doc: Document) -> Document:
    name = doc.source[:3]
    if name == "000":
        doc = _replace_all(doc, "spun", SPUN, "tortured phrase")
        # a later stage editing across an earlier repair: the report must merge them
        doc = _replace_all(doc, "spelling", [(r"much more democratic political", "more democratic political", 0.6),
                                             (r"\bwindy\b", "public", None)], "misspelling")
    elif name == "001":
        nav = re.compile(r"^(?!top of page|bottom of page|Title:|About:|[A-Z][a-z]+: \S)")
        doc = _remove_lines(doc, nav, "site navigation / listing fields", {
            "title": "1956 - Hungarian Revolution", "Decade": "1950s", "Year": "1956", "Price": "0.7 ETH"})
    elif name == "004":
        body = re.compile(r"^(?!.*(U\.S\. Department of State|Home Issues|Back to top|\|)|Published by|The Office of)")
        doc = _remove_lines(doc, body, "navigation line repeated across state.gov pages",
                            {"title": "Hungary, 1956", "publisher": "U.S. Department of State"})
        doc = _replace_all(doc, "spelling", [(r"\bHugary\b", "Hungary", 0.97)], "misspelling")
    return doc


def build_demo_version(root: Path, raw: Path) -> Version:
    """Seeds + a near-duplicate + a document full of markup + a rejected input, written as a
    version of a store at ``root``, its report written (``report_path(version)``)."""
    (raw / "005_copy_of_002.txt").write_text((raw / "002_0bc2088ad81ff738.txt").read_text() + "\nShare this page.\n")
    (raw / "006_markup.txt").write_text(HOSTILE)
    (raw / "007_empty.txt").write_text("")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    items = []
    stages = {"ingest": _stage(), "boilerplate": _stage(), "spun": _stage(), "spelling": _stage()}
    docs = {}
    for item in iter_documents(list_inputs(raw), Limits(max_doc_bytes=10_000_000)):
        if isinstance(item, RejectedInput):
            items.append((item.outcome(), None))
            continue
        doc = edited(item)
        docs[doc.source] = doc
        _count(stages, doc)
    original = docs["002_0bc2088ad81ff738.txt"]
    for doc in docs.values():
        if doc.source == "005_copy_of_002.txt":
            items.append((Outcome(doc.id, doc.source, Status.DUPLICATE, reason="near duplicate (minhash)",
                                  duplicate_of=original.id, similarity=0.9412), doc))
        else:
            items.append((Outcome(doc.id, doc.source, Status.KEPT), doc))
    outcomes = [o for o, _ in items]
    summary = {"package_version": "test", "counts": _counts(outcomes), "stages": stages,
               "dedup": {"report_only": False, "clusters": 1, "largest_clusters": [{"kept": original.id, "size": 1, "dropped": [
                   {"id": docs["005_copy_of_002.txt"].id, "similarity": 0.9412, "reason": "near duplicate (minhash)"}]}]}}
    version, _ = write_version(Store(root), "vdemo0000000000001", lambda: items, lambda: summary,
                               created="2026-01-01T00:00:00+00:00", commit_metadata={}, scratch=root)
    write_report(version)
    return version


def _stage() -> dict:
    return {"seen": 0, "changed": 0, "edits": 0, "rejected": {}}


def _count(stages: dict, doc: Document) -> None:
    for name, s in stages.items():
        s["seen"] += 1
        n = len(doc.edits_by(name))
        s["changed"] += bool(n)
        s["edits"] += n


def _counts(outcomes: list[Outcome]) -> dict:
    c = {"input_files": len(outcomes), "documents": len(outcomes), "kept": 0, "duplicate": 0, "rejected": 0}
    for o in outcomes:
        c[o.status.value] += 1
    return c
