"""Who may hear a recording: supervisors any, an agent their own recent calls, a unit what it was granted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kernel.api.identity import Actor, Role
from recordings.access import Heard, may_hear, may_list

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
CALL = Heard("1001", NOW - timedelta(days=2), frozenset({"cgj.majiadian"}))


@pytest.mark.parametrize(
    ("actor", "error_id"),
    [
        (Actor("李班长", Role.SUPERVISOR), ""),
        (Actor("admin", Role.ADMIN), ""),
        (Actor("1001", Role.AGENT), ""),
        (Actor("1002", Role.AGENT), "not-your-call"),
        (Actor("城管中队", Role.UNIT, "cgj.majiadian"), ""),
        (Actor("水务", Role.UNIT, "water"), "not-granted"),
    ],
)
def test_each_role_hears_what_it_may(actor: Actor, error_id: str) -> None:
    verdict = may_hear(CALL, actor, NOW, WEEK)
    assert (verdict.allowed, verdict.error_id) == (not error_id, error_id)


def test_an_agents_own_call_goes_out_of_reach_after_the_window_and_units_never_list() -> None:
    old = Heard("1001", NOW - WEEK - timedelta(minutes=1))
    assert may_hear(old, Actor("1001", Role.AGENT), NOW, WEEK).error_id == "too-old"
    assert may_hear(old, Actor("李班长", Role.SUPERVISOR), NOW, WEEK).allowed
    assert not may_list(Actor("城管中队", Role.UNIT, "cgj.majiadian")).allowed
    assert may_list(Actor("1001", Role.AGENT)).allowed
