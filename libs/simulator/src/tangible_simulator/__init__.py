"""Telemetry simulator: realistic, reproducible usage for demos, benchmarks and chaos runs."""
