"""The agent table in the database: the one list Asterisk's endpoints and the ACD's agents come from."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hotline.agents.profiles import AgentProfile, ProfileError
from hotline.agents.tables import AgentRow
from hotline.kernel.asterisk.conf import sip_digest
from hotline.kernel.runtime.db import writer


class AgentExists(ProfileError):
    """The account is in the table already (perhaps inactive: change it instead of adding it)."""


@dataclass(frozen=True)
class AgentRecord:
    profile: AgentProfile
    sip_digest: str


class AgentDirectory:
    def __init__(
        self, engine: AsyncEngine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)
        self.clock = clock

    async def seed(self, records: Iterable[AgentRecord]) -> None:
        """Add the settings' agents the table does not know yet; agents already there stay as they are."""
        async with self.writes.begin() as session:
            for record in records:
                if await session.get(AgentRow, record.profile.account) is None:
                    session.add(self._row(record))

    async def all(self) -> list[AgentRecord]:
        async with self.sessions() as session:
            rows = (await session.execute(select(AgentRow).order_by(AgentRow.account))).scalars()
            return [_record(row) for row in rows]

    async def get(self, account: str) -> AgentRecord | None:
        async with self.sessions() as session:
            row = await session.get(AgentRow, account)
            return None if row is None else _record(row)

    async def add(self, profile: AgentProfile) -> tuple[AgentRecord, str]:
        """Store a new agent with a fresh SIP password, kept only as a digest: the password is returned
        this once, to hand to the agent."""
        password = secrets.token_urlsafe(12)
        record = AgentRecord(profile, sip_digest(profile.account, password))
        async with self.writes.begin() as session:
            if await session.get(AgentRow, profile.account) is not None:
                raise AgentExists("account", f"工号 {profile.account} 已存在；如需恢复或修改请用 PATCH")
            session.add(self._row(record))
        return record, password

    async def save(self, profile: AgentProfile) -> AgentRecord:
        async with self.writes.begin() as session:
            row = await session.get(AgentRow, profile.account)
            if row is None:
                raise KeyError(profile.account)
            row.name, row.skills, row.active = profile.name, dict(profile.skills), profile.active
            return _record(row)

    def _row(self, record: AgentRecord) -> AgentRow:
        profile = record.profile
        return AgentRow(
            account=profile.account,
            name=profile.name,
            skills=dict(profile.skills),
            sip_digest=record.sip_digest,
            active=profile.active,
            created_at=self.clock(),
        )


def _record(row: AgentRow) -> AgentRecord:
    return AgentRecord(AgentProfile(row.account, row.name, dict(row.skills), row.active), row.sip_digest)
