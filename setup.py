"""The one C extension (everything else is in pyproject.toml): polytag._ordmap, the subject
directory's batch lookup (polytag.core.ordmap). It is optional: without a C compiler the install
still succeeds and polytag uses the same map over a dict; tests/core/test_ordmap.py fails on an
install that lacks it, so CI cannot lose it unnoticed."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("polytag._ordmap", ["src/polytag/_ordmap.c"], optional=True)])
