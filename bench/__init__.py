"""Benchmarks of Tangible (`make bench`): figures with their conditions, never assertions."""
