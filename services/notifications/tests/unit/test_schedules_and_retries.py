"""Retry schedule, Retry-After, quiet hours, digest slots, quarters, impact notes, SSRF."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import httpx

from tangible_notifications.adapters.ssrf import Target, is_public
from tangible_notifications.domain.impact import FeatureUsage, ImpactFacts, RewardsSummary, UsageReport, note
from tangible_notifications.domain.model import QuietHours
from tangible_notifications.domain.preferences import digest_slot, quiet_until
from tangible_notifications.domain.retry import Outcome, RetryPolicy, classify_status, parse_retry_after
from tangible_notifications.domain.schedule import Quarter, last_completed_quarter

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_backoff_grows_with_jitter_and_retries_span_the_whole_window() -> None:
    policy = RetryPolicy()
    for seed in range(20):
        rng = random.Random(seed)
        now, attempt, times = T0, 1, []
        while (
            nxt := policy.next_attempt(attempt=attempt, series_started_at=T0, now=now, rng=rng)
        ) is not None:
            assert nxt > now
            times.append(nxt)
            now, attempt = nxt, attempt + 1
        assert times[-1] == T0 + timedelta(hours=24)  # the last try is at the window's end
        assert 6 <= len(times) <= 12
        assert times[0] - T0 <= timedelta(seconds=6.25)


def test_retry_after_is_honoured_in_seconds_and_http_dates() -> None:
    policy = RetryPolicy()
    later = policy.next_attempt(attempt=1, series_started_at=T0, now=T0, retry_after=timedelta(minutes=10))
    assert later == T0 + timedelta(minutes=10)
    assert parse_retry_after("120", T0) == timedelta(seconds=120)
    assert parse_retry_after("Thu, 26 Nov 2026 12:05:00 GMT", T0) == timedelta(minutes=5)
    assert parse_retry_after("soon", T0) is None


def test_status_codes() -> None:
    assert classify_status(204) is Outcome.SUCCEEDED
    assert classify_status(410) is Outcome.GONE
    assert {classify_status(s) for s in (301, 400, 429, 500, 503)} == {Outcome.FAILED}


def test_quiet_hours_across_midnight_in_the_recipients_zone() -> None:
    quiet = QuietHours(time(22), time(7))
    paris_2230 = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)
    assert quiet_until(paris_2230, quiet, "Europe/Paris") == datetime(2026, 11, 27, 6, tzinfo=UTC)
    paris_0300 = datetime(2026, 11, 27, 2, tzinfo=UTC)
    assert quiet_until(paris_0300, quiet, "Europe/Paris") == datetime(2026, 11, 27, 6, tzinfo=UTC)
    assert quiet_until(datetime(2026, 11, 27, 12, tzinfo=UTC), quiet, "Europe/Paris") is None
    assert quiet_until(paris_2230, QuietHours(time(13), time(14)), "UTC") is None


def test_digest_slots_are_the_next_local_hour_daily_or_on_monday() -> None:
    assert digest_slot(T0, "daily", "Europe/Paris", 8) == (
        "daily:2026-11-27",
        datetime(2026, 11, 27, 7, tzinfo=UTC),
    )
    early = datetime(2026, 11, 26, 6, tzinfo=UTC)  # 07:00 in Paris: today's 08:00 is still ahead
    assert digest_slot(early, "daily", "Europe/Paris", 8)[0] == "daily:2026-11-26"
    assert digest_slot(T0, "weekly", "UTC", 8) == ("weekly:2026-11-30", datetime(2026, 11, 30, 8, tzinfo=UTC))


def test_the_last_completed_quarter() -> None:
    assert last_completed_quarter(datetime(2026, 10, 1, tzinfo=UTC)) == Quarter(2026, 3)
    assert last_completed_quarter(datetime(2026, 2, 1, tzinfo=UTC)) == Quarter(2025, 4)
    assert (Quarter(2026, 3).start, Quarter(2026, 3).end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert Quarter(2025, 4).end == date(2025, 12, 31)


def test_the_impact_note_reads_like_a_sentence_and_falls_back() -> None:
    usage = UsageReport(
        (FeatureUsage("reports", "Reports", 1240), FeatureUsage("api", "API calls", 0)),
        (("hours saved", 310),),
    )
    facts = ImpactFacts("this term", usage, RewardsSummary(2, balance=Decimal("0")))
    assert (
        note(facts) == "This term your team generated 1,240 reports, ~310 hours saved, and earned 2 rewards."
    )
    one = ImpactFacts("this quarter", UsageReport((FeatureUsage("k", "API calls", 12.5),)), RewardsSummary(1))
    assert note(one) == "This quarter your team generated 12.5 API calls and earned 1 reward."
    assert note(ImpactFacts("this term", None, RewardsSummary(2))).startswith(
        "We could not gather your figures"
    )


def test_only_public_addresses_are_webhook_targets() -> None:
    private = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1"]
    private += ["::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "fc00::1"]
    assert not any(is_public(ipaddress.ip_address(a)) for a in private)
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


def test_a_pinned_target_names_an_internationalised_host_in_ascii() -> None:
    """A tenant may register `https://café.example`: Host and SNI carry the IDNA form, so the
    request can be built (a Unicode Host header makes httpx raise before sending)."""
    target = Target(httpx.URL("https://café.example:8443/hook"), ipaddress.IPv4Address("93.184.216.34"))
    url, host, extensions = target.pinned()
    assert host == {"Host": "xn--caf-dma.example:8443"}
    assert extensions == {"sni_hostname": "xn--caf-dma.example"}
    request = httpx.Request("POST", url, headers=host, extensions=extensions)
    assert request.headers["host"] == "xn--caf-dma.example:8443" and url.host == "93.184.216.34"
