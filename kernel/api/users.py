"""People who use the API, and their bearer tokens (only a SHA-256 of each token is stored)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Boolean, String, column, select, table
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kernel.api.errors import ApiError, invalid
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.runtime.db import Base, writer

#: The deployment's units (承办单位), named rather than imported: ticketing owns that table. A retired
#: unit (``active`` false) stays, since tickets name it.
UNITS = table("units", column("code"), column("active", Boolean))


class UserRow(Base):
    __tablename__ = "users"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    # A unit's code; ticketing, which owns units, declares the foreign key (ticketing/tables.py).
    unit_code: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)

    async def add(self, name: str, role: str, unit: str | None = None, *, rotate: bool = False) -> str:
        """Create a user; returns the token, shown once.

        An existing name is refused unless ``rotate``: then it gets a new token and the
        old one stops working, which must never happen by accident.
        """
        try:
            parsed = Role.parse(role)
        except ValueError as exc:
            raise invalid("role", str(exc)) from None
        if not name.strip():
            raise invalid("name", "is required")
        try:
            actor = Actor(name.strip(), parsed, unit)
        except ValueError as exc:
            raise invalid("unit", str(exc)) from None
        token = secrets.token_urlsafe(24)
        async with self.writes.begin() as session:
            if unit and not await session.scalar(select(UNITS.c.code).where(UNITS.c.code == unit)):
                raise ApiError("unknown-unit", f"no unit {unit}", 422, field="unit")
            if not rotate and await session.get(UserRow, actor.name) is not None:
                raise ApiError(
                    "user-exists",
                    f"用户 {actor.name} 已存在；如需换发令牌（旧令牌随即失效）请加 --rotate",
                    409,
                )
            await session.merge(
                UserRow(
                    name=actor.name,
                    role=parsed.value,
                    unit_code=unit,
                    token_hash=token_hash(token),
                    active=True,
                )
            )
        return token

    async def exists(self, name: str) -> bool:
        async with self.sessions() as session:
            return await session.get(UserRow, name) is not None

    async def set_active(self, name: str, active: bool) -> None:
        """A user who stops working here keeps their history but their token no longer opens anything."""
        async with self.writes.begin() as session:
            row = await session.get(UserRow, name)
            if row is not None:
                row.active = active

    async def authenticate(self, token: str) -> Actor | None:
        async with self.sessions() as session:
            row = (
                await session.execute(select(UserRow).where(UserRow.token_hash == token_hash(token)))
            ).scalar_one_or_none()
        if row is None or not row.active:
            return None
        return Actor(row.name, Role(row.role), row.unit_code)
