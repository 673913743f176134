"""Repositories: rows ↔ domain objects, set-based SQL. They never commit (the unit of work does)."""
