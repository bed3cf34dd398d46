"""The platform's own actions: hot items when many report one thing; reminders, supervision on deadlines."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hotline.ticketing.attention import due_actions, hot_matter
from hotline.ticketing.policy import load_policy
from hotline.ticketing.vocabulary import Status
from hotline.ticketing.workflow import Ticket
from tests.unit.ticketing.desk import AGENT, CITY_MGMT, SUPERVISOR, Desk

RULE = load_policy("zhijiang").attention


def report(number: str, phone: str, start: str = "2026-11-02T09:00", **intake: str) -> Ticket:
    ticket = Desk(start=start, caller_phone=phone, **intake).ticket
    return dataclasses.replace(ticket, number=number)


def test_the_third_caller_about_one_place_and_topic_makes_every_report_hot() -> None:
    first, second = report("T1", "13800000001"), report("T2", "13800000002")
    assert hot_matter(second, [first], RULE) == []
    third = report("T3", "13800000003", start="2026-11-05T10:00")
    actions = hot_matter(third, [first, second, third], RULE)
    assert [(a.number, a.command) for a in actions] == [
        ("T1", "mark_hot"),
        ("T2", "mark_hot"),
        ("T3", "mark_hot"),
    ]
    assert "3 位来电人" in actions[0].reason


def test_one_caller_reporting_three_times_is_a_hot_item_too() -> None:
    reports = [report(f"T{i}", "13800000001", start=f"2026-11-0{i + 1}T09:00") for i in range(1, 4)]
    assert hot_matter(reports[1], reports[:2], RULE) == []
    actions = hot_matter(reports[2], reports, RULE)
    assert len(actions) == 3 and "第 3 次" in actions[0].reason


def test_reports_elsewhere_closed_or_too_old_do_not_count() -> None:
    other_town = report("T1", "13800000001", region="zj.dongshi")
    other_topic = report("T2", "13800000002", category="urban.management")
    too_old = report("T3", "13800000003", start="2026-10-20T09:00")
    archived = dataclasses.replace(report("T4", "13800000004"), status=Status.ARCHIVED)
    new = report("T5", "13800000005", start="2026-11-03T09:00")
    previous = report("T6", "13800000006")
    assert hot_matter(new, [other_town, other_topic, too_old, archived, previous], RULE) == []


def test_tickets_already_hot_are_not_marked_again() -> None:
    first = dataclasses.replace(report("T1", "13800000001"), hot=True)
    second, third = report("T2", "13800000002"), report("T3", "13800000003")
    assert [a.number for a in hot_matter(third, [first, second], RULE)] == ["T2", "T3"]


def test_a_reminder_one_working_day_before_the_deadline_then_supervision_once_it_passes() -> None:
    # Dispatched Monday 2 Nov 09:00: 5 working days → due Monday 9 Nov 09:00.
    desk = Desk().signed()
    due = desk.ticket.handling_due
    assert due is not None and due.day == 9 and due.hour == 9
    desk.later(days=3, hours=23)  # Thursday 08:00, more than a working day ahead
    assert due_actions(desk.ticket, desk.now, RULE, desk.calendar) == []
    desk.later(days=1, hours=1)  # Friday 09:00: one working day left
    [remind] = due_actions(desk.ticket, desk.now, RULE, desk.calendar)
    assert remind.command == "remind" and remind.reason.startswith("即将到期")
    desk.do(SUPERVISOR, "remind", reason=remind.reason)
    assert due_actions(desk.ticket, desk.now, RULE, desk.calendar) == [], "one reminder per deadline"
    desk.later(days=3, minutes=1)  # Monday 09:01, past due
    assert [a.command for a in due_actions(desk.ticket, desk.now, RULE, desk.calendar)] == ["supervise"]
    desk.do(SUPERVISOR, "supervise", reason="超期")
    assert due_actions(desk.ticket, desk.now, RULE, desk.calendar) == []


def test_an_overdue_ticket_nobody_reminded_gets_both() -> None:
    desk = Desk().signed().later(days=8)
    commands = [a.command for a in due_actions(desk.ticket, desk.now, RULE, desk.calendar)]
    assert commands == ["remind", "supervise"]


def test_an_extended_deadline_gets_its_own_reminder() -> None:
    desk = Desk().signed().later(days=4)  # Friday 09:00, due Monday 09:00
    desk.do(SUPERVISOR, "remind")
    desk.do(CITY_MGMT, "request_extension", reason="需协调多个部门")
    desk.do(SUPERVISOR, "approve_extension")
    assert desk.ticket.handling_due is not None and desk.ticket.handling_due.day == 16
    assert due_actions(desk.ticket, desk.now, RULE, desk.calendar) == []
    desk.later(days=7)  # Friday 13 Nov 09:00, a working day before the new deadline
    assert [a.command for a in due_actions(desk.ticket, desk.now, RULE, desk.calendar)] == ["remind"]


def test_tickets_not_at_a_unit_are_left_alone() -> None:
    desk = Desk()
    assert due_actions(desk.ticket, desk.now + timedelta(days=30), RULE, desk.calendar) == []
    desk.do(AGENT, "answer", answer="已告知办理地址")
    assert due_actions(desk.ticket, desk.now + timedelta(days=30), RULE, desk.calendar) == []
