"""The one compiled part of cleancorpus (everything else is in pyproject.toml).

The quality stage's n-gram repetition in C (src/cleancorpus/stages/_ngrams.c: plain C and
Python's C API, no library). Optional: an install without a C compiler still succeeds, and the
stage then computes the same numbers in Python and numpy, more slowly (bench/README.md, "Quality
signals"). Declared here rather than in pyproject.toml, where setuptools still calls extension
modules experimental.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cleancorpus.stages._ngrams", ["src/cleancorpus/stages/_ngrams.c"], optional=True)])
