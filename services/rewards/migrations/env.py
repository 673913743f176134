"""Alembic environment of rewards (see tangible_runtime.migrations)."""

from tangible_rewards.adapters.tables import metadata
from tangible_runtime.migrations import run_env

run_env(metadata)
