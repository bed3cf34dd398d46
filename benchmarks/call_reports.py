"""Call reports over a year of a 200-seat centre (about 3 million calls), on SQLite and PostgreSQL.

Each report is timed against a plain ``count(*)`` over the same days on the
same database, measured in the same run: the ratio says how many plain counts
one report costs. The seconds are printed too, since the issue asks for
"within seconds".

The year is synthetic but shaped like a hotline's: calls between 08:00 and
22:00, most answered, some abandoned (a few within seconds), callbacks,
voicemails and emergency transfers; every answered call has its offer, some
offers were missed; each agent has a day of state intervals on each working
day.

``python -m benchmarks.call_reports [--calls N] [--agents N] [--db sqlite|postgresql|both]``
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.databases import add_database_choice, run_on, timed
from hotline.kernel.runtime.db import create_engine
from hotline.reports.book import RecordBook
from hotline.reports.figures import GroupBy, buckets
from hotline.reports.store import RecordStore
from hotline.reports.tables import AgentIntervalRow, CallLegRow, CallRecordRow
from hotline.schema import bring_up_to_date

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = date(2026, 1, 1), date(2026, 12, 31)
LINES = ["12345", "12315", "12333", "12319", "12369", "96310"]
SKILLS = ["general", "market", "labour", "housing", "transport", "elderly"]
OUTCOMES = [
    ("answered", 0.86),
    ("abandoned", 0.08),
    ("callback", 0.03),
    ("voicemail", 0.02),
    ("emergency", 0.01),
]
BATCH = 10_000


def year_of_calls(calls: int, agents: int, rng: random.Random):
    """Yields (record, leg or None) rows, in arrival order over the year."""
    start = datetime(2026, 1, 1, 8, tzinfo=ZONE).timestamp()
    days = (YEAR[1] - YEAR[0]).days + 1
    outcomes, weights = zip(*OUTCOMES, strict=True)
    for index in range(calls):
        arrived = start + (index * days // calls) * 86400 + rng.uniform(0, 14 * 3600)
        outcome = rng.choices(outcomes, weights)[0]
        agent = f"{1000 + rng.randrange(agents)}" if outcome == "answered" else ""
        wait = rng.expovariate(1 / 12) if outcome in ("answered", "abandoned", "callback") else None
        talk = rng.uniform(60, 400) if outcome == "answered" else None
        ended = arrived + 5 + (wait or 0) + (talk or rng.uniform(5, 60))
        record = {
            "call_id": f"bench-{index}",
            "line": LINES[index % len(LINES)],
            "caller_number": f"138{rng.randrange(10**8):08d}",
            "arrived_at": datetime.fromtimestamp(arrived, UTC),
            **buckets(arrived, ZONE),
            "skill": rng.choice(SKILLS) if wait is not None else "",
            "priority": "normal",
            "queued_at": datetime.fromtimestamp(arrived + 5, UTC) if wait is not None else None,
            "offers": 1 if agent else 0,
            "agent": agent,
            "answered_at": datetime.fromtimestamp(arrived + 5 + wait, UTC) if agent and wait else None,
            "wait_seconds": wait,
            "talk_seconds": talk,
            "wrap_seconds": rng.uniform(10, 60) if agent else 0.0,
            "outcome": outcome,
            "ended_at": datetime.fromtimestamp(ended, UTC),
            "ended_by": rng.choice(("caller", "agent")),
            "cause": "Normal Clearing",
            "emergency_number": "110" if outcome == "emergency" else "",
            "callback_at": datetime.fromtimestamp(ended + 600, UTC) if outcome == "callback" else None,
            "callback_agent": "",
            "transfers": 0,
        }
        leg = None
        if agent:
            leg = {
                "call_id": record["call_id"],
                "seq": 1,
                "agent": agent,
                "offered_at": record["queued_at"],
                "day": record["day"],
                "answered_at": record["answered_at"],
                "result": "answered",
            }
        yield record, leg


def intervals(agents: int, rng: random.Random):
    """A working day per agent per weekday: ready, talking and wrap-up turns, a lunch break, signed out."""
    day = YEAR[0]
    while day <= YEAR[1]:
        if day.weekday() < 5:
            for n in range(agents):
                at = datetime(day.year, day.month, day.day, 8, tzinfo=ZONE).timestamp() + rng.uniform(0, 600)
                plan = [("ready", ""), ("talking", ""), ("wrap_up", ""), ("ready", ""), ("break", "用餐")]
                plan += [("ready", ""), ("talking", ""), ("wrap_up", ""), ("ready", ""), ("logged_out", "")]
                for state, reason in plan:
                    length = 3600.0 if state == "break" else rng.uniform(300, 3000)
                    ended = None if state == "logged_out" and day == YEAR[1] else at + length
                    yield {
                        "agent": f"{1000 + n}",
                        "state": state,
                        "break_reason": reason,
                        "call_id": "",
                        "started": at,
                        "ended": ended,
                    }
                    at += length
        day += timedelta(days=1)


async def load(engine: AsyncEngine, calls: int, agents: int) -> tuple[float, int]:
    rng = random.Random(7)
    started = time.perf_counter()
    records: list[dict] = []
    legs: list[dict] = []
    spans: list[dict] = []

    async def flush() -> None:
        async with engine.begin() as connection:
            for table, rows in ((CallRecordRow, records), (CallLegRow, legs), (AgentIntervalRow, spans)):
                if rows:
                    await connection.execute(insert(table), rows)
                    rows.clear()

    for record, leg in year_of_calls(calls, agents, rng):
        records.append(record)
        if leg is not None:
            legs.append(leg)
        if len(records) >= BATCH:
            await flush()
    count = 0
    for interval in intervals(agents, rng):
        spans.append(interval)
        count += 1
        if len(spans) >= BATCH:
            await flush()
    await flush()
    return time.perf_counter() - started, count


async def run(url: str, name: str, calls: int, agents: int) -> None:
    engine = create_engine(url)
    await bring_up_to_date(engine)
    seconds, spans = await load(engine, calls, agents)
    print(f"[{name}] loaded {calls:,} calls and {spans:,} agent intervals in {seconds:.0f} s")
    now = datetime(2026, 12, 31, 20, tzinfo=ZONE).timestamp()
    book = RecordBook(RecordStore(engine, ZONE), set(LINES), publish=_nowhere, clock=lambda: now)

    async def plain_count(first: date, last: date) -> None:
        async with engine.connect() as connection:
            query = select(func.count()).where(
                CallRecordRow.day >= first.isoformat(), CallRecordRow.day <= last.isoformat()
            )
            await connection.execute(query)

    month = date(2026, 12, 1), YEAR[1]
    cases = [
        ("year by month", GroupBy.MONTH, YEAR),
        ("year by day", GroupBy.DAY, YEAR),
        ("year by skill", GroupBy.SKILL, YEAR),
        ("year by agent", GroupBy.AGENT, YEAR),
        ("December by hour", GroupBy.HOUR, month),
        ("December by agent", GroupBy.AGENT, month),
    ]
    for label, by, (first, last) in cases:
        report = await timed(lambda by=by, first=first, last=last: book.report(by, first, last))
        count = await timed(lambda first=first, last=last: plain_count(first, last))
        rows = await book.report(by, first, last)
        offered = sum(int(row["offered"]) for row in rows) if by is not GroupBy.AGENT else len(rows)
        what = f"{offered:,} calls" if by is not GroupBy.AGENT else f"{offered} agents"
        print(
            f"[{name}] {label} ({what}, {len(rows)} rows): {report:.2f} s; plain count {count:.3f} s: "
            f"ratio {report / count:.1f}"
        )
    live = await timed(book.live)
    today = await timed(lambda: plain_count(YEAR[1], YEAR[1]))
    print(
        f"[{name}] the wallboard's live figures: {live:.3f} s; "
        f"today's plain count {today:.4f} s: ratio {live / today:.0f}"
    )
    await engine.dispose()


async def _nowhere(event: dict[str, object]) -> None:
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3_000_000)
    parser.add_argument("--agents", type=int, default=200)
    add_database_choice(parser)
    args = parser.parse_args(argv)
    run_on(args.db, lambda url, name: run(url, name, args.calls, args.agents), "bench_calls")


if __name__ == "__main__":
    main()
