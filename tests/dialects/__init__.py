"""Dialect test suites."""
