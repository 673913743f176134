"""The in-memory reads: what they keep, for how long, and what drops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tangible_rewards.service_layer.live_view import LiveView, next_quarter_hour

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
ACCOUNT = ("t1", "a1")


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def live_view(ticking: Ticking, **limits: float) -> LiveView:
    view = LiveView(
        progress_max_age=limits.get("progress_max_age", 0.5),
        balance_max_age=limits.get("balance_max_age", 60),
        max_accounts=int(limits.get("max_accounts", 10)),
        listening_progress_max_age=limits.get("listening_progress_max_age", 60),
        monotonic=ticking,
    )
    view.live = True
    return view


def test_a_balance_is_kept_until_its_account_changes_or_its_soonest_bucket_expires() -> None:
    view = live_view(Ticking())
    expiry = NOW + timedelta(days=1)
    view.keep_balance(view.ticket(*ACCOUNT), *ACCOUNT, "credits", b"10", valid_until=expiry)
    assert view.balance(*ACCOUNT, "credits", NOW) == b"10"
    assert view.balance(*ACCOUNT, "points", NOW) is None
    assert view.balance("t2", "a1", "credits", NOW) is None  # another tenant's account
    assert view.balance(*ACCOUNT, "credits", expiry) is None
    view.invalidate([ACCOUNT])
    assert view.balance(*ACCOUNT, "credits", NOW) is None


def test_progress_lives_its_max_age_on_either_clock_and_a_balance_its_own() -> None:
    ticking = Ticking()
    view = live_view(ticking)
    view.keep_progress(view.ticket(*ACCOUNT), *ACCOUNT, b"p", now=NOW)
    view.keep_balance(view.ticket(*ACCOUNT), *ACCOUNT, "credits", b"b", valid_until=None)
    assert view.progress(*ACCOUNT, NOW) == b"p"
    assert view.progress(*ACCOUNT, NOW + timedelta(seconds=0.5)) is None  # the service's clock moved
    ticking.value += 0.5
    assert view.progress(*ACCOUNT, NOW) is None  # real time passed
    assert view.balance(*ACCOUNT, "credits", NOW + timedelta(days=365)) == b"b"
    ticking.value += 60
    assert view.balance(*ACCOUNT, "credits", NOW) is None


def test_while_listening_progress_lives_until_time_moves_it_or_its_longer_max_age() -> None:
    ticking = Ticking()
    view = live_view(ticking, listening_progress_max_age=3600)
    view.set_listening(True)
    at = NOW + timedelta(minutes=3)  # 12:03: the next quarter hour is 12:15
    view.keep_progress(view.ticket(*ACCOUNT), *ACCOUNT, b"p", now=at)
    view.keep_progress(view.ticket("t1", "a2"), "t1", "a2", b"q", now=at, until=at + timedelta(minutes=1))
    ticking.value += 30  # far past the half second of a replica that does not listen
    assert view.progress(*ACCOUNT, NOW + timedelta(minutes=14, seconds=59)) == b"p"
    assert view.progress(*ACCOUNT, NOW + timedelta(minutes=15)) is None  # a day may begin
    assert view.progress("t1", "a2", at + timedelta(seconds=59)) == b"q"
    assert view.progress("t1", "a2", at + timedelta(minutes=1)) is None  # a holder left the window
    ticking.value += 3600
    assert view.progress(*ACCOUNT, at) is None  # the max age, in real time


def test_hearing_or_losing_the_announcements_forgets_kept_progress_but_not_balances() -> None:
    view = live_view(Ticking())
    view.keep_progress(view.ticket(*ACCOUNT), *ACCOUNT, b"p", now=NOW)
    view.keep_balance(view.ticket(*ACCOUNT), *ACCOUNT, "credits", b"b", valid_until=None)
    view.set_listening(True)
    assert view.progress(*ACCOUNT, NOW) is None
    assert view.balance(*ACCOUNT, "credits", NOW) == b"b"
    view.keep_progress(view.ticket(*ACCOUNT), *ACCOUNT, b"p", now=NOW)
    pending = view.ticket("t1", "a2")
    view.set_listening(False)
    assert view.progress(*ACCOUNT, NOW) is None and not view.listening
    view.set_listening(True)
    view.keep_progress(pending, "t1", "a2", b"q", now=NOW)  # under way before: kept briefly
    assert view.progress("t1", "a2", NOW) == b"q"
    assert view.progress("t1", "a2", NOW + timedelta(seconds=0.5)) is None
    assert view.balance(*ACCOUNT, "credits", NOW) == b"b"


def test_a_tenant_wide_change_drops_that_tenant_only() -> None:
    view = live_view(Ticking())
    for tenant, account in (ACCOUNT, ("t1", "a2"), ("t2", "a1")):
        view.keep_progress(view.ticket(tenant, account), tenant, account, b"p", now=NOW)
    pending = view.ticket("t1", "a3")
    view.invalidate_tenant("t1")
    assert view.progress(*ACCOUNT, NOW) is None and view.progress("t1", "a2", NOW) is None
    assert view.progress("t2", "a1", NOW) == b"p"
    view.keep_progress(pending, "t1", "a3", b"p", now=NOW)  # read before the change: not kept
    assert view.progress("t1", "a3", NOW) is None


def test_the_next_quarter_hour_is_strictly_later() -> None:
    assert next_quarter_hour(NOW) == NOW + timedelta(minutes=15)
    assert next_quarter_hour(NOW + timedelta(minutes=14, seconds=59)) == NOW + timedelta(minutes=15)
    kathmandu = datetime(2026, 11, 26, 0, 0, tzinfo=UTC) - timedelta(hours=5, minutes=45)  # its midnight
    assert next_quarter_hour(kathmandu - timedelta(seconds=1)) == kathmandu


def test_an_answer_read_before_a_change_of_its_account_is_not_kept() -> None:
    view = live_view(Ticking())
    ticket = view.ticket(*ACCOUNT)
    view.invalidate([ACCOUNT])  # the change lands while the database is read
    view.keep_balance(ticket, *ACCOUNT, "credits", b"stale", valid_until=None)
    assert view.balance(*ACCOUNT, "credits", NOW) is None
    other = view.ticket("t1", "a2")
    view.invalidate([ACCOUNT])  # another account's change does not void it
    view.keep_balance(other, "t1", "a2", "credits", b"5", valid_until=None)
    assert view.balance("t1", "a2", "credits", NOW) == b"5"


def test_nothing_is_answered_or_kept_while_the_view_is_not_following() -> None:
    view = live_view(Ticking())
    view.keep_balance(view.ticket(*ACCOUNT), *ACCOUNT, "credits", b"10", valid_until=None)
    view.live = False
    assert view.balance(*ACCOUNT, "credits", NOW) is None
    view.keep_progress(view.ticket("t1", "a2"), "t1", "a2", b"p", now=NOW)
    view.live = True
    assert view.progress("t1", "a2", NOW) is None


def test_a_full_view_forgets_the_account_it_kept_first() -> None:
    view = live_view(Ticking(), max_accounts=2)
    for account in ("a1", "a2", "a3"):
        view.keep_balance(view.ticket("t1", account), "t1", account, "credits", b"1", valid_until=None)
    assert len(view) == 2
    assert view.balance("t1", "a1", "credits", NOW) is None
    assert view.balance("t1", "a3", "credits", NOW) == b"1"
