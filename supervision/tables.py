"""The supervision audit trail: every monitor started, switched, ended or refused, and by whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.runtime.db import Base, Moment


class MonitorLogRow(Base):
    __tablename__ = "monitor_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Moment(), index=True)
    monitor_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(16))  # start, switch, connected, end, failed
    actor: Mapped[str] = mapped_column(String(64))  # the supervisor, or "phone" for keys pressed on it
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(8))
