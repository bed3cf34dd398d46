"""Random command sequences never reach an impossible state, and no accepted event is lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.ticketing.errors import TicketError
from hotline.ticketing.vocabulary import Status
from hotline.ticketing.workflow import FOLDS, RULES, replay

from .desk import Desk, step

AT_A_UNIT = {Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURN_REQUESTED, Status.REPLIED}


@settings(max_examples=400, deadline=None)
@given(preset=st.sampled_from(["zhijiang", "yunnan", "yingkou"]), data=st.data())
def test_random_sequences_keep_the_ticket_consistent(preset: str, data: st.DataObject) -> None:
    desk = Desk(preset)
    for _ in range(data.draw(st.integers(0, 40))):
        command, actor, payload, hours = step(data, desk.ticket)
        desk.later(hours=hours)
        before = desk.ticket
        try:
            desk.do(actor, command, **payload)
        except TicketError as error:
            assert desk.ticket == before and 400 <= error.status < 500
            continue
        ticket = desk.ticket
        rule = RULES[command]
        assert desk.events[-1].kind == rule.event, "the command table names the event each command records"
        if rule.to is not None:
            assert ticket.status == rule.to, f"{command} leads to {rule.to}, says the table"
        elif not rule.by_outcome:
            assert ticket.status == before.status, f"{command} leaves the ticket where it is, says the table"
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


def test_every_event_a_command_records_has_a_fold_and_no_fold_is_stale():
    recorded = {rule.event for rule in RULES.values()} | {"received", "absorbed"}
    assert recorded == set(FOLDS) | {"received"}
