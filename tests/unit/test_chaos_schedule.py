"""The million profile's fault schedule holds what the reliability issue asks of it, before a
20-minute run finds out: every process SIGKILLed five times, replicas scaled in and out, the
broker and PostgreSQL restarted twice, a 30 s partition of one service from its database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chaos.faults import KILL_TARGETS, PARTITION_SECONDS, PROFILES, TERM_TARGETS, schedule
from chaos.stack import ServiceProcess, role_replicas


def _names(replicas: int) -> list[str]:
    return [
        ServiceProcess.logging_to(Path("/logs"), service, role, {}, replica).name
        for service, role, replica in role_replicas(replicas)
    ]


def test_a_scaled_out_run_starts_two_of_every_worker_role_and_one_of_each_api() -> None:
    names = _names(2)
    assert len(names) == len(set(names))
    assert "entitlements-consumer" in names and "entitlements-consumer-2" in names
    assert "notifications-delivery-2" in names and "rewards-scheduler-2" in names
    assert "entitlements-api" in names and "entitlements-api-2" not in names
    assert len(names) == 24


def test_the_million_profile_hits_every_process_and_every_dependency() -> None:
    profile = PROFILES["million"]
    names = _names(profile.replicas)
    replicas = [n for n in names if n.endswith("-2")]
    faults = schedule(profile, processes=names, replicas=replicas, partitioned="postgres-entitlements")
    kinds = Counter(f.kind for f in faults)
    kills = Counter(f.target for f in faults if f.kind == "kill")

    assert profile.events == 1_000_000 and profile.accounts >= 2_000
    assert set(kills) == set(names) and min(kills.values()) >= 5
    assert kinds["scale"] >= 10 and {f.target for f in faults if f.kind == "scale"} <= set(replicas)
    assert kinds["broker_restart"] == 2 and kinds["postgres_restart"] == 2
    [partition] = [f for f in faults if f.kind == "partition"]
    assert partition.target == "postgres-entitlements" and partition.duration == PARTITION_SECONDS == 30
    assert kinds["latency"] >= 2 and kinds["reset_peer"] >= 2
    assert all(0 <= f.at <= profile.fault_window + 10 for f in faults)
    last_kill = max(f.at for f in faults if f.kind == "kill")
    assert all(f.at > last_kill for f in faults if f.kind == "term")  # no SIGKILL cuts a shutdown short


def test_the_single_replica_profiles_keep_their_schedule() -> None:
    for name in ("full", "short"):
        faults = schedule(PROFILES[name], processes=_names(1))
        assert {f.target for f in faults if f.kind == "kill"} == set(KILL_TARGETS)
        assert {f.target for f in faults if f.kind == "term"} == set(TERM_TARGETS)
        assert not [f for f in faults if f.kind in ("scale", "partition")]
