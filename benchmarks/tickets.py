"""Ticket store: lifecycle throughput and the KPI report over a million tickets, on SQLite and PostgreSQL.

Figures are ratios against baselines measured in the same run on the same database:

- lifecycle: transactions per second through the ticket desk (decide, apply,
  snapshot, event, facts, all in one transaction) against bare one-row insert
  transactions. The ratio is the share of the database's raw commit rate the
  workflow keeps.
- KPI: the full KPI report (by unit, one year) against a plain ``count(*)``
  over the same rows: how many plain counts one report costs.

The million tickets are snapshots made by the real workflow (a few hundred
distinct histories, renumbered, respread over 2026 and over units) and bulk
inserted; the KPI report reads only the tickets table, so their events are
not generated.

``python -m benchmarks.tickets [--tickets N] [--flows N] [--db sqlite|postgresql|both]``
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from benchmarks.databases import add_database_choice, run_on, timed
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.runtime.db import create_engine
from hotline.schema import bring_up_to_date
from hotline.ticketing.kpi import Period
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import row_values
from hotline.ticketing.tables import AuditRow, TicketRow
from hotline.ticketing.workflow import Ticket

TZ = ZoneInfo("Asia/Shanghai")
AGENT = Actor("bench-agent", Role.AGENT)
SUPERVISOR = Actor("bench-supervisor", Role.SUPERVISOR)
UNITS = ["cgj", "scjg", "zjj", "rsj", "water", "power", "jtj", "wjj", "hbj", "mzj"]
INTAKE = {
    "type": "投诉",
    "description": "楼下饭店油烟很大，晚上十点后还在营业，影响休息",
    "category": "urban.environment",
    "region": "zj.majiadian.c01",
    "caller_name": "张三",
    "caller_phone": "13800138000",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

    def __call__(self) -> datetime:
        return self.now


async def lifecycle(desk: TicketDesk, flows: int) -> tuple[float, list[Ticket]]:
    """Run ``flows`` tickets from intake to archive (6 transactions each); returns transactions/s."""
    started = time.perf_counter()
    finished = []
    rng = random.Random(7)
    for index in range(flows):
        unit = UNITS[index % len(UNITS)]
        clerk = Actor(f"bench-{unit}", Role.UNIT, unit)
        view, _ = await desk.take_in(INTAKE, AGENT)
        number = view["number"]
        await desk.act(number, "dispatch", {"unit": unit}, AGENT)
        desk.clock.now += timedelta(hours=rng.choice([1, 2, 30, 200]))
        await desk.act(number, "sign", {}, clerk)
        await desk.act(number, "reply", {"text": "已处理"}, clerk)
        await desk.act(number, "approve_reply", {}, SUPERVISOR)
        result = rng.choice(["满意", "满意", "基本满意", "不满意", "未联系上"])
        await desk.act(number, "record_callback", {"result": result, "unit_fault": True}, AGENT)
        finished.append(await desk.store.get(number))
    return flows * 6 / (time.perf_counter() - started), finished


async def bare_inserts(desk: TicketDesk, count: int, number: str) -> float:
    """The database's own pace: one-row insert transactions, no workflow."""
    started = time.perf_counter()
    for _ in range(count):
        async with desk.store.writes.begin() as session:
            await session.execute(
                insert(AuditRow).values(
                    at=desk.clock(),
                    user_name="bench",
                    role="admin",
                    unit_code=None,
                    ticket_number=number,
                    fields="",
                )
            )
    return count / (time.perf_counter() - started)


async def bulk_load(desk: TicketDesk, templates: list[Ticket], total: int) -> float:
    """Insert ``total`` tickets renumbered from the templates; returns seconds taken."""
    rng = random.Random(11)
    started = time.perf_counter()
    year_start = datetime(2026, 1, 1, tzinfo=TZ)
    batch = []
    for index in range(total):
        template = rng.choice(templates)
        accepted = year_start + timedelta(seconds=rng.randrange(364 * 86400))
        shift = accepted - template.accepted_at
        ticket = dataclasses.replace(
            template,
            number=f"B{index:012d}",
            accepted_at=accepted,
            lead_unit=rng.choice(UNITS),
            handling_due=template.handling_due + shift if template.handling_due else None,
            completed_at=template.completed_at + shift if template.completed_at else None,
        )
        batch.append(row_values(ticket))
        if len(batch) == 5000:
            await _insert(desk, batch)
            batch = []
    if batch:
        await _insert(desk, batch)
    return time.perf_counter() - started


async def _insert(desk: TicketDesk, rows: list[dict]) -> None:
    async with desk.store.writes.begin() as session:
        await session.execute(insert(TicketRow), rows)


async def run(url: str, name: str, tickets: int, flows: int) -> None:
    engine = create_engine(url)
    await bring_up_to_date(engine)
    desk = TicketDesk(engine, load_policy("zhijiang"), clock=Clock())
    await desk.start()
    ours, finished = await lifecycle(desk, flows)
    raw = await bare_inserts(desk, flows * 6, finished[0].number)
    print(
        f"[{name}] lifecycle: {ours:,.0f} transactions/s through the desk, {raw:,.0f}/s bare inserts: "
        f"ratio {ours / raw:.2f}"
    )
    seconds = await bulk_load(desk, finished, tickets)
    print(f"[{name}] loaded {tickets:,} tickets in {seconds:.1f} s ({tickets / seconds:,.0f}/s)")
    period = Period(datetime(2026, 1, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ), desk.clock())

    async def report() -> None:
        await desk.store.kpi_counts("unit", period)

    async def plain_count() -> None:
        async with desk.store.sessions() as session:
            await session.execute(
                select(func.count()).where(
                    TicketRow.accepted_at >= period.start, TicketRow.accepted_at < period.end
                )
            )

    kpi_seconds, count_seconds = await timed(report), await timed(plain_count)
    rows = await desk.kpi_report("unit", date(2026, 1, 1), date(2027, 1, 1))
    accepted = sum(row["accepted"] for row in rows)
    print(
        f"[{name}] KPI report by unit over {accepted:,} tickets: {kpi_seconds:.2f} s; plain count "
        f"{count_seconds:.2f} s: ratio {kpi_seconds / count_seconds:.1f}"
    )
    await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--flows", type=int, default=500)
    add_database_choice(parser)
    args = parser.parse_args(argv)
    run_on(args.db, lambda url, name: run(url, name, args.tickets, args.flows), "bench")


if __name__ == "__main__":
    main()
