"""The ticket store on SQLite and a real PostgreSQL: nothing half-written, nothing lost, privacy by role."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

# The tables of other packages are part of the schema too.
import hotline.agents.tables
import hotline.kernel.api.users
import hotline.notices.tables
import hotline.recordings.tables  # noqa: F401
from hotline.kernel.runtime.db import Base
from hotline.ticketing.calendar import DayOverride
from hotline.ticketing.errors import TicketError
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from hotline.ticketing.tables import EventRow, TicketRow
from hotline.ticketing.vocabulary import Status
from hotline.ticketing.workflow import replay
from tests.integration.helpers import FUMES_COMPLAINT as COMPLAINT
from tests.unit.ticketing.desk import AGENT, SUPERVISOR
from tests.unit.ticketing.desk import CITY_MGMT as CITY

TZ = ZoneInfo("Asia/Shanghai")


async def count(engine, table) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(table))).scalar_one()


async def test_migrations_match_the_models(engine) -> None:
    def search_index(obj, name, kind, reflected, compare_to) -> bool:
        """The full-text index is made by hand in the migration (FTS5 / a GIN expression index)."""
        return not (name or "").startswith(("kb_fts", "ix_kb_articles_words"))

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"include_object": search_index})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_take_in_numbers_by_day_and_keeps_snapshot_equal_to_events(desk) -> None:
    first, created = await desk.take_in(COMPLAINT, AGENT)
    second, _ = await desk.take_in(COMPLAINT, AGENT)
    assert created and first["number"] == "20261102000001" and second["number"] == "20261102000002"
    assert first["status"] == "received" and first["intake"]["caller_phone"] == "13800138000"
    stored = await desk.store.get(first["number"])
    assert replay(await desk.store.events(first["number"])) == stored


async def test_bad_intake_writes_nothing(desk, engine) -> None:
    for bad, field in [
        ({**COMPLAINT, "category": "gossip"}, "category"),
        ({**COMPLAINT, "region": "mars"}, "region"),
        ({**COMPLAINT, "type": "x"}, "type"),
    ]:
        with pytest.raises(TicketError) as caught:
            await desk.take_in(bad, AGENT)
        assert caught.value.details["field"] == field and caught.value.status == 422
    assert await count(engine, TicketRow) == 0 and await count(engine, EventRow) == 0


async def test_forwarded_ticket_is_idempotent_on_the_senders_id(desk, engine) -> None:
    forwarded = {**COMPLAINT, "channel": "forward", "source": "yichang-12345", "external_id": "YC-2026-77"}
    results = await asyncio.gather(*(desk.take_in(forwarded, AGENT) for _ in range(5)))
    numbers = {view["number"] for view, _ in results}
    assert len(numbers) == 1 and sum(created for _, created in results) == 1
    assert await count(engine, TicketRow) == 1


async def test_full_lifecycle_and_unknown_units_refused(desk, engine) -> None:
    view, _ = await desk.take_in(COMPLAINT, AGENT)
    number = view["number"]
    with pytest.raises(TicketError) as caught:
        await desk.act(number, "dispatch", {"unit": "nosuch"}, AGENT)
    assert caught.value.error_id == "unknown-unit"
    assert (await desk.store.get(number)).status == Status.RECEIVED
    await desk.act(number, "dispatch", {"unit": "cgj", "assist_units": ["scjg"]}, AGENT)
    await desk.act(number, "sign", {}, CITY)
    await desk.act(number, "reply", {"text": "已责令整改"}, CITY)
    await desk.act(number, "approve_reply", {}, SUPERVISOR)
    done = await desk.act(number, "record_callback", {"result": "满意"}, AGENT)
    assert done["status"] == "archived"
    events = await desk.store.events(number)
    assert [e.kind for e in events] == [
        "received",
        "dispatched",
        "signed",
        "replied",
        "reply_approved",
        "callback_recorded",
    ]
    assert replay(events) == await desk.store.get(number)


async def test_concurrent_writers_lose_no_event(desk) -> None:
    view, _ = await desk.take_in(COMPLAINT, AGENT)
    number = view["number"]
    await desk.act(number, "dispatch", {"unit": "cgj"}, AGENT)
    await asyncio.gather(*(desk.act(number, "remind", {"reason": f"第{i}次"}, AGENT) for i in range(12)))
    ticket = await desk.store.get(number)
    assert ticket.reminders == 12 and ticket.version == 14
    assert len(await desk.store.events(number)) == 14
    results = await asyncio.gather(
        desk.act(number, "sign", {}, CITY), desk.act(number, "sign", {}, CITY), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], TicketError)
    assert errors[0].error_id == "illegal-transition"
    assert [e.kind for e in await desk.store.events(number)].count("signed") == 1


async def test_merge_links_both_tickets_or_neither(desk) -> None:
    primary, _ = await desk.take_in(COMPLAINT, AGENT)
    duplicate, _ = await desk.take_in(COMPLAINT, AGENT)
    found = await desk.duplicates(duplicate["number"], AGENT)
    assert [t["number"] for t in found] == [primary["number"]]
    await desk.act(duplicate["number"], "merge", {"into": primary["number"]}, AGENT)
    assert (await desk.store.get(primary["number"])).merged == (duplicate["number"],)
    assert (await desk.store.get(duplicate["number"])).status == Status.MERGED
    third, _ = await desk.take_in(COMPLAINT, AGENT)
    await desk.act(primary["number"], "reject", {"rejection": "repeated"}, AGENT)
    with pytest.raises(TicketError) as caught:
        await desk.act(third["number"], "merge", {"into": primary["number"]}, AGENT)
    assert caught.value.error_id == "merge-target-closed"
    assert (await desk.store.get(third["number"])).status == Status.RECEIVED
    with pytest.raises(TicketError) as caught:
        await desk.act(third["number"], "merge", {"into": "19990101000001"}, AGENT)
    assert caught.value.error_id == "not-found"
    assert (await desk.store.get(third["number"])).version == 1


async def test_units_see_only_their_tickets_masked_and_every_read_is_audited(desk) -> None:
    mine, _ = await desk.take_in(COMPLAINT, AGENT)
    report, _ = await desk.take_in({**COMPLAINT, "type": "举报", "description": "某店销售过期食品"}, AGENT)
    shared, _ = await desk.take_in({**COMPLAINT, "share_number": True}, AGENT)
    other, _ = await desk.take_in(COMPLAINT, AGENT)
    await desk.act(mine["number"], "dispatch", {"unit": "cgj"}, AGENT)
    await desk.act(report["number"], "dispatch", {"unit": "scjg", "assist_units": ["cgj"]}, AGENT)
    await desk.act(shared["number"], "dispatch", {"unit": "cgj"}, AGENT)
    await desk.act(other["number"], "dispatch", {"unit": "scjg"}, AGENT)

    listed = {t["number"] for t in await desk.list(CITY, TicketFilter())}
    assert listed == {mine["number"], report["number"], shared["number"]}
    assert all("intake" not in row for row in await desk.list(CITY, TicketFilter()))

    seen = await desk.show(mine["number"], CITY)
    assert seen["intake"]["caller_phone"] == "138****8000" and seen["intake"]["caller_name"] == "张三"
    assert all("intake" not in e["data"] for e in seen["events"])
    assert (await desk.show(shared["number"], CITY))["intake"]["caller_phone"] == "13800138000"
    hidden = await desk.show(report["number"], CITY)
    assert hidden["intake"]["caller_name"] == "（不公开）" and "13800138000" not in str(hidden)
    with pytest.raises(TicketError) as caught:
        await desk.show(other["number"], CITY)
    assert caught.value.error_id == "not-your-ticket"

    trail = await desk.audit_trail(mine["number"], SUPERVISOR)
    assert trail[0]["user"] == "城管局张三" and "caller_phone" in trail[0]["fields"]
    assert await desk.audit_trail(report["number"], SUPERVISOR) == []  # nothing personal was shown
    await desk.show(mine["number"], AGENT)
    assert len(await desk.audit_trail(mine["number"], SUPERVISOR)) == 1
    with pytest.raises(TicketError):
        await desk.audit_trail(mine["number"], AGENT)


async def test_confidential_tickets_only_for_named_roles(desk) -> None:
    secret, _ = await desk.take_in({**COMPLAINT, "confidential": True}, AGENT)
    with pytest.raises(TicketError) as caught:
        await desk.show(secret["number"], AGENT)
    assert caught.value.error_id == "confidential" and caught.value.status == 403
    assert (await desk.show(secret["number"], SUPERVISOR))["intake"]["caller_name"] == "张三"
    assert secret["number"] not in {t["number"] for t in await desk.list(AGENT, TicketFilter())}


async def test_routing_catalogue_suggests_the_most_specific_unit(desk) -> None:
    suggest = desk.directory.suggest_unit
    assert await suggest("urban.management", "zj.majiadian.c01") == "cgj.majiadian"
    assert await suggest("urban.management", "zj.dongshi") == "cgj"
    assert await suggest("market.food", "zj") == "scjg"  # inherited from the parent category
    assert await suggest("other", "zj.wenan") is None


async def test_emergency_categories_get_hour_deadlines(desk) -> None:
    view, _ = await desk.take_in({**COMPLAINT, "type": "求助", "category": "utilities.water"}, AGENT)
    assert view["urgent"] is True
    dispatched = await desk.act(view["number"], "dispatch", {"unit": "water"}, AGENT)
    assert dispatched["onsite_due"] == "2026-11-02T11:00:00+08:00"


async def test_calendar_overrides_persist_and_end_estimates(desk, engine) -> None:
    desk.clock.now = datetime(2026, 12, 30, 16, 0, tzinfo=TZ)
    view, _ = await desk.take_in(COMPLAINT, AGENT)
    estimated = await desk.act(view["number"], "dispatch", {"unit": "cgj"}, AGENT)
    assert estimated["estimated_years"] == [2027]
    await desk.store.set_calendar_days([DayOverride(date(2027, 1, 1), False, "元旦")], declare_year=2027)
    fresh = TicketDesk(engine, load_policy("zhijiang"), clock=desk.clock)
    await fresh.start()
    again, _ = await fresh.take_in(COMPLAINT, AGENT)
    known = await fresh.act(again["number"], "dispatch", {"unit": "cgj"}, AGENT)
    assert known["estimated_years"] == []
    assert datetime.fromisoformat(known["handling_due"]) == datetime.fromisoformat(
        estimated["handling_due"]
    ) + timedelta(days=1)


async def test_kpis_from_events_by_unit_with_csv(desk) -> None:
    async def ticket(**changes):
        view, _ = await desk.take_in({**COMPLAINT, **changes}, AGENT)
        return view["number"]

    async def run(number, *steps):
        for actor, command, payload in steps:
            await desk.act(number, command, payload, actor)

    on_time, late, extended, redo, overdue = [await ticket() for _ in range(5)]
    direct = await ticket(type="consult")
    await ticket()  # accepted, never dispatched
    finish = [(CITY, "reply", {"text": "已处理"}), (SUPERVISOR, "approve_reply", {})]
    await run(
        on_time,
        (AGENT, "dispatch", {"unit": "cgj"}),
        (CITY, "sign", {}),
        *finish,
        (AGENT, "record_callback", {"result": "满意"}),
    )
    await run(late, (AGENT, "dispatch", {"unit": "cgj"}), (CITY, "sign", {}))
    await run(
        extended,
        (AGENT, "dispatch", {"unit": "cgj"}),
        (CITY, "sign", {}),
        (CITY, "request_extension", {"reason": "复杂"}),
        (SUPERVISOR, "approve_extension", {}),
    )
    await run(
        redo,
        (AGENT, "dispatch", {"unit": "cgj"}),
        (CITY, "sign", {}),
        *finish,
        (AGENT, "record_callback", {"result": "不满意", "unit_fault": True}),
    )
    await run(overdue, (AGENT, "dispatch", {"unit": "scjg"}))
    await run(
        direct, (AGENT, "answer", {"answer": "已解答"}), (AGENT, "record_callback", {"result": "未联系上"})
    )
    desk.clock.now += timedelta(days=14)
    await run(late, *finish)
    await run(extended, *finish, (AGENT, "record_callback", {"result": "不满意", "reason": "非单位责任"}))

    rows = {row["group"]: row for row in await desk.kpi_report("unit", date(2026, 11, 1), date(2026, 12, 1))}
    cgj, scjg, none = rows["cgj"], rows["scjg"], rows[""]
    assert (cgj["accepted"], cgj["dispatched"], cgj["completed"]) == (4, 4, 3)
    # The redo is not 办结 until it is replied again; the extended one, replied just within its
    # extended deadline, counts as on time and as 一次办结.
    assert (cgj["completed_on_time"], cgj["completed_extended"], cgj["first_time"]) == (2, 1, 3)
    assert (cgj["surveyed"], cgj["satisfied"], cgj["satisfaction_rate"]) == (2, 1, 0.5)
    assert cgj["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert (scjg["overdue_open"], scjg["completed"], scjg["on_time_rate"]) == (1, 0, None)
    assert (none["accepted"], none["completed"], none["surveyed"]) == (2, 1, 0)
    total = (await desk.kpi_report("all", date(2026, 11, 1), date(2026, 12, 1)))[0]
    assert total["accepted"] == 7 and total["callback_rate"] == pytest.approx(2 / 4)
    assert await desk.kpi_report("unit", date(2026, 12, 1), date(2027, 1, 1)) == []
    from hotline.ticketing.kpi import to_csv

    csv_text = to_csv(rows.values(), "unit")
    assert csv_text.splitlines()[0].startswith("承办单位,受理量,转办量,办结量,延期办结量,超期未办结量")
    with pytest.raises(TicketError):
        await desk.kpi_report("weather", date(2026, 11, 1), date(2026, 12, 1))
