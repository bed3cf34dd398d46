"""Password guessing at the SIP edge: which security events count, when a source is banned, when the ban
ends, and that a carrier's address is never banned."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.trunks.guessing import (
    MAX_ACCOUNT_CHARS,
    MAX_ACCOUNTS_NAMED,
    MAX_BANNED,
    MAX_FOLDED,
    MAX_FOLLOWED,
    SIGNED_IN,
    TRUNK,
    TRUSTED,
    BanPolicy,
    FailedAttempt,
    GuessWatch,
    failed_attempt,
    signed_in,
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
    watch = GuessWatch(POLICY, trunks={"198.51.100.1"})
    verdicts = [watch.failed(guess("198.51.100.1"), now=n) for n in range(5)]
    assert verdicts[4] is not None and verdicts[4].until is None and verdicts[4].failures == 5
    assert verdicts[4].spared == TRUNK
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


def unknown(address: str = "203.0.113.7", account: str = "admin") -> FailedAttempt:
    return FailedAttempt(address, "InvalidAccountID", account)


def test_the_office_network_is_reported_but_never_banned_and_a_stranger_still_is():
    """Every seat behind the office NAT shares one address: one phone with an old password banned them all."""
    watch = GuessWatch(POLICY, trusted=["192.0.2.0/24", "2001:db8:1::/48"])
    office = [watch.failed(guess("192.0.2.33"), now=n) for n in range(5)]
    office6 = [watch.failed(guess("2001:db8:1::9"), now=n) for n in range(5)]
    stranger = [watch.failed(guess("192.0.3.33"), now=n) for n in range(5)]
    assert office[4] is not None and office[4].until is None and office[4].spared == TRUSTED
    assert office6[4] is not None and office6[4].spared == TRUSTED
    assert stranger[4] is not None and stranger[4].until is not None
    assert list(watch.banned) == ["192.0.3.33"]


def test_an_address_that_signed_in_within_the_window_is_not_banned_for_failures():
    """A stopped seat's phone still registering with its old password must not lock out the seat beside it."""
    watch = GuessWatch(POLICY)
    watch.succeeded("203.0.113.7", now=0)
    verdicts = [watch.failed(guess(), now=10 + n) for n in range(5)]
    assert verdicts[4] is not None and verdicts[4].until is None and verdicts[4].spared == SIGNED_IN
    assert watch.banned == {}
    later = GuessWatch(POLICY)
    later.succeeded("203.0.113.7", now=0)
    later.lift(now=100)
    assert [later.failed(guess(), now=100 + n) for n in range(5)][4].until is not None, (
        "a window later: banned"
    )


def test_a_successful_sign_in_is_read_from_the_sip_edges_events_alone():
    assert signed_in(security_event("SuccessfulAuth")) == "203.0.113.7"
    assert signed_in(security_event("SuccessfulAuth", Service="AMI")) is None
    assert signed_in(security_event("ChallengeResponseFailed")) is None
    assert signed_in(security_event("SuccessfulAuth", remote="IPV4/UDP/x/5060")) is None


def test_unknown_accounts_take_more_failures_than_wrong_passwords_to_ban():
    """One forged UDP packet makes an InvalidAccountID: ten of them must not ban a chosen address."""
    watch = GuessWatch(POLICY)
    limit = POLICY.failures * POLICY.unknown_account_factor
    verdicts = [watch.failed(unknown(), now=n * 0.01) for n in range(limit)]
    assert verdicts[: limit - 1] == [None] * (limit - 1)
    assert verdicts[-1] is not None and verdicts[-1].until is not None and verdicts[-1].failures == limit
    mixed = GuessWatch(POLICY)
    for n in range(POLICY.failures - 1):
        mixed.failed(unknown(), now=n)
        mixed.failed(guess(), now=n)
    assert mixed.banned == {}
    assert mixed.failed(guess(), now=9) is not None, "wrong passwords ban at their own limit"


def test_an_account_name_is_cut_to_printable_characters():
    event = security_event(AccountID="\x1b[2J" + "a" * 10_000 + "\n")
    attempt = failed_attempt(event)
    assert attempt is not None and attempt.account == "[2J" + "a" * (MAX_ACCOUNT_CHARS - 3)


def test_a_flood_from_a_spared_address_makes_a_few_reports_whose_counts_add_up():
    """Thousands of guesses a second from a trunk's address made one event and one WARNING per 5 failures."""
    watch = GuessWatch(POLICY, trunks={"198.51.100.1"})
    reports = []
    flood = 30_000
    for n in range(flood):  # 100 a second for 300 s
        now = n * 0.01
        verdict = watch.failed(guess("198.51.100.1", account=f"u{n}"), now)
        reports += [verdict] if verdict else []
        reports += watch.due(now)
    reports += watch.due(300 + POLICY.window)
    assert len(reports) <= 300 / POLICY.window + 2
    assert sum(report.failures for report in reports) == flood
    assert all(len(report.accounts) <= MAX_ACCOUNTS_NAMED for report in reports)
    assert watch.banned == {} and watch.due(1_000) == [] and watch.next_change() is None


def test_a_flood_from_many_spared_addresses_is_told_in_a_bounded_number_of_reports():
    watch = GuessWatch(POLICY, trusted=["10.0.0.0/8"])
    reports = []
    for n in range(5 * 1_000):
        source = n % 1_000
        verdict = watch.failed(guess(f"10.1.{source // 256}.{source % 256}"), now=n * 0.001)
        reports += [verdict] if verdict else []
    reports += watch.due(100)
    assert len(reports) == MAX_FOLDED + 2, "each of the first addresses once, then the rest: first and folded"
    assert sum(report.failures for report in reports) == 5 * 1_000


def test_a_trunk_that_resolves_to_a_banned_address_has_its_ban_lifted():
    watch = GuessWatch(POLICY)
    for n in range(5):
        watch.failed(guess("198.51.100.1"), now=n)
    assert watch.set_trunks(["198.51.100.1"]) == ["198.51.100.1"]
    assert watch.banned == {}
    assert [watch.failed(guess("198.51.100.1"), now=10 + n) for n in range(5)][4].until is None
