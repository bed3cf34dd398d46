"""What the platform does without being asked: hot items (重点), reminders (催办), supervision (督办).

Pure decisions over tickets and the time; the desk runs them at intake and on
a timer. Each action is taken once per occasion (one reminder per deadline, one
supervision per ticket, one hot flag per ticket), so running the sweep twice, or
on two controllers, changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.ticketing.calendar import WorkCalendar
from hotline.ticketing.policy import Attention
from hotline.ticketing.workflow import CLOSED, OPEN_AT_UNIT, Ticket


@dataclass(frozen=True)
class Action:
    number: str
    command: str
    reason: str


def hot_window(accepted_at: datetime, rule: Attention) -> datetime:
    """The earliest acceptance time that still counts toward the same matter."""
    return accepted_at - timedelta(days=rule.hot_window_days)


def hot_matter(new: Ticket, similar: Iterable[Ticket], rule: Attention) -> list[Action]:
    """Flag every live ticket of a matter once enough people, or one person often enough, report it.

    ``similar`` are tickets of the same category and region accepted within the
    window (the new one may be among them); callers are told apart by number.
    """
    since = hot_window(new.accepted_at, rule)
    live = {
        t.number: t
        for t in (*similar, new)
        if t.status not in CLOSED
        and t.accepted_at >= since
        and t.intake.category == new.intake.category
        and t.intake.region == new.intake.region
    }
    reporters: dict[str, int] = {}
    for ticket in live.values():
        caller = ticket.intake.caller_phone or f"anonymous:{ticket.number}"
        reporters[caller] = reporters.get(caller, 0) + 1
    if len(reporters) >= rule.hot_reporters:
        reason = f"多人反映：{rule.hot_window_days} 天内 {len(reporters)} 位来电人反映同一地点同类问题"
    elif new.intake.caller_phone and reporters.get(new.intake.caller_phone, 0) >= rule.hot_repeats:
        count = reporters[new.intake.caller_phone]
        reason = f"多次反映：同一来电人 {rule.hot_window_days} 天内第 {count} 次反映同一问题"
    else:
        return []
    return [Action(number, "mark_hot", reason) for number, t in sorted(live.items()) if not t.hot]


def due_actions(ticket: Ticket, now: datetime, rule: Attention, calendar: WorkCalendar) -> list[Action]:
    """A reminder when the handling deadline is near or past; supervision once it is past."""
    due = ticket.handling_due
    if ticket.status not in OPEN_AT_UNIT or due is None:
        return []
    actions = []
    remind_from = rule.remind_before.before(due, calendar)
    if now >= remind_from and ticket.reminded_due != due:
        state = "已超期" if now >= due else "即将到期"
        actions.append(Action(ticket.number, "remind", f"{state}：办理时限 {_local(due, now)}"))
    if now >= due and rule.supervise_overdue and not ticket.supervised:
        actions.append(Action(ticket.number, "supervise", f"超期未办结：办理时限 {_local(due, now)}"))
    return actions


def _local(moment: datetime, now: datetime) -> str:
    return f"{moment.astimezone(now.tzinfo):%Y-%m-%d %H:%M}"
