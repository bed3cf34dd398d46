"""The durable call records: one row per inbound call, one per leg (an offer to an agent, a number an
agent dialled to transfer or to add a third party), one per agent state
interval (like app_queue's queue_log), so reports compute occupancy and break time instead of guessing.

Report keys are stored beside the moments, in the centre's own time zone (``day``, ``hour``, ``week``,
``month``): grouping by an indexed text column reads the same on SQLite and PostgreSQL. Durations are
stored in seconds, and interval bounds as Unix seconds, so sums need no date arithmetic in SQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.runtime.db import Base, Moment


class CallRecordRow(Base):
    __tablename__ = "call_records"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[str] = mapped_column(String(32), index=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True)
    arrived_at: Mapped[datetime] = mapped_column(Moment(), index=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD
    hour: Mapped[str] = mapped_column(String(13))  # YYYY-MM-DD HH
    week: Mapped[str] = mapped_column(String(8))  # ISO week, YYYY-Www
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    skill: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime | None] = mapped_column(Moment(), nullable=True)
    offers: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(16), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(Moment(), nullable=True)
    wait_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    wrap_seconds: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(Moment(), nullable=True, index=True)
    ended_by: Mapped[str] = mapped_column(String(8))
    cause: Mapped[str] = mapped_column(String(64))
    emergency_number: Mapped[str] = mapped_column(String(8))
    callback_at: Mapped[datetime | None] = mapped_column(Moment(), nullable=True)
    callback_agent: Mapped[str] = mapped_column(String(16))
    transfers: Mapped[int] = mapped_column(Integer)
    conferences: Mapped[int] = mapped_column(Integer, server_default="0")
    rating: Mapped[str] = mapped_column(String(24), server_default="")  # the caller's, after the talk
    legs: Mapped[int] = mapped_column(Integer, server_default="0")
    recording_ids: Mapped[str] = mapped_column(String(200), server_default="")  # "12,13": the register's ids


class CallLegRow(Base):
    __tablename__ = "call_legs"
    __table_args__ = (Index("ix_call_legs_call_seq", "call_id", "seq", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(16), index=True)
    offered_at: Mapped[datetime] = mapped_column(Moment())
    day: Mapped[str] = mapped_column(String(10), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(Moment(), nullable=True)
    result: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(12), server_default="offer")  # offer, transfer, conference
    target: Mapped[str] = mapped_column(String(32), server_default="")  # the number an agent dialled
    mode: Mapped[str] = mapped_column(String(12), server_default="")
    ended_at: Mapped[datetime | None] = mapped_column(Moment(), nullable=True)


class AgentIntervalRow(Base):
    __tablename__ = "agent_intervals"
    __table_args__ = (Index("ix_agent_intervals_agent_start", "agent", "started"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    break_reason: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str] = mapped_column(String(64))
    started: Mapped[float] = mapped_column(Float, index=True)  # Unix seconds
    ended: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
