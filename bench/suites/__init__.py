"""Benchmark suites; each module has `run(bench: Bench, report: Report) -> None`."""
