"""``hotline policy …`` checks a city's deadline rules; ``hotline tickets …`` reads the ticket store."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing import kpi
from hotline.ticketing.calendar import Deadline, WorkCalendar, package_calendar
from hotline.ticketing.errors import TicketError
from hotline.ticketing.exchange import to_exchange
from hotline.ticketing.guesses import PHONE
from hotline.ticketing.policy import (
    DeadlinePlan,
    Policy,
    PolicyError,
    load_policy,
    plan_deadlines,
    preset_names,
)
from hotline.ticketing.privacy import mask_email, mask_phone
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from hotline.ticketing.vocabulary import Status, TicketType

#: Whoever has a shell on the server is its administrator.
CLI_ACTOR = Actor("cli", Role.ADMIN)
T = TypeVar("T")
#: Opens the store, migrated, and closes it afterwards: the composition root knows the schema.
OpenStore = Callable[[], AbstractAsyncContextManager[AsyncEngine]]

WEEKDAYS = "一二三四五六日"
#: How much of a ticket's first line `tickets list` shows as its subject.
SUBJECT_CHARS = 32
#: A label the intake puts before a line (an email's 【主题】).
LINE_LABEL = re.compile(r"^【[^】]*】")
#: Mail addresses in free text (its phone numbers are those the intake's guesses spot).
MAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def add_policy_commands(commands: argparse._SubParsersAction) -> None:
    policy = commands.add_parser(
        "policy", help="deadline policies (presets: " + ", ".join(preset_names()) + ")"
    )
    sub = policy.add_subparsers(dest="policy_command", required=True)
    show = sub.add_parser("show", help="print a preset or policy file as JSON")
    show.add_argument("preset", nargs="?", help="preset name or TOML path (default: the configured one)")
    deadline = sub.add_parser("deadline", help="every deadline one ticket would get")
    deadline.add_argument("--preset", required=True, help="preset name or TOML path")
    deadline.add_argument("--type", dest="ticket_type", required=True, help="e.g. complaint or 投诉")
    deadline.add_argument(
        "--accepted", required=True, help="e.g. 2026-02-13T16:00 (local time of the policy)"
    )
    deadline.add_argument("--complex", action="store_true", help="a complex case (复杂事项)")
    deadline.add_argument("--urgent", action="store_true", help="an emergency-class item (突发)")
    deadline.add_argument("--json", action="store_true")


def add_ticket_commands(commands: argparse._SubParsersAction) -> None:
    tickets = commands.add_parser("tickets", help="read the ticket store")
    sub = tickets.add_subparsers(dest="tickets_command", required=True)
    listing = sub.add_parser("list", help="newest first")
    listing.add_argument("--status", help="e.g. in_progress or 办理中")
    listing.add_argument("--unit")
    listing.add_argument("--overdue", action="store_true", help="only tickets past their handling deadline")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one ticket with its history")
    show.add_argument("number")
    export = sub.add_parser("export", help="tickets accepted in a period, as exchange-format JSON lines")
    export.add_argument("--from", dest="start", required=True, help="first day, e.g. 2026-11-01")
    export.add_argument("--to", dest="end", required=True, help="day after the last, e.g. 2026-12-01")
    sub.add_parser("sweep", help="remind (催办) and supervise (督办) tickets near or past due, now")
    report = sub.add_parser("kpi", help="KPIs for tickets accepted in a period (CSV)")
    report.add_argument("--group", default="unit", choices=kpi.GROUPS)
    report.add_argument("--from", dest="start", required=True)
    report.add_argument("--to", dest="end", required=True)
    report.add_argument("--json", action="store_true")


def run_ticket_command(args: argparse.Namespace, open_store: OpenStore, policy_name: str, sender: str) -> int:
    try:
        policy = load_policy(policy_name)
        return asyncio.run(with_desk(open_store, policy, lambda desk: _tickets(args, desk, sender)))
    except PolicyError as exc:
        print(f"hotline tickets: {exc}", file=sys.stderr)
        return 2
    except TicketError as exc:
        print(f"hotline tickets: {exc.message}", file=sys.stderr)
        return 2


async def with_desk(open_store: OpenStore, policy: Policy, work: Callable[[TicketDesk], Awaitable[T]]) -> T:
    """Run ``work`` with a desk on the store (which the caller migrates and closes)."""
    async with open_store() as engine:
        desk = TicketDesk(engine, policy)
        await desk.start()
        return await work(desk)


async def _tickets(args: argparse.Namespace, desk: TicketDesk, sender: str) -> int:
    command = args.tickets_command
    if command == "show":
        print(_dumps(await desk.show(args.number, CLI_ACTOR)))
    elif command == "list":
        try:
            status = Status.parse(args.status) if args.status else None
        except ValueError as exc:
            raise TicketError("invalid-field", str(exc), 422) from None
        where = TicketFilter(
            status=status,  # type: ignore[arg-type]
            unit=args.unit,
            overdue_at=desk.clock() if args.overdue else None,
            limit=max(1, args.limit),
        )
        rows = await desk.list(CLI_ACTOR, where)
        if args.json:
            print(_dumps(rows))
            return 0
        for row in rows:
            intake = (await desk.store.get(row["number"])).intake
            due = (row["handling_due"] or "")[:16].replace("T", " ") or "-"
            unit = row["lead_unit"] or "-"
            print(
                f"{row['number']}  {row['status_label']:6} {intake.channel.label:7} {unit:16} "
                f"{row['category']:20} {due:16}  {subject_of(intake.description)}"
            )
    elif command == "export":
        zone = desk.policy.timezone
        where = TicketFilter(
            accepted_from=datetime.combine(_day(args.start, "--from"), time(0), zone),
            accepted_to=datetime.combine(_day(args.end, "--to"), time(0), zone),
            limit=1000,
        )
        while rows := await desk.list(CLI_ACTOR, where):
            for row in rows:
                shown = await desk.show(row["number"], CLI_ACTOR)
                print(json.dumps(to_exchange(shown, sender), ensure_ascii=False))
            where = dataclasses.replace(where, offset=where.offset + len(rows))
    elif command == "sweep":
        for action in await desk.sweep():
            print(f"{action.number}  {action.command:9} {action.reason}")
    else:
        rows = await desk.kpi_report(args.group, _day(args.start, "--from"), _day(args.end, "--to"))
        print(_dumps(rows) if args.json else kpi.to_csv(rows, args.group).rstrip("\n"))
    return 0


def subject_of(description: str) -> str:
    """What a list line says a ticket is about: its first line (an email's subject), cut short, with
    telephone numbers and mail addresses masked as for a unit: a list shows no one's personal data."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    first = LINE_LABEL.sub("", first).strip()
    first = PHONE.sub(lambda m: mask_phone(m.group()), first)
    first = MAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), first)
    return first if len(first) <= SUBJECT_CHARS else first[: SUBJECT_CHARS - 1] + "…"


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TicketError(
            "invalid-field", f"{option} must be a date like 2026-11-01, got {text!r}", 422
        ) from None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


async def stored_calendar(open_store: OpenStore, policy: Policy) -> WorkCalendar:
    """The package calendar with the administrator's stored days on top."""

    async def calendar_of(desk: TicketDesk) -> WorkCalendar:
        return desk.calendar

    return await with_desk(open_store, policy, calendar_of)


def run_policy_command(
    args: argparse.Namespace, configured_policy: str, calendar: WorkCalendar | None
) -> int:
    try:
        if args.policy_command == "show":
            policy = load_policy(args.preset or configured_policy)
            print(json.dumps(policy.to_json(), ensure_ascii=False, indent=2))
            return 0
        policy = load_policy(args.preset)
        ticket_type = TicketType.parse(args.ticket_type)
        accepted = parse_local_time(args.accepted, policy)
    except (PolicyError, ValueError) as exc:
        print(f"hotline policy: {exc}", file=sys.stderr)
        return 2
    calendar = calendar or package_calendar()
    calendar = WorkCalendar(calendar.holidays, calendar.workdays, calendar.known_years, policy.service_day)
    plan = plan_deadlines(
        policy, calendar, ticket_type, accepted, complex_case=args.complex, urgent=args.urgent
    )
    if plan.unknown_years:
        years = "、".join(str(y) for y in plan.unknown_years)
        print(
            f"警告: {years} 年的法定节假日和调休尚未公布或未录入，以下期限只按周末估算，"
            "请用 hotline calendar 录入后再核对。",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(plan_json(policy, ticket_type, plan), ensure_ascii=False, indent=2))
    else:
        print(plan_text(policy, ticket_type, plan))
    return 0


def parse_local_time(text: str, policy: Policy) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--accepted must be a date and time like 2026-02-13T16:00, got {text!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=policy.timezone)
    return moment.astimezone(policy.timezone)


def plan_json(policy: Policy, ticket_type: TicketType, plan: DeadlinePlan) -> dict[str, object]:
    def entry(deadline: Deadline | None) -> dict[str, object] | None:
        return None if deadline is None else deadline.to_json()

    return {
        "policy": policy.name,
        "type": ticket_type.value,
        "accepted": plan.accepted.isoformat(),
        "estimated": bool(plan.unknown_years),
        "unknown_years": list(plan.unknown_years),
        "deadlines": {
            "dispatch": entry(plan.dispatch),
            "sign": entry(plan.sign),
            "return_window": entry(plan.return_window),
            "handling": entry(plan.handling),
            "onsite": entry(plan.onsite),
            "extension_request_by": entry(plan.extension_request_by),
            "callback": entry(plan.callback),
        },
        "handling_duration": str(plan.handling_duration),
        "extension": {"max_count": plan.extension_max, "length": str(plan.extension_length)},
    }


def plan_text(policy: Policy, ticket_type: TicketType, plan: DeadlinePlan) -> str:
    def when(deadline: Deadline | None) -> str:
        if deadline is None:
            return "未规定"
        mark = "（估算）" if deadline.estimated else ""
        return f"{deadline.at:%Y-%m-%d %H:%M} 周{WEEKDAYS[deadline.at.weekday()]}{mark}"

    lines = [
        f"政策 {policy.name}（{policy.title}）  类型 {ticket_type.label}  "
        f"受理 {plan.accepted:%Y-%m-%d %H:%M} 周{WEEKDAYS[plan.accepted.weekday()]}",
        f"分办期限    {when(plan.dispatch)}",
        f"签收期限    {when(plan.sign)}",
        f"退回截止    {when(plan.return_window)}",
        f"办结期限    {when(plan.handling)}（{plan.handling_duration}）",
    ]
    if plan.onsite:
        lines.append(f"到达现场    {when(plan.onsite)}")
    if plan.extension_max:
        lines.append(
            f"延期        最多 {plan.extension_max} 次，每次 {plan.extension_length}；"
            f"最迟申请 {when(plan.extension_request_by)}"
        )
    else:
        lines.append("延期        不允许")
    lines.append(f"回访期限    {when(plan.callback)}")
    lines.append("（假定受理即派单、签收在签收期限、回复在办结期限）")
    return "\n".join(lines)
