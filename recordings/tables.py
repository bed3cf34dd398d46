"""The recordings' register, who may hear which (grants to units), and every access to them (the audit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.runtime.db import Base, Moment


class RecordingRow(Base):
    """One audio file of one call: the conversation (MixMonitor, answer to hang-up) or the caller's intake."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    #: The ticket the call is about (its first, where it is about several), once one is taken or linked.
    ticket: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # conversation, intake, caller_track, ...
    #: Where it lies in the recordings folder: ``YYYY/MM/DD/<call id>-….wav`` by the call's day.
    file: Mapped[str] = mapped_column(String(200), unique=True)
    line: Mapped[str] = mapped_column(String(32))
    caller_number: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(Moment(), index=True)
    seconds: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: When the retention purge deleted the file; the row stays, so the deletion is on record.
    purged_at: Mapped[datetime | None] = mapped_column(Moment())


class RecordingTextRow(Base):
    """What was said on one direction of a call (a track's transcript), for search and quality review;
    personal data like the audio: read by the same rules, purged with it."""

    __tablename__ = "recording_texts"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    transcribed_at: Mapped[datetime] = mapped_column(Moment())


class RecordingGrantRow(Base):
    """A supervisor let one unit hear one recording (枝江 第二十六条: never without approval)."""

    __tablename__ = "recording_grants"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(60))
    granted_at: Mapped[datetime] = mapped_column(Moment())


class RecordingAccessRow(Base):
    """Every listing, playing, grant and refusal: who, when, which recording and why."""

    __tablename__ = "recording_access"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Moment(), index=True)
    actor: Mapped[str] = mapped_column(String(60), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(16))  # list, play, grant
    recording_id: Mapped[int | None] = mapped_column(Integer, index=True)
    call_id: Mapped[str] = mapped_column(String(64), default="")
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200), default="")
