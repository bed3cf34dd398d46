"""Ticketing's tables. ``ticket_events`` is the record; ``tickets`` is its snapshot, kept in step."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.api.users import UserRow
from hotline.kernel.runtime.db import Base, Document, Moment


class UnitRow(Base):
    """A handling unit (承办单位): 一级 units and the 二级 units under them."""

    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    level: Mapped[int] = mapped_column(Integer, default=1)
    region_code: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# A unit's API users name their unit by code. The kernel maps the users table without knowing units;
# the reference is declared here, where units live, so the models say what the schema holds.
UserRow.__table__.append_constraint(ForeignKeyConstraint(["unit_code"], ["units.code"]))


class CategoryRow(Base):
    """The topic tree (事项分类); ``urgent`` marks emergency classes (突发: water, power, gas…)."""

    __tablename__ = "categories"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)


class RegionRow(Base):
    """The region tree: district → town/street → community."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    level: Mapped[int] = mapped_column(Integer, default=1)


class RoutingRow(Base):
    """The routing catalogue (派单目录): category (and optionally region) → suggested unit."""

    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    __table_args__ = (UniqueConstraint("category_code", "region_code", name="uq_routing_category_region"),)


class TicketRow(Base):
    __tablename__ = "tickets"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    ticket_type: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    lead_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    caller_phone: Mapped[str] = mapped_column(String(24), index=True)
    accepted_at: Mapped[datetime] = mapped_column(Moment(), index=True)
    handling_due: Mapped[datetime | None] = mapped_column(Moment(), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(40), default="")
    external_id: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[dict[str, Any]] = mapped_column(Document)
    # KPI facts (ticketing.kpi.facts), projected from the events with the snapshot.
    accepted_day: Mapped[str] = mapped_column(String(10), index=True, server_default="")
    dispatched: Mapped[bool] = mapped_column(Boolean, server_default=false())
    completed_at: Mapped[datetime | None] = mapped_column(Moment())
    completed_on_time: Mapped[bool] = mapped_column(Boolean, server_default=false())
    extended: Mapped[bool] = mapped_column(Boolean, server_default=false())
    first_time: Mapped[bool] = mapped_column(Boolean, server_default=false())
    satisfaction: Mapped[str] = mapped_column(String(24), server_default="")
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_ticket_external"),)


class AssistRow(Base):
    """Assisting units (协办) of a ticket, so a unit can list what it helps with."""

    __tablename__ = "ticket_assists"
    ticket_number: Mapped[str] = mapped_column(ForeignKey("tickets.number"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)


class EventRow(Base):
    """One change to one ticket. Rows are only ever inserted."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[str] = mapped_column(ForeignKey("tickets.number"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(Moment())
    actor: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(Document)
    __table_args__ = (
        UniqueConstraint("ticket_number", "seq", name="uq_event_ticket_seq"),
        Index("ix_events_kind_at", "kind", "at"),
    )


class CounterRow(Base):
    """Per-day ticket numbers: 20261121000001, …"""

    __tablename__ = "ticket_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CallRatingRow(Base):
    """A caller's rating of the service, pressed after the agent hung up; a ticket taken on that call
    shows it, whether the ticket was written before the rating or after."""

    __tablename__ = "call_ratings"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rating: Mapped[str] = mapped_column(String(24))
    agent: Mapped[str] = mapped_column(String(16))
    rated_at: Mapped[datetime] = mapped_column(Moment())


class CallLinkageRow(Base):
    """A call an agent shared with 110/119/120/122 (one-key transfer or three-way call); a ticket taken on
    that call shows it, and records who took the matter."""

    __tablename__ = "call_linkages"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(12))
    agent: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(Moment())


class TicketCallRow(Base):
    """A call about a ticket: the one it was taken on, and each an agent placed about it (回访, asking for
    details). The ticket's recordings are those calls' recordings; a call may be about several tickets."""

    __tablename__ = "ticket_calls"
    ticket_number: Mapped[str] = mapped_column(ForeignKey("tickets.number"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class AuditRow(Base):
    """Every read of personal data by a unit user (Zhijiang 第二十五、二十六条)."""

    __tablename__ = "audit_reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Moment(), index=True)
    user_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    ticket_number: Mapped[str] = mapped_column(ForeignKey("tickets.number"), index=True)
    fields: Mapped[str] = mapped_column(String(200))


class CalendarDayRow(Base):
    """An administrator's override: this day is (not) a working day."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")


class CalendarYearRow(Base):
    """A year whose holidays an administrator has entered in full, so deadlines in it are not estimates."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    note: Mapped[str] = mapped_column(String(100), default="")


class ArticleRow(Base):
    """A knowledge-base article: its current version's searchable words, its owner and any review due."""

    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    # Words from jieba, space-separated: FTS5 (SQLite) or to_tsvector('simple', …) (PostgreSQL) index them.
    words: Mapped[str] = mapped_column(Text)
    review_due: Mapped[datetime | None] = mapped_column(Moment(), index=True)
    review_reason: Mapped[str] = mapped_column(String(200), default="")


class ArticleVersionRow(Base):
    """Every version of every article; an edit adds one, none is ever changed."""

    __tablename__ = "kb_versions"
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    source_document: Mapped[str] = mapped_column(String(200), default="")
    author: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(Moment())
