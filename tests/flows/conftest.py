"""Flow tests: Prefect's settings are fixed before anything imports Prefect, and one temporary
Prefect API (``prefect_test_harness``) serves the session (about 11 s to start, once)."""

import shutil
from pathlib import Path

from cleancorpus_flows.env import apply_defaults

ROOT = Path(__file__).resolve().parents[2]
apply_defaults(ROOT)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def corpus(seeds: Path) -> Path:
    """The seeds plus an exact and a near copy of one of them, so the dedup passes find
    something, and a file that ingest must reject."""
    first = sorted(seeds.glob("*.txt"))[1]
    text = first.read_text(encoding="utf-8")
    (seeds / "dup_exact.txt").write_text(text, encoding="utf-8")
    (seeds / "dup_near.txt").write_text(text + "\nOne more closing sentence, added by a copier.\n", encoding="utf-8")
    (seeds / "empty.txt").write_bytes(b"")
    return seeds


@pytest.fixture
def dask_dir(tmp_path: Path):
    d = tmp_path / "dask"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)
