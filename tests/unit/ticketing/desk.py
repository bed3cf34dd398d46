"""A test desk: a ticket, a clock and the people who act on it, all in memory."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.calendar import package_calendar
from hotline.ticketing.policy import load_policy
from hotline.ticketing.workflow import RULES, Context, Ticket, apply, decide, parse_intake, receive

TZ = ZoneInfo("Asia/Shanghai")
AGENT = Actor("王芳", Role.AGENT)
SUPERVISOR = Actor("李班长", Role.SUPERVISOR)
CITY_MGMT = Actor("城管局张三", Role.UNIT, "cgj")
MARKET = Actor("市场监管局赵四", Role.UNIT, "scjg")
WATER = Actor("水务公司钱五", Role.UNIT, "water")

INTAKE = {
    "type": "投诉",
    "channel": "phone",
    "description": "楼下饭店油烟很大，晚上十点后还在营业",
    "category": "urban.environment",
    "region": "zj.majiadian",
    "caller_name": "张三",
    "caller_phone": "13800138000",
}


class Clock:
    """A clock a test sets and moves: Monday 2 November 2026, 09:00 Beijing time, to start."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)

    def __call__(self) -> datetime:
        return self.now


class Desk:
    def __init__(self, preset: str = "zhijiang", start: str = "2026-11-02T09:00", **intake: Any) -> None:
        self.policy = load_policy(preset)
        self.calendar = package_calendar(self.policy.service_day)
        self.now = datetime.fromisoformat(start).replace(tzinfo=TZ)
        self.events = [receive(parse_intake({**INTAKE, **intake}), "T1", self.ctx(AGENT))]
        self.ticket: Ticket = apply(None, self.events[0])

    def ctx(self, actor: Actor) -> Context:
        return Context(actor, self.now, self.policy, self.calendar)

    def later(self, **delta: float) -> Desk:
        self.now += timedelta(**delta)
        return self

    def do(self, actor: Actor, command: str, **payload: Any) -> Ticket:
        event = decide(self.ticket, command, payload, self.ctx(actor))
        self.events.append(event)
        self.ticket = apply(self.ticket, event)
        return self.ticket

    def dispatched(self, unit: Actor = CITY_MGMT, **payload: Any) -> Desk:
        self.do(AGENT, "dispatch", unit=unit.unit, **payload)
        return self

    def signed(self, unit: Actor = CITY_MGMT) -> Desk:
        self.dispatched(unit).do(unit, "sign")
        return self

    def replied(self, unit: Actor = CITY_MGMT) -> Desk:
        self.do(unit, "reply", text="已约谈店主，安装油烟净化器")
        self.do(SUPERVISOR, "approve_reply")
        return self


# Random steps for the property tests: mostly legal commands by entitled people, sometimes anything.
ACTORS = [AGENT, SUPERVISOR, CITY_MGMT, MARKET]

payloads = st.fixed_dictionaries(
    {
        "reason": st.sampled_from(["理由", "理由", "理由", ""]),
        "text": st.sampled_from(["已处理", "已处理", "已处理", ""]),
        "result": st.sampled_from(["满意", "基本满意", "不满意", "不满意", "未联系上", "?"]),
        "unit_fault": st.booleans(),
    },
    optional={
        "unit": st.sampled_from(["cgj", "scjg"]),
        "assist_units": st.lists(st.sampled_from(["cgj", "scjg", "water"]), max_size=2),
        "answer": st.just("已解答"),
        "verdict": st.sampled_from(["reasonable", "unreasonable", "x"]),
        "rejection": st.sampled_from(["emergency", "repeated", "nope"]),
        "into": st.sampled_from(["T0", "T1"]),
        "urgent": st.booleans(),
        "complex": st.booleans(),
    },
)


def step(data: st.DataObject, ticket: Ticket) -> tuple[str, Actor, dict, int]:
    """Mostly a command the current status allows, by someone entitled to it; sometimes anything."""
    legal = sorted(c for c, rule in RULES.items() if ticket.status in rule.sources)
    if legal and data.draw(st.integers(0, 9)) < 8:
        command = data.draw(st.sampled_from(legal))
        role = data.draw(st.sampled_from(sorted(RULES[command].roles)))
        lead = CITY_MGMT if ticket.lead_unit == CITY_MGMT.unit else MARKET
        actor = {AGENT.role: AGENT, SUPERVISOR.role: SUPERVISOR}.get(role) or data.draw(
            st.sampled_from([lead, lead, lead, CITY_MGMT, MARKET])
        )
        if actor.role != role:
            actor = SUPERVISOR
    else:
        command, actor = data.draw(st.sampled_from(sorted(RULES))), data.draw(st.sampled_from(ACTORS))
    return command, actor, data.draw(payloads), data.draw(st.integers(0, 60))
