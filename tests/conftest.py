import shutil
from pathlib import Path

import pytest

from paths import CASES, RAW, ROOT  # noqa: F401


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the five seed documents."""
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "clean"
