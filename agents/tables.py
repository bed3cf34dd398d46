"""The agent table: who may sign in as an agent, and the SIP account Asterisk is provisioned with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.runtime.db import Base, Document, Moment


class AgentRow(Base):
    __tablename__ = "agents"
    account: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    skills: Mapped[dict[str, int]] = mapped_column(Document)
    # MD5 of account:realm:password; the password itself is shown once, when the seat is made.
    sip_digest: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Moment())
