"""Typed, validated configuration. Built once; written into every manifest; part of the version id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from .stages import REGISTRY, Stage, build_options
from .stages.base import ConfigError, require_at_least

# The default order; stages registered but not named here run after these.
# language first (quality and the English-only repairs read its decision); pii after language
# (its placeholders are not words) and before anything is counted or published
DEFAULT_ORDER = ("unicode", "boilerplate", "language", "quality", "pii", "spun", "spelling")
DEFAULT_STAGES: tuple[str, ...] = tuple(s for s in DEFAULT_ORDER if s in REGISTRY) + tuple(
    s for s in REGISTRY if s not in DEFAULT_ORDER
)


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    """Near-duplicate removal (see src/cleancorpus/dedup/ and README "Near-duplicate removal").

    Two documents are duplicates when their word-shingle sets have Jaccard similarity at least
    ``jaccard_threshold``, or when the smaller one (with at least ``containment_min_shingles``
    shingles, so that a one-line text is not "contained" in every article quoting it) lies at
    least ``containment_threshold`` inside the other. Evidence (bench/README.md): on the Clough &
    Stevenson answers, independently written same-topic texts never exceed 5-gram containment
    0.04 while copy-and-paste answers average 0.61; the repaired seed pair 000/001 measures
    Jaccard 0.448, containment 0.667. 0.6 keeps a wide margin above independent text.
    """

    enabled: bool = True
    # report clusters in the manifest but keep every document
    report_only: bool = False
    shingle_size: int = 5
    num_perm: int = 128
    # 64 bands of 2 rows: a pair with Jaccard 0.2 becomes a candidate with probability 0.93,
    # so contained documents (low Jaccard, high containment) still reach verification
    bands: int = 64
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.6
    containment_min_shingles: int = 30
    # an LSH bucket with more members is linked as a star, not checked pair by pair
    max_bucket_all_pairs: int = 50
    seed: int = 1

    def __post_init__(self) -> None:
        require_at_least(self, ("shingle_size", "num_perm", "bands", "max_bucket_all_pairs"), 1, "dedup.")
        if self.shingle_size > 64:
            raise ConfigError("dedup.shingle_size must be at most 64")
        if self.num_perm % self.bands:
            raise ConfigError("dedup.num_perm must be a multiple of dedup.bands")
        require_at_least(self, ("containment_min_shingles",), 0, "dedup.")
        for name in ("jaccard_threshold", "containment_threshold"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise ConfigError(f"dedup.{name} must be in (0, 1], not {v}")


@dataclasses.dataclass(frozen=True)
class Limits:
    # documents larger than this (bytes of text) are rejected before the expensive stages
    max_doc_bytes: int = 20_000_000
    # reading one document (decoding, HTML extraction) or one stage on one document taking
    # longer than this gets the document rejected with reason "time limit" (0 disables); holds
    # in any thread (see timeout.py), so in flow tasks and on Dask workers too; counted in the
    # thread's CPU time, so machine load does not decide which documents are rejected
    max_stage_seconds: float = 60.0
    # HTML structural pre-check before parsing (0 disables each): pages beyond these are
    # rejected with the reason instead of keeping a run busy for minutes (see ingest/html.py)
    max_html_tags: int = 1_000_000
    max_html_attributes: int = 1_000

    def __post_init__(self) -> None:
        if self.max_doc_bytes <= 0:
            raise ConfigError("limits.max_doc_bytes must be positive")
        if self.max_stage_seconds < 0:
            raise ConfigError("limits.max_stage_seconds must be >= 0")
        require_at_least(self, ("max_html_tags", "max_html_attributes"), 0, "limits.")


@dataclasses.dataclass(frozen=True)
class InputConfig:
    """Where JSONL and Parquet inputs keep a document's text and their own id (README "Input
    formats"): ``text_field`` is the text (e.g. ``content``, ``raw_content``); the value of
    ``id_field`` is copied to ``metadata["input_id"]`` (every field stays in metadata too)."""

    text_field: str = "text"
    id_field: str = "id"

    def __post_init__(self) -> None:
        for name in ("text_field", "id_field"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(f"input.{name} must be a non-empty field name, not {v!r}")
        if self.text_field == self.id_field:
            raise ConfigError(f"input.text_field and input.id_field are both {self.text_field!r}")


@dataclasses.dataclass(frozen=True)
class Config:
    stages: tuple[str, ...] = DEFAULT_STAGES
    stage_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    dedup: DedupConfig = DedupConfig()
    limits: Limits = Limits()
    input: InputConfig = InputConfig()

    def __post_init__(self) -> None:
        unknown = [s for s in self.stages if s not in REGISTRY]
        if unknown:
            raise ConfigError(
                f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}"
            )
        stray = sorted(set(self.stage_options) - set(self.stages))
        if stray:
            raise ConfigError(f"options given for stage(s) not in the pipeline: {', '.join(stray)}")
        # validate now, not half-way through a run
        resolved = {s: build_options(REGISTRY[s], self.stage_options.get(s)) for s in self.stages}
        object.__setattr__(self, "_resolved", resolved)

    def build_stages(self) -> list[Stage]:
        return [REGISTRY[s](self._resolved[s]) for s in self.stages]  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": list(self.stages),
            "stage_options": {
                s: dataclasses.asdict(o) for s, o in self._resolved.items()  # type: ignore[attr-defined]
            },
            "dedup": dataclasses.asdict(self.dedup),
            "limits": dataclasses.asdict(self.limits),
            "input": dataclasses.asdict(self.input),
        }

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Config":
        known = {"stages", "stage_options", "dedup", "limits", "input"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        try:
            return cls(
                stages=tuple(d.get("stages", DEFAULT_STAGES)),
                stage_options=dict(d.get("stage_options", {})),
                dedup=DedupConfig(**d.get("dedup", {})),
                limits=Limits(**d.get("limits", {})),
                input=InputConfig(**d.get("input", {})),
            )
        except TypeError as exc:
            raise ConfigError(f"bad configuration: {exc}") from exc

    @classmethod
    def load(cls, path: str) -> "Config":
        try:
            with open(path, encoding="utf-8") as fh:
                return cls.from_dict(json.load(fh))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
