"""The knowledge base on SQLAlchemy: versioned articles, full-text search, review reminders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Float, Integer, column, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.runtime.db import writer
from hotline.ticketing import kb
from hotline.ticketing.calendar import WorkCalendar
from hotline.ticketing.directory import Directory
from hotline.ticketing.errors import TicketError, invalid, not_found
from hotline.ticketing.tables import ArticleRow, ArticleVersionRow

#: Who announces policy changes; with units, who writes articles (a unit only its own). The routes let
#: only them in (ticketing/http.py), and the API's description lists them.
EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
WRITERS = EDITORS | {Role.UNIT}


class KnowledgeBase:
    """Articles and their reviews; moments given in the deployment's ``zone`` (the database's are UTC),
    review deadlines counted in its working hours."""

    def __init__(
        self, engine: AsyncEngine, directory: Directory, calendar: Callable[[], WorkCalendar], zone: tzinfo
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.calendar = calendar
        self.zone = zone
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)

    @property
    def _sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def _parse(self, data: Any, actor: Actor) -> kb.Article:
        article = kb.parse_article(data, unit=actor.unit if actor.role == Role.UNIT else None)
        await self.directory.category(article.category)
        await self.directory.require_units([article.unit])
        return article

    async def create(self, data: Any, actor: Actor, now: datetime) -> dict[str, Any]:
        article = await self._parse(data, actor)
        # jieba is CPU work (its dictionary loads on first use): keep it off the event loop.
        words = await asyncio.to_thread(lambda: article.words)
        async with self.writes.begin() as session:
            row = ArticleRow(version=1, words=words, review_due=None, review_reason="", **_current(article))
            session.add(row)
            await session.flush()
            session.add(_version_row(row.id, 1, article, actor, now))
            await self._index(session, row.id, None, words)
        return await self.get(row.id)

    async def update(self, article_id: int, data: Any, actor: Actor, now: datetime) -> dict[str, Any]:
        """A new version; it also settles any review the article was due for."""
        article = await self._parse(data, actor)
        words = await asyncio.to_thread(lambda: article.words)
        async with self.writes.begin() as session:
            row = await session.get(ArticleRow, article_id, with_for_update=True)
            if row is None:
                raise not_found("article", article_id)
            if actor.role == Role.UNIT and row.unit_code != actor.unit:
                raise TicketError("not-your-article", f"条目 {article_id} 属于 {row.unit_code}", 403)
            old_words = row.words
            row.version += 1
            row.words = words
            row.review_due = None
            row.review_reason = ""
            for key, value in _current(article).items():
                setattr(row, key, value)
            session.add(_version_row(row.id, row.version, article, actor, now))
            await self._index(session, row.id, old_words, words)
        return await self.get(article_id)

    async def _index(self, session: AsyncSession, article_id: int, old: str | None, new: str) -> None:
        """Keep SQLite's external-content FTS5 table in step (PostgreSQL's index follows the column)."""
        if not self._sqlite:
            return
        if old is not None:
            await session.execute(
                text("INSERT INTO kb_fts(kb_fts, rowid, words) VALUES('delete', :id, :words)"),
                {"id": article_id, "words": old},
            )
        await session.execute(
            text("INSERT INTO kb_fts(rowid, words) VALUES(:id, :words)"), {"id": article_id, "words": new}
        )

    async def get(self, article_id: int) -> dict[str, Any]:
        async with self.sessions() as session:
            row = await session.get(ArticleRow, article_id)
            if row is None:
                raise not_found("article", article_id)
            versions = (
                await session.execute(
                    select(ArticleVersionRow)
                    .where(ArticleVersionRow.article_id == article_id)
                    .order_by(ArticleVersionRow.version.desc())
                )
            ).scalars()
            history = [_version_json(v, self.zone) for v in versions]
        return {
            **history[0],
            "id": article_id,
            "review_due": _iso(row.review_due, self.zone),
            "review_reason": row.review_reason,
            "versions": history,
        }

    async def search(self, query: str, today: date, limit: int = 10) -> list[dict[str, Any]]:
        """Articles in force today that share words with the query, best first."""
        terms = await asyncio.to_thread(kb.query_terms, query)
        in_force = (ArticleRow.effective_from <= today) & (
            or_(ArticleRow.expires_on.is_(None), ArticleRow.expires_on > today)
        )
        if self._sqlite:
            match = " OR ".join(f'"{term}"' for term in terms)
            hits = (
                text("SELECT rowid AS id, rank FROM kb_fts WHERE kb_fts MATCH :match")
                .bindparams(match=match)
                .columns(column("id", Integer), column("rank", Float))
                .subquery("hits")
            )
            query_ids = (
                select(ArticleRow.id)
                .join(hits, hits.c.id == ArticleRow.id)
                .where(in_force)
                .order_by(hits.c.rank)
            )
        else:
            tsquery = func.to_tsquery("simple", " | ".join(terms))
            vector = func.to_tsvector("simple", ArticleRow.words)
            query_ids = (
                select(ArticleRow.id)
                .where(vector.op("@@")(tsquery), in_force)
                .order_by(func.ts_rank(vector, tsquery).desc())
            )
        async with self.sessions() as session:
            ids = list((await session.execute(query_ids.limit(limit))).scalars())
        results = []
        for article_id in ids:
            article = await self.get(article_id)
            article.pop("versions")
            results.append(article)
        return results

    async def policy_change(self, data: Any, now: datetime) -> dict[str, Any]:
        """A policy changed: every article in the named categories is due for review in 5 working days."""
        if not isinstance(data, dict):
            raise invalid("body", "must be a JSON object")
        title, categories = data.get("title"), data.get("categories")
        if not isinstance(title, str) or not title.strip():
            raise invalid("title", "is required")
        if (
            not isinstance(categories, list)
            or not categories
            or not all(isinstance(c, str) for c in categories)
        ):
            raise invalid("categories", "must be a non-empty list of category codes")
        for code in categories:
            await self.directory.category(code, field="categories")
        due = self.calendar().add_working_days(now.astimezone(self.zone), kb.REVIEW_WORKING_DAYS).at
        async with self.writes.begin() as session:
            rows = (
                await session.execute(select(ArticleRow).where(ArticleRow.category_code.in_(categories)))
            ).scalars()
            affected = []
            for row in rows:
                row.review_due = due
                row.review_reason = title.strip()[:200]
                affected.append(row.id)
        return {"title": title.strip(), "review_due": due.isoformat(), "articles": sorted(affected)}

    async def reminders(self, actor: Actor, now: datetime) -> list[dict[str, Any]]:
        """Articles due for review: a unit sees its own, the platform sees all; overdue ones say so."""
        query = select(ArticleRow).where(ArticleRow.review_due.is_not(None)).order_by(ArticleRow.review_due)
        if actor.role == Role.UNIT:
            query = query.where(ArticleRow.unit_code == actor.unit)
        async with self.sessions() as session:
            rows = list((await session.execute(query)).scalars())
        return [
            {
                "id": r.id,
                "unit": r.unit_code,
                "reason": r.review_reason,
                "review_due": _iso(r.review_due, self.zone),
                "overdue": r.review_due is not None and r.review_due < now,
            }
            for r in rows
        ]


def _current(article: kb.Article) -> dict[str, Any]:
    return {
        "unit_code": article.unit,
        "category_code": article.category,
        "effective_from": article.effective_from,
        "expires_on": article.expires_on,
    }


def _version_row(
    article_id: int, version: int, article: kb.Article, actor: Actor, now: datetime
) -> ArticleVersionRow:
    return ArticleVersionRow(
        article_id=article_id,
        version=version,
        question=article.question,
        answer=article.answer,
        category_code=article.category,
        unit_code=article.unit,
        effective_from=article.effective_from,
        expires_on=article.expires_on,
        source_document=article.source_document,
        author=actor.name,
        created_at=now,
    )


def _version_json(row: ArticleVersionRow, zone: tzinfo) -> dict[str, Any]:
    return {
        "version": row.version,
        "question": row.question,
        "answer": row.answer,
        "category": row.category_code,
        "unit": row.unit_code,
        "effective_from": row.effective_from.isoformat(),
        "expires_on": row.expires_on.isoformat() if row.expires_on else None,
        "source_document": row.source_document,
        "author": row.author,
        "created_at": _iso(row.created_at, zone),
    }


def _iso(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None
