"""Who may hear a recording: supervisors any, an agent their own recent calls, a unit what it was granted;
a confidential ticket's call only the roles that read confidential tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.kernel.api.identity import Actor, Role
from hotline.recordings.access import (
    REASON_MAX,
    WORDS_MAX,
    Heard,
    may_hear,
    may_list,
    search_reason,
    snippets,
)
from hotline.recordings.http import RECORDING_ROUTES
from hotline.recordings.tables import RecordingAccessRow

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


def test_a_search_shows_the_words_around_each_match_and_never_the_whole_transcript() -> None:
    said = "我叫王五，电话13912345678。" + "小区" * 20 + "路灯坏了" + "。" * 30 + "LuDeng 路灯" + "修" * 3
    shown = snippets(said, "路灯", context=5)
    assert shown == ["…区小区小区路灯坏了。。。…", "…Deng 路灯修修修"]
    assert not any("139" in bit or "王五" in bit for bit in shown)


def test_matches_close_together_or_many_show_no_more_than_the_bound() -> None:
    said = "灯" * 200
    shown = snippets(said, "灯", context=3, most=4)
    assert len(shown) == 4 and all(len(bit.strip("…")) <= 7 for bit in shown)
    assert snippets("Street LIGHT broken", "light", context=2) == ["…t LIGHT b…"], "case aside, as LIKE"
    assert snippets("100% 满意", "%", context=1) == ["…0% …"], "the words are text, not a pattern"


REPORTED = Heard("1001", NOW - timedelta(days=2), frozenset({"cgj.majiadian"}), confidential=True)
CONFIDENTIAL_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})  # the ticket desk's, by default


@pytest.mark.parametrize(
    ("actor", "error_id"),
    [
        (Actor("李班长", Role.SUPERVISOR), ""),
        (Actor("admin", Role.ADMIN), ""),
        (Actor("质检员小周", Role.QUALITY), "confidential"),
        (Actor("1001", Role.AGENT), "confidential"),  # who answered it
        (Actor("1002", Role.AGENT), "not-your-call"),  # told nothing new of the call
        (Actor("城管中队", Role.UNIT, "cgj.majiadian"), "confidential"),  # granted it
        (Actor("水务", Role.UNIT, "water"), "not-granted"),
    ],
)
def test_a_confidential_tickets_call_is_heard_only_by_the_roles_that_read_confidential_tickets(
    actor: Actor, error_id: str
) -> None:
    verdict = may_hear(REPORTED, actor, NOW, WEEK, CONFIDENTIAL_ROLES)
    assert (verdict.allowed, verdict.error_id) == (not error_id, error_id)


def test_the_confidential_roles_are_the_deployments_and_none_unless_named() -> None:
    supervisor = Actor("李班长", Role.SUPERVISOR)
    assert may_hear(REPORTED, supervisor, NOW, WEEK, {Role.ADMIN}).error_id == "confidential"
    assert may_hear(REPORTED, Actor("admin", Role.ADMIN), NOW, WEEK, {Role.ADMIN}).allowed
    assert may_hear(REPORTED, supervisor, NOW, WEEK).error_id == "confidential", "none named: nobody"


def test_the_trail_keeps_the_longest_reason_and_the_longest_searched_words_whole() -> None:
    """A search's trail once cut at the column's width a reason that had no bound, and the words with it."""
    kept = RecordingAccessRow.__table__.c.reason.type.length
    reason, words = "理" * REASON_MAX, "灯" * WORDS_MAX
    assert len(search_reason(reason, words)) <= kept
    assert search_reason(reason, words).endswith(f"（检索：{words}）")


def test_every_reason_the_routes_take_is_bounded_as_the_handlers_bound_it() -> None:
    bounds = {
        (route.method, route.path): route.query["reason"].schema.get("maxLength")
        for route in RECORDING_ROUTES
        if "reason" in route.query
    }
    assert bounds == {
        ("GET", "/api/recordings"): REASON_MAX,
        ("GET", "/api/recordings/{recording_id}/audio"): REASON_MAX,
        ("GET", "/api/recordings/{recording_id}/transcript"): REASON_MAX,
    }
    [grant] = [route for route in RECORDING_ROUTES if route.path.endswith("/grants")]
    assert grant.body is not None and grant.body["properties"]["reason"]["maxLength"] == REASON_MAX
    [listing] = [route for route in RECORDING_ROUTES if route.path == "/api/recordings"]
    assert listing.query["text"].schema["maxLength"] == WORDS_MAX
