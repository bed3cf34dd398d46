"""The platform acts by itself, on both databases: hot items at intake; reminders, supervision on a sweep."""

from __future__ import annotations

from datetime import timedelta

from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from tests.integration.helpers import FUMES_COMPLAINT as COMPLAINT
from tests.unit.ticketing.desk import AGENT, SUPERVISOR
from tests.unit.ticketing.desk import CITY_MGMT as CITY


async def test_the_third_neighbour_reporting_the_same_smoke_makes_all_three_hot(desk) -> None:
    first, _ = await desk.take_in({**COMPLAINT, "caller_phone": "13900000001"}, AGENT)
    await desk.take_in({**COMPLAINT, "caller_phone": "13900000002"}, AGENT)
    await desk.take_in({**COMPLAINT, "caller_phone": "13900000002"}, AGENT)  # the same neighbour again
    elsewhere, _ = await desk.take_in(
        {**COMPLAINT, "caller_phone": "13900000009", "region": "zj.dongshi"}, AGENT
    )
    assert not (await desk.show(first["number"], SUPERVISOR))["hot"]
    third, _ = await desk.take_in({**COMPLAINT, "caller_phone": "13900000003"}, AGENT)
    assert third["hot"], "the ticket that tips the matter over is returned already hot"
    shown = await desk.show(first["number"], SUPERVISOR)
    assert shown["hot"]
    [marked] = [e for e in shown["events"] if e["kind"] == "marked_hot"]
    assert marked["actor"] == "system" and "3 位来电人" in marked["reason"]
    assert len([t for t in await desk.list(SUPERVISOR, _all()) if t["hot"]]) == 4
    assert not (await desk.show(elsewhere["number"], SUPERVISOR))["hot"]
    fourth, _ = await desk.take_in({**COMPLAINT, "caller_phone": "13900000004"}, AGENT)
    events = (await desk.show(first["number"], SUPERVISOR))["events"]
    assert fourth["hot"] and [e["kind"] for e in events].count("marked_hot") == 1


async def test_the_sweep_reminds_near_the_deadline_and_supervises_past_it_once_each(desk) -> None:
    taken, _ = await desk.take_in(COMPLAINT, AGENT)
    number = taken["number"]
    await desk.act(number, "dispatch", {"unit": "cgj"}, AGENT)
    await desk.act(number, "sign", {}, CITY)
    assert await desk.sweep() == []
    desk.clock.now += timedelta(days=4)  # Friday 09:00, due Monday 09:00
    [remind] = await desk.sweep()
    assert (remind.number, remind.command) == (number, "remind")
    assert await desk.sweep() == [], "a second sweep (or a second controller) changes nothing"
    desk.clock.now += timedelta(days=3, minutes=1)
    assert [a.command for a in await desk.sweep()] == ["supervise"]
    assert await desk.sweep() == []
    shown = await desk.show(number, SUPERVISOR)
    assert shown["supervised"] and shown["reminders"] == 1
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds.count("reminded") == 1 and kinds.count("supervised") == 1
    assert [row["number"] for row in await desk.list(SUPERVISOR, _overdue(desk))] == [number]


def _all() -> TicketFilter:
    return TicketFilter(limit=100)


def _overdue(desk: TicketDesk) -> TicketFilter:
    return TicketFilter(overdue_at=desk.clock(), limit=100)
