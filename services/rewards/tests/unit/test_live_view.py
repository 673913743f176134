"""The in-memory reads: what they keep, for how long, and what drops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tangible_rewards.service_layer.live_view import LiveView

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
