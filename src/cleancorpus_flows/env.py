"""Quiet, offline, project-local Prefect settings. Must run before ``prefect`` is imported:
Prefect reads its settings (and creates PREFECT_HOME) at import time."""

from __future__ import annotations

import os
from pathlib import Path


def defaults(project: Path) -> dict[str, str]:
    return {
        # no telemetry, no update checks, no DNS lookup that logs an ERROR when offline
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # keep the temporary server's SQLite database and the profiles out of ~/.prefect
        "PREFECT_HOME": str(project / ".prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # ...but let the flow's own run logger (stage counts, version id) through
        "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
        # the default 20 s timed out once on a loaded 2-core machine
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        # Dask's scheduler and workers log every connection at INFO
        "DASK_LOGGING__DISTRIBUTED": "warning",
    }


def apply_defaults(project: Path | None = None) -> None:
    """Set each default that the environment does not already set."""
    for key, value in defaults(Path(project or os.getcwd()).resolve()).items():
        os.environ.setdefault(key, value)
