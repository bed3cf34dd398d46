"""Migration 0002 keeps its own copy of the KPI facts; it must agree with the live code on every ticket."""

import importlib.util
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.ticketing.errors import TicketError
from hotline.ticketing.kpi import facts
from hotline.ticketing.workflow import ticket_to_json

from .desk import Desk, step

MIGRATION = Path(__file__).resolve().parents[3] / "hotline/migrations/versions/0002_ticket_kpi_facts.py"


def frozen_facts():
    spec = importlib.util.spec_from_file_location("migration_0002", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._facts


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_frozen_facts_equal_the_live_ones(data: st.DataObject) -> None:
    desk, migrated = Desk(), frozen_facts()
    for _ in range(data.draw(st.integers(0, 30))):
        command, actor, payload, hours = step(data, desk.ticket)
        desk.later(hours=hours)
        try:
            desk.do(actor, command, **payload)
        except TicketError:
            continue
        assert migrated(ticket_to_json(desk.ticket)) == facts(desk.ticket)
