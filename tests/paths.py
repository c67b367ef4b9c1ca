"""Paths the tests share (a plain module: several conftest.py files exist, so don't import from conftest)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
CASES = Path(__file__).resolve().parent / "cases"
