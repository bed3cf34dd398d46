"""Units, the category and region trees and the routing catalogue (派单目录), on SQLAlchemy."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hotline.kernel.runtime.db import writer
from hotline.ticketing.errors import TicketError, invalid, not_found
from hotline.ticketing.tables import CategoryRow, RegionRow, RoutingRow, UnitRow

SEED_FILE = Path(__file__).with_name("seed") / "directory.json"
T = TypeVar("T", CategoryRow, RegionRow)


class Directory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)

    async def seed_if_empty(self, path: Path = SEED_FILE) -> bool:
        """Load the starting directory on a new database; never touch one already in use."""
        async with self.writes.begin() as session:
            if (await session.execute(select(func.count()).select_from(CategoryRow))).scalar_one():
                return False
            seed = json.loads(path.read_text(encoding="utf-8"))
            for code, name, parent, urgent in seed["categories"]:
                session.add(CategoryRow(code=code, name=name, parent_code=parent, urgent=urgent))
                await session.flush()
            for code, name, parent, level in seed["regions"]:
                session.add(RegionRow(code=code, name=name, parent_code=parent, level=level))
                await session.flush()
            for code, name, parent, level, region, phone in seed["units"]:
                session.add(
                    UnitRow(
                        code=code,
                        name=name,
                        parent_code=parent,
                        level=level,
                        region_code=region,
                        phone=phone,
                        active=True,
                    )
                )
                await session.flush()
            for category, region, unit in seed["routing"]:
                session.add(RoutingRow(category_code=category, region_code=region, unit_code=unit))
        return True

    # ------------------------------------------------------------------ lookups

    async def category(self, code: str, field: str = "category") -> CategoryRow:
        return await self._known(CategoryRow, code, field)

    async def region(self, code: str) -> RegionRow:
        return await self._known(RegionRow, code, "region")

    async def _known(self, table: type[T], code: str, field: str) -> T:
        """The row for ``code``, or a 422 naming the field that held the unknown code."""
        async with self.sessions() as session:
            row = await session.get(table, code)
        if row is None:
            raise invalid(field, f"unknown {field} {code!r}")
        return row

    async def require_units(self, codes: list[str], field: str = "unit") -> None:
        """Refuse a dispatch to a unit that does not exist or was retired."""
        async with self.sessions() as session:
            rows = (await session.execute(select(UnitRow).where(UnitRow.code.in_(codes)))).scalars()
            active = {row.code for row in rows if row.active}
        missing = [code for code in codes if code not in active]
        if missing:
            raise TicketError(
                "unknown-unit", f"no active unit {', '.join(missing)}", 422, field=field, units=missing
            )

    async def root_region(self) -> str:
        """The top of the region tree: where a message with no place given is filed until classified."""
        async with self.sessions() as session:
            query = select(RegionRow.code).where(RegionRow.parent_code.is_(None)).order_by(RegionRow.code)
            code = (await session.execute(query.limit(1))).scalar()
        if code is None:
            raise TicketError("no-regions", "区域目录为空：请先配置区域", 409)
        return code

    async def suggest_unit(self, category: str, region: str) -> str | None:
        """The most specific routing rule: the category and its parents, with the region and its parents."""
        async with self.sessions() as session:
            categories = await _ancestors(session, CategoryRow, category)
            regions = [*await _ancestors(session, RegionRow, region), None]
            rules = (
                await session.execute(select(RoutingRow).where(RoutingRow.category_code.in_(categories)))
            ).scalars()
            table = {(r.category_code, r.region_code): r.unit_code for r in rules}
        for category_code in categories:
            for region_code in regions:
                if (category_code, region_code) in table:
                    return table[(category_code, region_code)]
        return None

    # ------------------------------------------------------------------ units

    async def units(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = (await session.execute(select(UnitRow).order_by(UnitRow.level, UnitRow.code))).scalars()
            return [unit_json(row) for row in rows]

    async def unit(self, code: str) -> dict[str, Any]:
        async with self.sessions() as session:
            row = await session.get(UnitRow, code)
        if row is None:
            raise not_found("unit", code)
        return unit_json(row)

    async def create_unit(self, data: Any) -> dict[str, Any]:
        fields = _unit_fields(data, creating=True)
        async with self.writes.begin() as session:
            if await session.get(UnitRow, fields["code"]) is not None:
                raise TicketError("unit-exists", f"unit {fields['code']} already exists", 409)
            fields["level"] = await _level_under(session, fields.get("parent_code"), fields["code"])
            row = UnitRow(**{"phone": "", "active": True, **fields})
            session.add(row)
            await session.flush()
            return unit_json(row)

    async def update_unit(self, code: str, data: Any) -> dict[str, Any]:
        """Rename, move, retire (``active: false``). Units are never deleted: tickets name them."""
        fields = _unit_fields(data, creating=False)
        async with self.writes.begin() as session:
            row = await session.get(UnitRow, code)
            if row is None:
                raise not_found("unit", code)
            if "parent_code" in fields:
                fields["level"] = await _level_under(session, fields["parent_code"], code)
            for key, value in fields.items():
                setattr(row, key, value)
            await session.flush()
            return unit_json(row)

    async def tree(self, table: type[CategoryRow] | type[RegionRow]) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            return await _tree(session, table)

    async def trees(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The category and region trees: what the intake's guesses are taught (``ticketing.guesses``)."""
        async with self.sessions() as session:
            return await _tree(session, CategoryRow), await _tree(session, RegionRow)


async def _tree(session: Any, table: type[CategoryRow] | type[RegionRow]) -> list[dict[str, Any]]:
    rows = (await session.execute(select(table).order_by(table.code))).scalars()
    return [
        {"code": r.code, "name": r.name, "parent": r.parent_code}
        | ({"urgent": r.urgent} if isinstance(r, CategoryRow) else {"level": r.level})
        for r in rows
    ]


def unit_json(row: UnitRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "parent_code": row.parent_code,
        "level": row.level,
        "region_code": row.region_code,
        "phone": row.phone,
        "active": row.active,
    }


#: The columns' own sizes (ticketing/tables.py): PostgreSQL refuses anything longer.
UNIT_TEXT_LIMITS = {"code": 40, "name": 100, "parent_code": 40, "region_code": 40, "phone": 40}
#: What a unit may leave empty with null: its place in the tree (null: a 一级 unit) and its region.
UNIT_NULLABLE = frozenset({"parent_code", "region_code"})
UNIT_CODE = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def _unit_fields(data: Any, *, creating: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid("body", "must be a JSON object")
    allowed = (
        {"code", "name", "parent_code", "region_code", "phone", "active"}
        if creating
        else {"name", "parent_code", "region_code", "phone", "active"}
    )
    unknown = set(data) - allowed
    if unknown:
        raise invalid(sorted(unknown)[0], "is not a unit field")
    fields: dict[str, Any] = {}
    for key, limit in UNIT_TEXT_LIMITS.items():
        if key in data:
            value = data[key]
            left_empty = value is None and key in UNIT_NULLABLE
            if not left_empty and (not isinstance(value, str) or not value.strip() or len(value) > limit):
                raise invalid(key, f"must be non-empty text of at most {limit} characters")
            fields[key] = value.strip() if isinstance(value, str) else None
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise invalid("active", "must be true or false")
        fields["active"] = data["active"]
    if creating:
        for key in ("code", "name"):
            if not fields.get(key):
                raise invalid(key, "is required")
        if not UNIT_CODE.fullmatch(fields["code"]):
            raise invalid("code", "must be letters, digits, - and _, in parts joined by dots (cgj.majiadian)")
    return fields


async def _level_under(session: Any, parent: str | None, code: str) -> int:
    if parent is None:
        return 1
    row = await session.get(UnitRow, parent)
    if row is None or parent == code:
        raise invalid("parent_code", f"no unit {parent!r} to sit under")
    return row.level + 1


async def _ancestors(session: Any, table: Any, code: str) -> list[str]:
    chain: list[str] = []
    current: str | None = code
    while current and current not in chain:
        row = await session.get(table, current)
        if row is None:
            break
        chain.append(current)
        current = row.parent_code
    return chain
