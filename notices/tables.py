"""The outbox of notices, and how far through the ticket events the notices have been decided."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.runtime.db import Base, Document, Moment


class NoticeRow(Base):
    """One SMS or email to send; ``key`` makes a notice decided twice one row (pending, sent, failed)."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    medium: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    files: Mapped[list[dict[str, Any]]] = mapped_column(Document)
    state: Mapped[str] = mapped_column(String(8), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Moment())
    next_attempt_at: Mapped[datetime] = mapped_column(Moment(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(Moment())
    last_error: Mapped[str] = mapped_column(String(300), default="")


class NoticeCursorRow(Base):
    """The id of the last ticket event whose notices are in the outbox."""

    __tablename__ = "notice_cursor"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer)
