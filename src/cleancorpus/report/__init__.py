"""A self-contained HTML audit report of one version: what was cut, repaired and merged.

The page is one file with its CSS, script and chart inline (no network). All corpus text goes
through Jinja's autoescaping, so a document holding ``<script>`` or ``</body>`` is shown as
text and never runs or ends the page.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..document import Edit
from ..store import Version
from .annotate import Piece, annotate
from .view import ReportOptions, build_view, metadata_rows

REPORT_FILE = "report.html"
_TIP_CHARS = 90

__all__ = ["REPORT_FILE", "ReportOptions", "annotate", "build_report", "render_report", "report_path", "write_report"]


def render_report(version: Version, options: ReportOptions | None = None) -> str:
    """The report of a stored version, built from its published tables (withheld personal data
    stays withheld even when the version was opened with its private table)."""
    version = version.published()
    view = build_view(version, options or ReportOptions())
    assets = resources.files(__name__) / "templates"
    return _environment().get_template("report.html.j2").render(
        v=view,
        m=version.manifest,
        css=Markup((assets / "report.css").read_text(encoding="utf-8")),
        js=Markup((assets / "report.js").read_text(encoding="utf-8")),
        chart=stage_chart(version.manifest.get("stages", {})),
    )


def build_report(version: Version, options: ReportOptions | None = None) -> str:
    return render_report(version, options)


def report_path(version: Version) -> Path:
    """Where ``cleancorpus report`` writes a version's report by default: beside the tables of a
    local store (``_reports/<version>.html``), in the working directory for a remote one."""
    store = version.store
    base = Path("_reports") if store.remote else Path(store.root) / "_reports"
    return base / f"{version.id}.html"


def write_report(version: Version, path: Path | None = None, options: ReportOptions | None = None) -> Path:
    """Write the report (generated on demand from the tables) and return its path."""
    path = Path(path) if path is not None else report_path(version)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = render_report(version, options).encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__name__, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(tip=piece_tip, css=piece_class, short=_short, meta=metadata_rows, tojson_attr=_json_attr)
    env.globals.update(stage_class=stage_class, edit_line=edit_line)
    return env


def stage_class(stage: str) -> str:
    return "s-" + re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-")


def piece_class(p: Piece) -> str:
    names = [p.kind, stage_class(p.edits[-1].stage)]
    if any(e.confidence is not None and e.confidence < 0.6 for e in p.edits):
        names.append("low")
    if p.text and not p.text.strip():
        names.append("ws")
    return " ".join(names)


def edit_line(e: Edit) -> str:
    conf = f" (confidence {e.confidence:.2f})" if e.confidence is not None else ""
    if not e.after:
        return f"{e.stage}: removed “{_short(e.before)}”: {e.reason}{conf}"
    return f"{e.stage}: “{_short(e.before)}” → “{_short(e.after)}”: {e.reason}{conf}"


def piece_tip(p: Piece) -> str:
    head = f"was “{_short(p.original)}”\n" if p.text and p.original else ""
    return head + "\n".join(edit_line(e) for e in p.edits)


WITHHELD_TEXT = "(withheld: personal data)"


def _short(s: str | None, n: int = _TIP_CHARS) -> str:
    if s is None:  # an original the version does not publish (store/private.py)
        return WITHHELD_TEXT
    s = s.replace("\n", "⏎")
    return s if len(s) <= n else s[: n - 1] + "…"


def _json_attr(value: Any) -> str:
    # autoescaping makes it a safe attribute value; the script reads it with JSON.parse
    return json.dumps(value, sort_keys=True)


def stage_chart(stages: dict[str, dict[str, Any]]) -> Markup:
    """A horizontal bar per stage: its edits, and how many documents it changed."""
    rows = [(name, int(s.get("edits", 0)), int(s.get("changed", 0))) for name, s in stages.items()]
    top = max([n for _, n, _ in rows] + [1])
    bar_h, gap, label_w, bar_w = 22, 8, 110, 360
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg class="chart" role="img" aria-label="edits per stage" viewBox="0 0 {label_w + bar_w + 190} {height}" '
        f'width="{label_w + bar_w + 190}" height="{height}">'
    ]
    for i, (name, edits, changed) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(round(bar_w * edits / top), 2 if edits else 0)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>'
            f'<rect class="{stage_class(name)}" x="{label_w}" y="{y}" width="{w}" height="{bar_h}" rx="3"/>'
            f'<text x="{label_w + w + 6}" y="{y + 16}">{edits} edit{"" if edits == 1 else "s"} · '
            f'{changed} document{"" if changed == 1 else "s"}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
