"""What every per-document stage looks like, and the registry that names them.

A stage is built once from its typed options (validated there, failing loudly), may look at
the whole corpus once in ``fit`` (for statistics such as lines that recur across documents),
and then maps each Document to a new Document or a Rejection. Stages do no I/O.

Fitting is mergeable, so that shards of a corpus can be counted in parallel: ``partial_fit``
turns some documents into a small picklable statistics object, ``merge_stats`` adds such
objects up (exactly, in any order: the merge of the shards' statistics equals the statistics of
the whole stream), and ``finish_fit`` turns the total into what ``apply`` uses.
``fit(docs)`` is ``finish_fit(partial_fit(docs))``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Iterable, Sequence

from ..document import Document, Rejection


class ConfigError(ValueError):
    """A configuration or resource problem found while building the pipeline."""


def require_at_least(options: Any, names: Iterable[str], minimum: float, prefix: str = "") -> None:
    """Fail at construction when a numeric option is below ``minimum`` (options validate themselves)."""
    for name in names:
        value = getattr(options, name)
        if value < minimum:
            raise ConfigError(f"{prefix}{name} must be >= {minimum}, not {value}")


@dataclasses.dataclass(frozen=True)
class NoOptions:
    pass


class Stage:
    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions
    # True when fit() must see every document (as the earlier stages left it) before apply()
    needs_corpus: ClassVar[bool] = False
    # what partial_fit reads of a document: "document" (all of it) or "text" (its id and text
    # only: incremental.py then recounts a chunk only when one of those changed)
    fit_reads: ClassVar[str] = "document"

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    def fit(self, docs: Iterable[Document]) -> None:
        """Learn corpus statistics; only called when ``needs_corpus`` is true."""
        self.finish_fit(self.partial_fit(docs))

    def partial_fit(self, docs: Iterable[Document]) -> Any:
        """Statistics of some of the corpus's documents; must not depend on what the stage
        learned before (a fresh and a fitted instance return the same)."""
        for _ in docs:
            pass
        return None

    def merge_stats(self, parts: Sequence[Any]) -> Any:
        """The statistics of the union of the parts' documents, whatever the parts' order."""
        return None

    def finish_fit(self, stats: Any) -> None:
        """Take the whole corpus's statistics into use."""

    def apply(self, doc: Document) -> Document | Rejection:
        raise NotImplementedError

    # -- per-document reuse across runs (see incremental.py)
    def apply_recorded(self, doc: Document) -> tuple[Document | Rejection, Any]:
        """``apply`` and a JSON-able record of what it read of the fitted statistics for this
        document (None: nothing). A stage that reads statistics must override this and
        ``reads_hold`` so that its cached results are reused exactly when still right."""
        return self.apply(doc), None

    def reads_hold(self, reads: Any, doc: Document | None = None) -> bool:
        """Whether every read in ``reads`` gives the same answer with this stage's statistics
        (``doc``: the document as it enters the stage, for a stage that needs it to check)."""
        return reads is None

    def affected(self, records: Sequence[Any]) -> set[int] | None:
        """Of stored records (one input file's, say), the positions of those that may not hold
        (``miss_cause`` may not be None); every other one holds, so its document needs no
        check. None: not known (check every one). A stage may keep what it found for
        ``miss_cause`` of these same record objects, until its next call."""
        return None

    def miss_cause(self, reads: Any, doc: Document | None = None) -> str | None:
        """None when ``reads_hold``; else why not, in a few words (counted in a run's work
        summary: which change of the statistics made the stage recompute the document)."""
        return None if self.reads_hold(reads, doc) else "statistics"

    def reject(self, reason: str, detail: str = "") -> Rejection:
        return Rejection(self.name, reason, detail)


REGISTRY: dict[str, type[Stage]] = {}


def register(cls: type[Stage]) -> type[Stage]:
    if cls.name in REGISTRY:
        raise ConfigError(f"two stages are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def build_options(cls: type[Stage], given: dict[str, Any] | None) -> Any:
    """Turn a plain dict into the stage's typed options, rejecting unknown keys."""
    given = dict(given or {})
    fields = {f.name for f in dataclasses.fields(cls.Options)}
    unknown = sorted(set(given) - fields)
    if unknown:
        raise ConfigError(
            f"stage {cls.name!r} has no option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(fields)) or 'none'}"
        )
    try:
        return cls.Options(**given)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad options for stage {cls.name!r}: {exc}") from exc
