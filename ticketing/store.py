"""The ticket store: each change is one transaction that appends the event and moves the snapshot.

Concurrency is optimistic: the snapshot is updated only where its version is
still the one the decision was made on, and ``(ticket, seq)`` is unique, so two
writers can never both append event N. The loser re-reads and decides again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.kernel.api.identity import Role
from hotline.kernel.runtime.db import writer
from hotline.ticketing.calendar import DayOverride
from hotline.ticketing.errors import TicketError, not_found
from hotline.ticketing.kpi import AT_UNIT, Period, facts
from hotline.ticketing.tables import (
    AssistRow,
    AuditRow,
    CalendarDayRow,
    CalendarYearRow,
    CallLinkageRow,
    CallRatingRow,
    CounterRow,
    EventRow,
    TicketCallRow,
    TicketRow,
)
from hotline.ticketing.vocabulary import Channel, Status
from hotline.ticketing.workflow import (
    Context,
    Event,
    Intake,
    Ticket,
    absorbed,
    apply,
    decide,
    receive,
    ticket_from_json,
    ticket_to_json,
)

RETRIES = 5


class _Stale(Exception):
    """Someone else changed the ticket between our read and our write."""


@dataclass(frozen=True)
class TicketFilter:
    status: Status | None = None
    unit: str | None = None
    category: str | None = None
    region: str | None = None
    channel: Channel | None = None
    caller_phone: str | None = None
    overdue_at: datetime | None = None
    accepted_from: datetime | None = None
    accepted_to: datetime | None = None
    limit: int = 50
    offset: int = 0


class TicketStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)

    # ------------------------------------------------------------------ writing

    async def create(self, intake: Intake, ctx: Context) -> tuple[Ticket, bool]:
        """Take in a ticket; a repeat of the same ``(source, external_id)`` returns the first one."""
        for _ in range(RETRIES):
            if intake.external_id:
                existing = await self.find_external(intake.source, intake.external_id)
                if existing:
                    return existing, False
            try:
                async with self.writes.begin() as session:
                    number = await self._next_number(session, ctx)
                    event = receive(intake, number, ctx)
                    ticket = apply(None, event)
                    session.add(TicketRow(**row_values(ticket)))
                    await session.flush()
                    session.add(_event_row(ticket.number, 1, event))
                    if intake.call_id:
                        session.add(TicketCallRow(ticket_number=ticket.number, call_id=intake.call_id))
                return ticket, True
            except IntegrityError:
                continue  # a racing duplicate from the same sender, or a number race: look again
        raise TicketError("conflict", "could not store the ticket; try again", 503)

    async def act(self, number: str, command: str, payload: dict[str, Any], ctx: Context) -> Ticket:
        for _ in range(RETRIES):
            try:
                async with self.writes.begin() as session:
                    ticket = await self._load(session, number, lock=True)
                    event = decide(ticket, command, payload, ctx)
                    updated = await self._append(session, ticket, event)
                    if event.kind == "merged":
                        primary = await self._load(session, event.data["into"], lock=True)
                        await self._append(session, primary, absorbed(primary, number, ctx))
                return updated
            except (_Stale, IntegrityError):
                continue
        raise TicketError("conflict", f"工单 {number} 正被他人修改，请重试", 409)

    async def _append(self, session: AsyncSession, ticket: Ticket, event: Event) -> Ticket:
        updated = apply(ticket, event)
        result = await session.execute(
            update(TicketRow)
            .where(TicketRow.number == ticket.number, TicketRow.version == ticket.version)
            .values(**row_values(updated))
        )
        if result.rowcount != 1:
            raise _Stale
        session.add(_event_row(ticket.number, updated.version, event))
        if updated.assist_units != ticket.assist_units:
            await session.execute(delete(AssistRow).where(AssistRow.ticket_number == ticket.number))
            session.add_all(AssistRow(ticket_number=ticket.number, unit_code=u) for u in updated.assist_units)
        await session.flush()
        return updated

    async def _load(self, session: AsyncSession, number: str, *, lock: bool = False) -> Ticket:
        """Read the snapshot; ``lock`` makes PostgreSQL writers queue (SQLite has one writer anyway)."""
        row = await session.get(TicketRow, number, with_for_update=lock, populate_existing=lock)
        if row is None:
            raise not_found("ticket", number)
        return ticket_from_json(row.state)

    async def _next_number(self, session: AsyncSession, ctx: Context) -> str:
        day = ctx.now.strftime("%Y%m%d")
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(CounterRow)
            .values(day=day, last=1)
            .on_conflict_do_update(index_elements=[CounterRow.day], set_={"last": CounterRow.last + 1})
            .returning(CounterRow.last)
        )
        last = (await session.execute(statement)).scalar_one()
        return f"{day}{last:06d}"

    # ------------------------------------------------------------------ reading

    async def get(self, number: str) -> Ticket:
        async with self.sessions() as session:
            return await self._load(session, number)

    async def find_external(self, source: str, external_id: str) -> Ticket | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(TicketRow.state).where(
                        TicketRow.source == source, TicketRow.external_id == external_id
                    )
                )
            ).scalar_one_or_none()
        return None if row is None else ticket_from_json(row)

    async def events(self, number: str) -> list[Event]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(EventRow).where(EventRow.ticket_number == number).order_by(EventRow.seq)
                )
            ).scalars()
            return [_event_of(row) for row in rows]

    async def last_event_id(self) -> int:
        async with self.sessions() as session:
            return (await session.execute(select(func.max(EventRow.id)))).scalar_one_or_none() or 0

    async def events_after(self, after_id: int, limit: int = 200) -> list[tuple[int, str, Event]]:
        """Every ticket's events in the order they were written, after ``after_id`` (for followers)."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(EventRow).where(EventRow.id > after_id).order_by(EventRow.id).limit(limit)
                )
            ).scalars()
            return [(row.id, row.ticket_number, _event_of(row)) for row in rows]

    async def list(self, where: TicketFilter) -> list[Ticket]:
        query = select(TicketRow.state).order_by(TicketRow.accepted_at.desc(), TicketRow.number.desc())
        if where.status:
            query = query.where(TicketRow.status == where.status.value)
        if where.unit:
            assisted = select(AssistRow.ticket_number).where(AssistRow.unit_code == where.unit)
            query = query.where(or_(TicketRow.lead_unit == where.unit, TicketRow.number.in_(assisted)))
        if where.category:
            query = query.where(TicketRow.category_code == where.category)
        if where.region:
            query = query.where(TicketRow.region_code == where.region)
        if where.channel:
            query = query.where(TicketRow.channel == where.channel.value)
        if where.caller_phone:
            query = query.where(TicketRow.caller_phone == where.caller_phone)
        if where.overdue_at:
            query = query.where(
                TicketRow.handling_due < where.overdue_at,
                TicketRow.status.in_([Status.DISPATCHED.value, Status.IN_PROGRESS.value]),
            )
        if where.accepted_from:
            query = query.where(TicketRow.accepted_at >= where.accepted_from)
        if where.accepted_to:
            query = query.where(TicketRow.accepted_at < where.accepted_to)
        async with self.sessions() as session:
            rows = (await session.execute(query.limit(where.limit).offset(where.offset))).scalars()
            return [ticket_from_json(state) for state in rows]

    async def kpi_counts(self, group: str, period: Period) -> list[dict[str, Any]]:
        """One row of KPI counts per group, for tickets accepted in the period."""
        key = {
            "unit": func.coalesce(TicketRow.lead_unit, ""),
            "category": TicketRow.category_code,
            "region": TicketRow.region_code,
            "day": TicketRow.accepted_day,
            "month": func.substr(TicketRow.accepted_day, 1, 7),
            "all": literal("all"),
        }[group]
        completed = TicketRow.completed_at.is_not(None)

        def total(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        query = (
            select(
                key.label("group"),
                func.count().label("accepted"),
                total(TicketRow.dispatched).label("dispatched"),
                total(completed).label("completed"),
                total(TicketRow.extended).label("completed_extended"),
                total(TicketRow.status.in_(AT_UNIT) & (TicketRow.handling_due < period.as_of)).label(
                    "overdue_open"
                ),
                total(TicketRow.completed_on_time).label("completed_on_time"),
                total(TicketRow.first_time).label("first_time"),
                total(completed & (TicketRow.satisfaction != "")).label("surveyed"),
                total(completed & TicketRow.satisfaction.in_(["satisfied", "basically_satisfied"])).label(
                    "satisfied"
                ),
            )
            .where(TicketRow.accepted_at >= period.start, TicketRow.accepted_at < period.end)
            .group_by(key)
            .order_by(key)
        )
        async with self.sessions() as session:
            return [dict(row._mapping) for row in await session.execute(query)]

    # ------------------------------------------------------------------ audit and calendar

    async def record_read(
        self, at: datetime, user: str, role: Role, unit: str | None, number: str, fields: Sequence[str]
    ) -> None:
        async with self.writes.begin() as session:
            session.add(
                AuditRow(
                    at=at,
                    user_name=user,
                    role=role.value,
                    unit_code=unit,
                    ticket_number=number,
                    fields=",".join(fields),
                )
            )

    async def rate_call(self, call_id: str, rating: str, agent: str, at: datetime) -> None:
        """The first rating of a call stands; a repeat (a retried write) changes nothing."""
        async with self.writes.begin() as session:
            if await session.get(CallRatingRow, call_id) is None:
                session.add(CallRatingRow(call_id=call_id, rating=rating, agent=agent, rated_at=at))

    async def call_rating(self, call_id: str) -> CallRatingRow | None:
        async with self.sessions() as session:
            return await session.get(CallRatingRow, call_id)

    async def note_linkage(self, call_id: str, service: str, mode: str, agent: str, at: datetime) -> None:
        """The call's latest linkage stands (a three-way call that ends in a one-key transfer: a transfer)."""
        async with self.writes.begin() as session:
            row = await session.get(CallLinkageRow, call_id)
            if row is None:
                session.add(CallLinkageRow(call_id=call_id, service=service, mode=mode, agent=agent, at=at))
            else:
                row.service, row.mode, row.agent, row.at = service, mode, agent, at

    async def call_linkage(self, call_id: str) -> CallLinkageRow | None:
        async with self.sessions() as session:
            return await session.get(CallLinkageRow, call_id)

    async def link_call(self, number: str, call_id: str) -> None:
        """A call placed about the ticket; linking it again changes nothing."""
        async with self.writes.begin() as session:
            if await session.get(TicketCallRow, (number, call_id)) is None:
                session.add(TicketCallRow(ticket_number=number, call_id=call_id))

    async def calls_of(self, number: str) -> list[str]:
        async with self.sessions() as session:
            query = select(TicketCallRow.call_id).where(TicketCallRow.ticket_number == number)
            return sorted((await session.execute(query)).scalars())

    async def tickets_of_calls(self, call_ids: Sequence[str]) -> dict[str, str]:
        """Each call's ticket (its first, where a call is about several)."""
        query = (
            select(TicketCallRow.call_id, func.min(TicketCallRow.ticket_number))
            .where(TicketCallRow.call_id.in_(call_ids))
            .group_by(TicketCallRow.call_id)
        )
        async with self.sessions() as session:
            return {call_id: number for call_id, number in await session.execute(query)}

    async def calls_held(
        self, call_ids: Sequence[str], closed: Sequence[str], evidence_types: Sequence[str]
    ) -> set[str]:
        """Of these calls, those about a ticket not closed, or about a ticket of one of the evidence types."""
        query = (
            select(TicketCallRow.call_id)
            .join(TicketRow, TicketRow.number == TicketCallRow.ticket_number)
            .where(
                TicketCallRow.call_id.in_(call_ids),
                or_(TicketRow.status.not_in(closed), TicketRow.ticket_type.in_(evidence_types)),
            )
        )
        async with self.sessions() as session:
            return set((await session.execute(query)).scalars())

    async def audit_trail(self, number: str) -> list[dict[str, Any]]:
        """Who read which personal data of the ticket, and when (``at`` as the database hands it: UTC)."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(AuditRow).where(AuditRow.ticket_number == number).order_by(AuditRow.id)
                )
            ).scalars()
            return [
                {
                    "at": r.at,
                    "user": r.user_name,
                    "role": r.role,
                    "unit": r.unit_code,
                    "fields": r.fields.split(","),
                }
                for r in rows
            ]

    async def calendar_overrides(self) -> tuple[list[DayOverride], list[int]]:
        async with self.sessions() as session:
            days = (await session.execute(select(CalendarDayRow))).scalars()
            overrides = [DayOverride(d.day, d.is_workday, d.note) for d in days]
            years = list((await session.execute(select(CalendarYearRow.year))).scalars())
        return overrides, years

    async def set_calendar_days(self, days: Iterable[DayOverride], declare_year: int | None = None) -> None:
        async with self.writes.begin() as session:
            for day in days:
                await session.merge(CalendarDayRow(day=day.day, is_workday=day.is_workday, note=day.note))
            if declare_year is not None:
                await session.merge(CalendarYearRow(year=declare_year, note="declared by an administrator"))


def row_values(ticket: Ticket) -> dict[str, Any]:
    intake = ticket.intake
    return {
        "number": ticket.number,
        "status": ticket.status.value,
        "ticket_type": intake.ticket_type.value,
        "channel": intake.channel.value,
        "category_code": intake.category,
        "region_code": intake.region,
        "lead_unit": ticket.lead_unit,
        "caller_phone": intake.caller_phone,
        "accepted_at": ticket.accepted_at,
        "handling_due": ticket.handling_due,
        "version": ticket.version,
        "source": intake.source,
        "external_id": intake.external_id or None,
        "state": ticket_to_json(ticket),
        **facts(ticket),
    }


def _event_of(row: EventRow) -> Event:
    return Event(row.kind, row.at, row.actor, Role(row.role), row.unit_code, row.reason, row.data)


def _event_row(number: str, seq: int, event: Event) -> EventRow:
    return EventRow(
        ticket_number=number,
        seq=seq,
        kind=event.kind,
        at=event.at,
        actor=event.actor,
        role=event.role.value,
        unit_code=event.unit,
        reason=event.reason,
        data=dict(event.data),
    )
