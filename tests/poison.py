"""A poisoned corpus: every kind of input and document that once stopped a whole run, plus
stages that fail or hang on purpose. Shared by the CLI, API and flow tests of issue 12."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Iterable

from cleancorpus.config import DEFAULT_STAGES, Config, Limits
from cleancorpus.document import Document
from cleancorpus.stages import REGISTRY, Stage

from paths import RAW

LIMIT_SECONDS = 1.0


class ExplodingStage(Stage):
    """Raises on a document holding EXPLODE-ON-PURPOSE."""

    name = "test-explode"

    def apply(self, doc: Document) -> Document:
        if "EXPLODE-ON-PURPOSE" in doc.text:
            raise ValueError("boom on purpose")
        return doc


class HangingStage(Stage):
    """Never returns on a document holding HANG-ON-PURPOSE (a pure-Python busy loop that also
    swallows ordinary exceptions, as careless library code does)."""

    name = "test-hang"

    def apply(self, doc: Document) -> Document:
        if "HANG-ON-PURPOSE" in doc.text:
            while True:
                try:
                    sum(range(1000))
                except Exception:
                    pass
        return doc


class FitFailingStage(Stage):
    """A corpus stage whose statistics pass raises on a document holding FITBOOM-ON-PURPOSE."""

    name = "test-fitboom"
    needs_corpus = True

    def partial_fit(self, docs: Iterable[Document]) -> int:
        n = 0
        for doc in docs:
            if "FITBOOM-ON-PURPOSE" in doc.text:
                raise KeyError("fit boom on purpose")
            n += 1
        return n

    def merge_stats(self, parts):
        return sum(parts)

    def finish_fit(self, stats) -> None:
        self.total = stats

    def apply(self, doc: Document) -> Document:
        return doc


TEST_STAGES = (ExplodingStage, HangingStage, FitFailingStage)


@contextlib.contextmanager
def poison_stages():
    """Register the failing stages for the duration of a test (never at import: the property
    tests run every registered stage)."""
    for cls in TEST_STAGES:
        REGISTRY[cls.name] = cls
    try:
        yield
    finally:
        for cls in TEST_STAGES:
            REGISTRY.pop(cls.name, None)


def poison_config(with_test_stages: bool = True) -> Config:
    extra = tuple(c.name for c in TEST_STAGES) if with_test_stages else ()
    return Config(stages=DEFAULT_STAGES + extra, limits=Limits(max_stage_seconds=LIMIT_SECONDS))


def write_config(path: Path, with_test_stages: bool = True) -> Path:
    path.write_text(json.dumps(poison_config(with_test_stages).to_dict()), "utf-8")
    return path


PROSE = "The river flooded the lower town in the spring, and the council met to decide what to rebuild first. "
# distinct texts, so that no two poisoned lines are near duplicates of each other
TEXTS = [
    "The river flooded the lower town in the spring, and the council met to decide what to rebuild first.",
    "A baker on Mill Street kept her ovens going through the storm and fed the volunteers for a week.",
    "Teachers moved the school library to the church hall while the roof of the old building dried out.",
    "The ferry company doubled its crossings in August after the bridge was closed for urgent repairs.",
    "Farmers north of the valley reported the best apple harvest in a decade despite the late frost.",
    "Two students restored a printing press from 1890 and now publish a small weekly paper on it.",
    "Night trains to the coast return next summer, the railway said, with new sleeping cars ordered.",
    "The museum opened a room of maps drawn by surveyors who walked the border on foot in 1921.",
    "Volunteers counted four hundred swallows nesting under the eaves of the station this year.",
    "An old lighthouse keeper wrote down the weather every morning for forty years without a gap.",
]


def slow_html_page() -> str:
    """About 3 MB of ordinary markup: several seconds of extraction, far over the limit."""
    para = ("<div class='c'><p>Paragraph {i} holds a sentence of ordinary prose about the town and its "
            "weather, long enough to count.</p><span>aside {i}</span></div>")
    return "<html><body>" + "".join(para.format(i=i) for i in range(20_000)) + "</body></html>"


def attribute_bomb_page(n: int = 100_000) -> str:
    attrs = " ".join(f'data-a{i}="v{i}"' for i in range(n))
    return f"<html><body><div {attrs}><p>{TEXTS[9]}</p></div></body></html>"


JSONL_LINES = {
    # source line -> (what it is, expected status)
    1: ('{"text": "%s", "n": %s}' % (TEXTS[0], "9" * 5000), "rejected"),  # int too long to convert
    2: ('{"text": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "rejected"),  # recursion
    3: ('{"text": "A lone surrogate \\ud83d sits in this text. %s"}' % TEXTS[1], "kept"),
    4: ('{"text": "%s Not a number in the metadata.", "score": NaN, "big": Infinity, "low": -Infinity, "ok": 1}' % TEXTS[2], "kept"),
    5: (json.dumps({"text": TEXTS[3] + " EXPLODE-ON-PURPOSE"}), "rejected"),
    6: (json.dumps({"text": TEXTS[4] + " HANG-ON-PURPOSE"}), "rejected"),
    7: (json.dumps({"text": TEXTS[5] + " FITBOOM-ON-PURPOSE"}), "kept"),
    8: (json.dumps({"text": "Zero\u200bwidth, soft\u00adhyphen and an RLO \u202eevil\u202c here. " + TEXTS[6]}), "kept"),
    9: ('{"text": "A surrogate in the metadata only. %s", "title": "bad \\udc80 title"}' % TEXTS[7], "kept"),
}


def build_poisoned_corpus(root: Path, with_seeds: bool = True, test_stages: bool = True) -> dict[str, str]:
    """Writes the corpus; returns source -> expected status (``test_stages``: whether the
    failing stages run, e.g. not on Dask workers, which cannot import this test module)."""
    root.mkdir(parents=True, exist_ok=True)
    expect: dict[str, str] = {}
    if with_seeds:
        for p in sorted(RAW.iterdir()):
            shutil.copy(p, root / p.name)
            expect[p.name] = "kept-or-duplicate"
    lines = {k: (v if test_stages or k not in (5, 6) else (v[0], "kept")) for k, v in JSONL_LINES.items()}
    with open(root / "poison.jsonl", "w", encoding="utf-8") as fh:
        for k in range(1, max(lines) + 1):
            fh.write((lines[k][0] if k in lines else json.dumps({"text": TEXTS[8]})) + "\n")
            expect[f"poison.jsonl:{k}"] = lines[k][1] if k in lines else "kept"
    (root / "attribute-bomb.html").write_text(attribute_bomb_page(), "utf-8")
    expect["attribute-bomb.html"] = "rejected"
    (root / "slow.html").write_text(slow_html_page(), "utf-8")
    expect["slow.html"] = "rejected"
    return expect


def strict_json_files(version_dir: Path) -> int:
    """Parse every JSON/JSONL file of a version as a strict reader would (UTF-8 without
    surrogates, no NaN/Infinity); returns how many records were checked."""

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    n = 0
    for path in sorted(version_dir.rglob("*")):
        if path.suffix not in (".json", ".jsonl"):
            continue
        text = path.read_bytes().decode("utf-8", errors="strict")
        chunks = text.split("\n") if path.suffix == ".jsonl" else [text]  # not splitlines: \x85, \u2028 are text
        for chunk in chunks:
            if chunk.strip():
                json.loads(chunk, parse_constant=refuse)
                n += 1
    return n


def check_poisoned_outcomes(outcomes: dict[str, dict], expect: dict[str, str], manifest: dict) -> None:
    assert set(outcomes) == set(expect), set(outcomes) ^ set(expect)
    for source, status in expect.items():
        got = outcomes[source]["status"]
        if status == "kept-or-duplicate":
            assert got in ("kept", "duplicate"), (source, outcomes[source])
        else:
            assert got == status, (source, outcomes[source])
    reason = {s: o.get("reason", "") for s, o in outcomes.items()}
    assert "invalid JSON" in reason["poison.jsonl:1"] and "digits" in reason["poison.jsonl:1"]
    assert "invalid JSON" in reason["poison.jsonl:2"] and "nested" in reason["poison.jsonl:2"]
    if expect["poison.jsonl:5"] == "rejected":
        assert reason["poison.jsonl:5"] == "test-explode: stage error (ValueError: boom on purpose)"
        assert reason["poison.jsonl:6"].startswith("test-hang: time limit")
    assert reason["attribute-bomb.html"].startswith("ingest: HTML pre-check: one tag has 100000 attributes")
    assert reason["slow.html"].startswith("ingest: time limit: reading took over")
    if "test-fitboom" in manifest["stages"]:
        skipped = manifest["stages"]["test-fitboom"]["fit_skipped"]
        assert list(skipped.values()) == ["fit failed: KeyError: 'fit boom on purpose'"]
        assert outcomes["poison.jsonl:7"]["id"] in skipped
