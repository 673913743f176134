"""Alembic environment of usage-ingest (see tangible_runtime.migrations)."""

from tangible_ingest.adapters.tables import metadata
from tangible_runtime.migrations import run_env

run_env(metadata)
