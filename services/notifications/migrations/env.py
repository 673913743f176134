"""Alembic environment of notifications (see tangible_runtime.migrations)."""

from tangible_notifications.adapters.tables import metadata
from tangible_runtime.migrations import run_env

run_env(metadata)
