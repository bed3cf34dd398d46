"""Call records in the database: written in batches by one writer, summed in SQL for the reports.

The writer is the controller's record book (``reports/book.py``), so no two
writes race; a record is updated where it lies, or inserted when it is new.
Reports group by an indexed column and sum with ``CASE``, which SQLite and
PostgreSQL read the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.kernel.runtime.db import writer
from hotline.reports.figures import (
    ANSWER_WITHIN_SECONDS,
    SATISFIED_RATINGS,
    SHORT_ABANDON_SECONDS,
    SUMS,
    DayCall,
    GroupBy,
    buckets,
    moment,
)
from hotline.reports.records import (
    CallbackMade,
    CallRecord,
    Change,
    Interval,
    Leg,
    LegKind,
    Outcome,
    RecordingFiled,
    WrapUpEnded,
    disposition,
)
from hotline.reports.tables import AgentIntervalRow, CallLegRow, CallRecordRow

R, L, A = CallRecordRow, CallLegRow, AgentIntervalRow


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, value), else_=0.0)), 0.0)


ANSWERED = R.outcome == Outcome.ANSWERED.value
ABANDONED = R.outcome == Outcome.ABANDONED.value
#: A call not over, with nothing decided yet: no rate counts it until it has an outcome.
IN_PROGRESS = R.outcome == Outcome.IN_PROGRESS.value
QUEUED = R.queued_at.is_not(None)
#: In the order of ``figures.SUMS``.
SUM_COLUMNS: tuple[ColumnElement[Any], ...] = (
    func.count(),
    _count(or_(and_(QUEUED, ~IN_PROGRESS), ANSWERED)),
    _count(and_(QUEUED, IN_PROGRESS)),
    _count(ANSWERED),
    _count(and_(ANSWERED, R.wait_seconds <= ANSWER_WITHIN_SECONDS)),
    _count(ABANDONED),
    _count(and_(ABANDONED, R.wait_seconds < SHORT_ABANDON_SECONDS)),
    _total(ANSWERED, func.coalesce(R.wait_seconds, 0.0)),
    _total(ANSWERED, func.coalesce(R.talk_seconds, 0.0) + R.wrap_seconds),
    _count(R.outcome == Outcome.CALLBACK.value),
    _count(R.callback_at.is_not(None)),
    _count(R.outcome == Outcome.VOICEMAIL.value),
    _count(R.outcome == Outcome.EMERGENCY.value),
    func.coalesce(func.sum(R.transfers), 0),
    func.coalesce(func.sum(R.conferences), 0),
    _count(R.rating != ""),
    _count(R.rating.in_(SATISFIED_RATINGS)),
)

GROUP_COLUMN = {
    GroupBy.HOUR: R.hour,
    GroupBy.DAY: R.day,
    GroupBy.WEEK: R.week,
    GroupBy.MONTH: R.month,
    GroupBy.LINE: R.line,
    GroupBy.SKILL: R.skill,
    GroupBy.AGENT: R.agent,
}


class RecordStore:
    def __init__(self, engine: AsyncEngine, zone: tzinfo) -> None:
        self.engine = engine
        self.writes = writer(engine)
        self.zone = zone

    # -- writing -------------------------------------------------------------------

    async def apply(self, changes: Sequence[Change]) -> None:
        """One transaction; a record or leg changed twice in the batch is written once, as it ends."""
        records = {c.call_id: c for c in changes if isinstance(c, CallRecord)}
        legs = {(c.call_id, c.seq): c for c in changes if isinstance(c, Leg)}
        async with self.writes.begin() as connection:
            for record in records.values():
                await self._put_record(connection, record)
            for leg in legs.values():
                await self._put_leg(connection, leg)
            for change in changes:
                if isinstance(change, Interval):
                    await self._put_interval(connection, change)
                elif isinstance(change, WrapUpEnded):
                    await connection.execute(
                        update(R).where(R.call_id == change.call_id).values(wrap_seconds=change.seconds)
                    )
                elif isinstance(change, CallbackMade):
                    await connection.execute(
                        update(R)
                        .where(R.call_id == change.call_id)
                        .values(callback_at=moment(change.at), callback_agent=change.agent)
                    )
                elif isinstance(change, RecordingFiled):
                    listed = case((R.recording_ids == "", ""), else_=R.recording_ids + ",")
                    await connection.execute(
                        update(R)
                        .where(R.call_id == change.call_id)
                        .values(recording_ids=listed + str(change.recording_id))
                    )

    async def _put_record(self, connection: AsyncConnection, record: CallRecord) -> None:
        values = {
            "line": record.line,
            "caller_number": record.caller_number,
            "skill": record.skill,
            "priority": record.priority,
            "queued_at": moment(record.queued_at),
            "offers": record.offers,
            "agent": record.agent,
            "answered_at": moment(record.answered_at),
            "wait_seconds": record.wait_seconds,
            "talk_seconds": record.talk_seconds,
            "outcome": record.outcome.value,
            "ended_at": moment(record.ended_at),
            "ended_by": record.ended_by,
            "cause": record.cause[:64],
            "emergency_number": record.emergency_number,
            "transfers": record.transfers,
            "conferences": record.conferences,
            "legs": record.legs,
            "rating": record.rating,
        }
        changed = await connection.execute(update(R).where(R.call_id == record.call_id).values(**values))
        if changed.rowcount == 0:
            await connection.execute(
                insert(R).values(
                    call_id=record.call_id,
                    arrived_at=moment(record.arrived_at),
                    **buckets(record.arrived_at, self.zone),
                    wrap_seconds=record.wrap_seconds,
                    callback_agent="",
                    recording_ids="",
                    **values,
                )
            )

    async def _put_leg(self, connection: AsyncConnection, leg: Leg) -> None:
        values = {  # a consult the agent's keys turned into a three-way call changes its kind and mode
            "kind": leg.kind.value,
            "mode": leg.mode,
            "answered_at": moment(leg.answered_at),
            "result": leg.result,
            "ended_at": moment(leg.ended_at),
        }
        changed = await connection.execute(
            update(L).where(L.call_id == leg.call_id, L.seq == leg.seq).values(**values)
        )
        if changed.rowcount == 0:
            await connection.execute(
                insert(L).values(
                    call_id=leg.call_id,
                    seq=leg.seq,
                    agent=leg.agent,
                    offered_at=moment(leg.offered_at),
                    day=buckets(leg.offered_at, self.zone)["day"],
                    target=leg.to,
                    **values,
                )
            )

    @staticmethod
    async def _put_interval(connection: AsyncConnection, interval: Interval) -> None:
        """Closing ends whatever is open for the agent (after a restart the fold may not know it)."""
        if interval.ended_at is not None:
            await connection.execute(
                update(A).where(A.agent == interval.agent, A.ended.is_(None)).values(ended=interval.ended_at)
            )
            return
        await connection.execute(
            insert(A).values(
                agent=interval.agent,
                state=interval.state,
                break_reason=interval.break_reason,
                call_id=interval.call_id,
                started=interval.started_at,
                ended=None,
            )
        )

    # -- what a previous controller left open --------------------------------------------

    async def open(self) -> tuple[list[CallRecord], list[Interval]]:
        async with self.engine.connect() as connection:
            calls = (await connection.execute(select(R).where(R.ended_at.is_(None)))).all()
            intervals = (await connection.execute(select(A).where(A.ended.is_(None)))).all()
        return [_record_of(row) for row in calls], [
            Interval(row.agent, row.state, row.break_reason, row.started, row.call_id) for row in intervals
        ]

    # -- reading -------------------------------------------------------------------

    async def sums(self, by: GroupBy, first: date, last: date) -> dict[str, dict[str, float]]:
        """Each group's sums (``figures.SUMS``) over the days ``first`` to ``last``, both included."""
        key = GROUP_COLUMN[by]
        query = (
            select(key, *SUM_COLUMNS)
            .where(R.day >= first.isoformat(), R.day <= last.isoformat())
            .group_by(key)
            .order_by(key)
        )
        if by is GroupBy.AGENT:
            query = query.where(R.agent != "")
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {str(row[0]): dict(zip(SUMS, (float(v) for v in row[1:]), strict=True)) for row in rows}

    async def sums_since(self, start: datetime) -> dict[str, float]:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(*SUM_COLUMNS).where(R.arrived_at >= start))).one()
        return dict(zip(SUMS, (float(v) for v in row), strict=True))

    async def offers(self, first: date, last: date) -> dict[str, dict[str, int]]:
        """Per agent: calls offered (their phone rang) and not answered."""
        query = (
            select(L.agent, func.count(), _count(L.result == "not_answered"))
            .where(L.day >= first.isoformat(), L.day <= last.isoformat(), L.kind == LegKind.OFFER.value)
            .group_by(L.agent)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row[0]: {"offered": int(row[1]), "not_answered": int(row[2])} for row in rows}

    async def agent_seconds(self, start: float, end: float, now: float) -> list[tuple[str, str, str, float]]:
        """(agent, state, break reason, seconds) within [start, end); an open interval lasts until now."""
        ended = func.coalesce(A.ended, now)
        clipped_end = case((ended < end, ended), else_=end)
        clipped_start = case((A.started > start, A.started), else_=start)
        query = (
            select(A.agent, A.state, A.break_reason, func.sum(clipped_end - clipped_start))
            .where(A.started < end, ended > start)
            .group_by(A.agent, A.state, A.break_reason)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [(row[0], row[1], row[2], float(row[3] or 0.0)) for row in rows]

    async def day_calls(self, day: date) -> dict[str, DayCall]:
        """A day's calls by call id, for the charts."""
        query = select(R.call_id, R.arrived_at, R.queued_at, R.answered_at, R.ended_at, R.outcome).where(
            R.day == day.isoformat()
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {
            row.call_id: DayCall(
                row.arrived_at.timestamp(),
                _seconds(row.queued_at),
                _seconds(row.answered_at or row.ended_at),
                row.outcome,
            )
            for row in rows
        }

    async def spans(self, state: str, start: float, end: float) -> list[tuple[float, float | None]]:
        """Every agent's intervals in ``state`` that overlap [start, end): (started, ended or None)."""
        query = select(A.started, A.ended).where(
            A.state == state, A.started < end, or_(A.ended.is_(None), A.ended > start)
        )
        async with self.engine.connect() as connection:
            return [(row.started, row.ended) for row in (await connection.execute(query)).all()]

    async def records(self, day: date, limit: int) -> list[dict[str, Any]]:
        """A day's call records, the newest first, each with its legs and its recordings' ids."""
        query = select(R).where(R.day == day.isoformat()).order_by(R.arrived_at.desc()).limit(limit)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
            legs_of: dict[str, list[dict[str, Any]]] = {row.call_id: [] for row in rows}
            legs = select(L).where(L.call_id.in_(list(legs_of))).order_by(L.seq)
            for leg in await connection.execute(legs):
                legs_of[leg.call_id].append({column: getattr(leg, column) for column in LEG_FIELDS})
        return [
            {
                **{column: getattr(row, column) for column in RECORD_FIELDS},
                "disposition": disposition(row.outcome, row.transfers, row.conferences),
                "recording_ids": [int(n) for n in row.recording_ids.split(",") if n],
                "legs": legs_of[row.call_id],
            }
            for row in rows
        ]


RECORD_FIELDS = (
    "call_id",
    "line",
    "caller_number",
    "arrived_at",
    "skill",
    "queued_at",
    "offers",
    "agent",
    "answered_at",
    "wait_seconds",
    "talk_seconds",
    "wrap_seconds",
    "outcome",
    "ended_at",
    "ended_by",
    "cause",
    "emergency_number",
    "callback_at",
    "callback_agent",
    "transfers",
    "conferences",
    "rating",
)
LEG_FIELDS = ("seq", "kind", "agent", "target", "mode", "offered_at", "answered_at", "result", "ended_at")


def _seconds(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _record_of(row: Any) -> CallRecord:
    """An open record as a previous controller left it, for the fold to carry on with."""
    queued_at, abandoned_at = _seconds(row.queued_at), None
    if row.outcome == Outcome.ABANDONED.value and queued_at is not None and row.wait_seconds is not None:
        abandoned_at = queued_at + row.wait_seconds  # the caller gave up before the hang-up was heard
    return CallRecord(
        call_id=row.call_id,
        line=row.line,
        caller_number=row.caller_number,
        arrived_at=row.arrived_at.timestamp(),
        skill=row.skill,
        priority=row.priority,
        queued_at=queued_at,
        offers=row.offers,
        agent=row.agent,
        answered_at=_seconds(row.answered_at),
        abandoned_at=abandoned_at,
        callback_requested=row.outcome == Outcome.CALLBACK.value,
        voicemail=row.outcome == Outcome.VOICEMAIL.value,
        emergency_number=row.emergency_number,
        transfers=row.transfers,
        conferences=row.conferences,
        legs=row.legs,
        rating=row.rating,
    )
