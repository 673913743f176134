"""The bound on events in flight: when a request is shed, and the Retry-After it gets."""

from __future__ import annotations

import pytest

from tangible_ingest.config import Settings
from tangible_ingest.entrypoints.admission import Admission


def test_a_batch_is_admitted_while_it_fits_and_shed_when_it_does_not() -> None:
    admission = Admission(max_events=1000)
    assert admission.admit(600)
    assert not admission.admit(500)  # 1,100 would go past the bound
    assert admission.admit(400)
    assert admission.full()  # the next request is shed on arrival, its body unread
    admission.release(600)
    assert not admission.full()
    assert admission.events == 400


def test_a_batch_larger_than_the_bound_passes_alone() -> None:
    admission = Admission(max_events=100)
    assert admission.admit(1000)  # else it could never pass
    assert not admission.admit(1)
    admission.release(1000)
    assert admission.events == 0


def test_retry_after_is_jittered_between_the_base_and_twice_it() -> None:
    bounds: list[tuple[int, int]] = []

    def jitter(low: int, high: int) -> int:
        bounds.append((low, high))
        return high

    assert Admission(10, retry_after_seconds=2, jitter=jitter).retry_after() == "4"
    assert bounds == [(2, 4)]
    assert Admission(10, retry_after_seconds=0).retry_after() in {"1", "2"}  # never "retry now"


def test_the_default_bound_is_five_full_requests() -> None:
    assert Settings(max_events_per_request=500).events_in_flight_bound == 2500
    assert Settings(max_events_in_flight=1234).events_in_flight_bound == 1234


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        Admission(max_events=0)
