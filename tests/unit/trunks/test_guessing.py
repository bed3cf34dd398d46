"""Password guessing at the SIP edge: which security events count, when a source is banned, when the ban
ends, and that a carrier's address is never banned."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunks.guessing import (
    MAX_ACCOUNTS_NAMED,
    MAX_BANNED,
    MAX_FOLLOWED,
    BanPolicy,
    FailedAttempt,
    GuessWatch,
    failed_attempt,
)

POLICY = BanPolicy(failures=5, window=60, ban_seconds=900)


def security_event(kind: str = "ChallengeResponseFailed", remote: str = "IPV4/UDP/203.0.113.7/5060", **more):
    return {"Event": kind, "Service": "PJSIP", "RemoteAddress": remote, "AccountID": "1001", **more}


def guess(address: str = "203.0.113.7", account: str = "1001") -> FailedAttempt:
    return FailedAttempt(address, "ChallengeResponseFailed", account)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (security_event(), FailedAttempt("203.0.113.7", "ChallengeResponseFailed", "1001")),
        (
            security_event("InvalidAccountID", "IPV6/UDP/2001:db8::7/5060", AccountID="admin"),
            FailedAttempt("2001:db8::7", "InvalidAccountID", "admin"),
        ),
        (security_event("ChallengeSent"), None),  # a challenge is no failure
        (security_event("SuccessfulAuth"), None),
        (security_event(Service="AMI"), None),  # the operator mistyping AMI's secret bans nobody from SIP
        (security_event(remote="IPV4/UDP/not-an-address/5060"), None),  # nothing odd goes into the ACL
        (security_event(remote=""), None),
        ({"Event": "Newchannel"}, None),
    ],
)
def test_only_the_sip_edges_failed_attempts_count(event, expected):
    assert failed_attempt(event) == expected


def test_a_burst_of_failures_from_one_source_bans_it_naming_the_accounts_it_tried():
    watch = GuessWatch(POLICY)
    verdicts = [watch.failed(guess(account=f"10{n:02d}"), now=100 + n * 0.01) for n in range(5)]
    assert verdicts[:4] == [None] * 4
    ban = verdicts[4]
    assert ban is not None and ban.address == "203.0.113.7" and ban.failures == 5
    assert ban.accounts == ("1000", "1001", "1002", "1003", "1004")
    assert ban.until == pytest.approx(100.04 + 900)
    assert watch.banned == {"203.0.113.7": ban.until}
    assert (watch.failures_total, watch.bans_total) == (5, 1)


def test_slow_guessing_below_the_rate_is_not_banned_but_still_counted():
    watch = GuessWatch(POLICY)
    verdicts = [watch.failed(guess(), now=n * 20.0) for n in range(50)]  # 3 a minute
    assert verdicts == [None] * 50 and watch.banned == {}
    assert watch.failures_total == 50


def test_failures_that_arrive_after_the_ban_extend_nothing_and_are_counted():
    watch = GuessWatch(POLICY)
    for n in range(5):
        watch.failed(guess(), now=n)
    until = watch.banned["203.0.113.7"]
    assert [watch.failed(guess(), now=5 + n) for n in range(10)] == [None] * 10
    assert watch.banned == {"203.0.113.7": until} and watch.bans_total == 1
    assert watch.failures_total == 15


def test_a_ban_ends_on_time_and_the_address_starts_afresh():
    watch = GuessWatch(POLICY)
    for n in range(5):
        watch.failed(guess(), now=n)
    assert watch.next_change() == 904
    assert watch.lift(now=903.9) == []
    assert watch.lift(now=904) == ["203.0.113.7"]
    assert watch.banned == {} and watch.next_change() is None
    assert watch.failed(guess(), now=905) is None, "a fresh window: one failure is not a burst"


def test_a_carrier_trunks_address_is_reported_but_never_banned():
    watch = GuessWatch(POLICY, spared={"198.51.100.1"})
    verdicts = [watch.failed(guess("198.51.100.1"), now=n) for n in range(5)]
    assert verdicts[4] is not None and verdicts[4].until is None and verdicts[4].failures == 5
    assert watch.banned == {} and watch.bans_total == 0


def test_the_accounts_named_are_bounded():
    watch = GuessWatch(BanPolicy(failures=50, window=60, ban_seconds=60))
    verdicts = [watch.failed(guess(account=f"user{n}"), now=n * 0.1) for n in range(50)]
    assert verdicts[-1] is not None and len(verdicts[-1].accounts) == MAX_ACCOUNTS_NAMED


def test_a_flood_of_sources_cannot_grow_the_tables_without_bound():
    watch = GuessWatch(BanPolicy(failures=1, window=60, ban_seconds=60))
    for n in range(MAX_BANNED + 5):
        watch.failed(guess(f"10.0.{n // 256}.{n % 256}"), now=n * 0.001)
    assert len(watch.banned) == MAX_BANNED and "10.0.0.0" not in watch.banned, "the first to end went first"
    slow = GuessWatch(POLICY)
    for n in range(MAX_FOLLOWED + 5):
        slow.failed(guess(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"), now=0)
    assert len(slow._recent) == MAX_FOLLOWED


def test_a_quiet_address_is_forgotten_after_the_window():
    watch = GuessWatch(POLICY)
    watch.failed(guess(), now=0)
    watch.lift(now=61)
    assert watch._recent == {} and watch._accounts == {}


@given(st.lists(st.floats(min_value=0, max_value=3600, allow_nan=False), max_size=80))
def test_a_ban_comes_exactly_when_some_window_holds_the_policys_failures(times):
    """Against a brute-force reading of the rule: banned iff ``failures`` attempts fit in one window."""
    times = sorted(times)
    watch = GuessWatch(POLICY)
    banned_at = next(
        (now for now in times if watch.failed(guess(), now) is not None),
        None,
    )
    first_burst = next(
        (
            times[i + POLICY.failures - 1]
            for i in range(len(times) - POLICY.failures + 1)
            if times[i + POLICY.failures - 1] - times[i] <= POLICY.window
        ),
        None,
    )
    assert banned_at == first_burst


def test_a_policy_that_could_never_ban_is_refused():
    with pytest.raises(ValueError):
        BanPolicy(failures=0)
