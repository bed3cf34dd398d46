"""Refusals are folded per peer and window: a flood makes a few reports and log lines, and every refusal
is counted in one of them."""

from __future__ import annotations

import asyncio
import logging

from hypothesis import given
from hypothesis import strategies as st

from hotline.kernel.asterisk.refusals import MAX_PEERS, OTHERS, Refusal, RefusalReports, RefusalTally


def test_2000_refusals_in_087_seconds_make_two_reports_that_count_them_all():
    tally = RefusalTally(window=10)
    told = [tally.refused("198.51.100.9", "missing or wrong key", now=n * 0.87 / 2000) for n in range(2000)]
    told = [report for report in told if report is not None]
    assert told == [Refusal("198.51.100.9", "missing or wrong key", count=1, total=1)]
    assert tally.due(now=5) == [], "the window has not ended"
    assert tally.due(now=10) == [Refusal("198.51.100.9", "missing or wrong key", count=1999, total=2000)]
    assert tally.due(now=20) == [] and tally.next_due() is None, "a quiet peer is forgotten"


def test_each_peer_and_reason_has_its_own_window():
    tally = RefusalTally(window=10)
    first = [
        tally.refused(peer, why, now=0) for peer, why in [("a", "x"), ("b", "x"), ("a", "y"), ("a", "x")]
    ]
    assert [(r.peer, r.reason) for r in first if r] == [("a", "x"), ("b", "x"), ("a", "y")]
    assert tally.due(now=10) == [Refusal("a", "x", count=1, total=4)]


def test_too_many_peers_at_once_are_told_together():
    tally = RefusalTally(window=10, max_peers=MAX_PEERS)
    told = [tally.refused(f"10.0.{n // 256}.{n % 256}", "no key", now=0) for n in range(MAX_PEERS + 50)]
    assert sum(1 for r in told if r) == MAX_PEERS + 1
    assert [r.peer for r in told if r][-1] == OTHERS
    assert tally.due(now=10) == [Refusal(OTHERS, "no key", count=49, total=MAX_PEERS + 50)]


def test_a_stop_tells_what_is_folded():
    tally = RefusalTally(window=10)
    for n in range(5):
        tally.refused("a", "x", now=n)
    assert tally.rest() == [Refusal("a", "x", count=4, total=5)]
    assert tally.rest() == [] and tally.next_due() is None


@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(min_value=0, max_value=0.5)), max_size=300))
def test_no_refusal_is_lost_and_reports_stay_few(refusals):
    """Whatever comes in, the counts told add up to the refusals, at most one report per peer and window."""
    tally = RefusalTally(window=1)
    told: list[Refusal] = []
    clock = 0.0
    for peer, gap in refusals:
        clock += gap
        told += tally.due(clock)
        report = tally.refused(peer, "no key", clock)
        told += [report] if report else []
    told += tally.rest()
    assert sum(r.count for r in told) == len(refusals)
    windows = int(clock) + 2
    assert len(told) <= 3 * 2 * windows


async def test_the_folded_window_is_told_when_it_ends_without_another_refusal(caplog):
    told: list[Refusal] = []
    reports = RefusalReports("test", told.append, window=0.05)
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            reports.refused("198.51.100.9", "no key")
        async with asyncio.timeout(2):
            while len(told) < 2:
                await asyncio.sleep(0.01)
    reports.close()
    assert [r.count for r in told] == [1, 49]
    assert len([r for r in caplog.records if "refused 198.51.100.9" in r.getMessage()]) == 2
