"""``hotline policy …``: check a city's deadline rules against the calendar."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from ticketing.calendar import Deadline, WorkCalendar, package_calendar
from ticketing.policy import DeadlinePlan, Policy, PolicyError, load_policy, plan_deadlines, preset_names
from ticketing.vocabulary import TicketType

WEEKDAYS = "一二三四五六日"


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
