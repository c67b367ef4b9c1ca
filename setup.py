"""The one compiled part of cleancorpus (everything else is in pyproject.toml).

The quality stage's per-word loops in C (Gopher's quality counts and n-gram repetition; src/cleancorpus/stages/_quality_c.c: plain C and
Python's C API, no library). Optional: an install without a C compiler still succeeds, and the
stage then computes the same numbers in Python and numpy, more slowly (bench/README.md, "Quality
signals"). Declared here rather than in pyproject.toml, where setuptools still calls extension
modules experimental.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cleancorpus.stages._quality_c", ["src/cleancorpus/stages/_quality_c.c"], optional=True)])
