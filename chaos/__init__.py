"""Chaos runs: the whole system under load and faults, checked against an independent tally.

`make chaos` runs the full profile (`python -m chaos`); the test suite runs a short one
(tests/integration/test_chaos_short.py). See chaos/README.md.
"""
