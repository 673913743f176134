"""Alembic environment of entitlements (see tangible_runtime.migrations)."""

from tangible_entitlements.adapters.tables import metadata
from tangible_runtime.migrations import run_env

run_env(metadata)
