"""Random command sequences never reach an impossible state, and no accepted event is lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ticketing.errors import TicketError
from ticketing.vocabulary import Status
from ticketing.workflow import RULES, replay

from .desk import AGENT, CITY_MGMT, MARKET, SUPERVISOR, Desk

ACTORS = [AGENT, SUPERVISOR, CITY_MGMT, MARKET]
AT_A_UNIT = {Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURN_REQUESTED, Status.REPLIED}

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


def step(data: st.DataObject, desk: Desk) -> tuple[str, object, dict, int]:
    """Mostly a command the current status allows, by someone entitled to it; sometimes anything."""
    legal = sorted(c for c, rule in RULES.items() if desk.ticket.status in rule.sources)
    if legal and data.draw(st.integers(0, 9)) < 8:
        command = data.draw(st.sampled_from(legal))
        role = data.draw(st.sampled_from(sorted(RULES[command].roles)))
        lead = CITY_MGMT if desk.ticket.lead_unit == CITY_MGMT.unit else MARKET
        actor = {AGENT.role: AGENT, SUPERVISOR.role: SUPERVISOR}.get(role) or data.draw(
            st.sampled_from([lead, lead, lead, CITY_MGMT, MARKET])
        )
        if actor.role != role:
            actor = SUPERVISOR
    else:
        command, actor = data.draw(st.sampled_from(sorted(RULES))), data.draw(st.sampled_from(ACTORS))
    return command, actor, data.draw(payloads), data.draw(st.integers(0, 60))


@settings(max_examples=400, deadline=None)
@given(preset=st.sampled_from(["zhijiang", "yunnan", "yingkou"]), data=st.data())
def test_random_sequences_keep_the_ticket_consistent(preset: str, data: st.DataObject) -> None:
    desk = Desk(preset)
    for _ in range(data.draw(st.integers(0, 40))):
        command, actor, payload, hours = step(data, desk)
        desk.later(hours=hours)
        before = desk.ticket
        try:
            desk.do(actor, command, **payload)
        except TicketError as error:
            assert desk.ticket == before and 400 <= error.status < 500
            continue
        ticket = desk.ticket
        assert before.status != Status.ARCHIVED, "an archived ticket accepted a command"
        assert ticket.version == len(desk.events)
        if ticket.status in AT_A_UNIT:
            assert ticket.lead_unit and ticket.handling_due
        assert ticket.extensions_granted <= desk.policy.extension_max
        if ticket.status == Status.UNDER_EVALUATION:
            assert ticket.redo_count >= 1
        if ticket.status == Status.NOT_ACCEPTED:
            assert ticket.lead_unit is None and ticket.rejection
        if desk.events[-1].kind == "extension_approved":
            assert ticket.handling_due > before.handling_due
    assert replay(desk.events) == desk.ticket
