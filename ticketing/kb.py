"""Knowledge-base rules: what an article must say, how Chinese text becomes searchable words. Pure.

SQLite's FTS5 and PostgreSQL's text search both split on spaces, not on Chinese
words, so text is cut into words by jieba first ("医保卡补办" → 医保 医保卡 补办)
and stored space-separated; a two-character query word then finds its article.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from hotline.ticketing.errors import invalid

WORD = re.compile(r"^\w+$")
#: Units must update affected articles within this many working days of a policy change (Yingkou).
REVIEW_WORKING_DAYS = 5


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Search words of ``text``: jieba's search-mode cut, punctuation dropped, lower case, in order."""
    seen: dict[str, None] = {}
    for token in _jieba().cut_for_search(text):
        token = token.strip().lower()
        if token and WORD.match(token):
            seen.setdefault(token, None)
    return list(seen)


def query_terms(query: str) -> list[str]:
    terms = words(query)
    if not terms:
        raise invalid("q", "has no searchable words")
    return terms


@dataclass(frozen=True)
class Article:
    question: str
    answer: str
    category: str
    unit: str
    effective_from: date
    expires_on: date | None
    source_document: str

    @property
    def words(self) -> str:
        return " ".join(words(f"{self.question} {self.answer}"))


def parse_article(data: Any, *, unit: str | None = None) -> Article:
    """Validate an article body; ``unit`` is forced for unit users (they write only their own)."""
    if not isinstance(data, dict):
        raise invalid("body", "must be a JSON object")

    def text(name: str, limit: int, required: bool = True) -> str:
        value = data.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise invalid(name, "is required")
        if len(value) > limit:
            raise invalid(name, f"is longer than {limit} characters")
        return value.strip()

    def day(name: str, required: bool) -> date | None:
        value = data.get(name)
        if value in (None, ""):
            if required:
                raise invalid(name, "is required (YYYY-MM-DD)")
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise invalid(name, f"not a date: {value!r}") from None

    effective = day("effective_from", True)
    expires = day("expires_on", False)
    assert effective is not None
    if expires is not None and expires <= effective:
        raise invalid("expires_on", "must be after effective_from")
    owner = unit or text("unit", 40)
    if unit and data.get("unit") not in (None, unit):
        raise invalid("unit", "a unit writes only its own articles")
    return Article(
        question=text("question", 500),
        answer=text("answer", 10000),
        category=text("category", 40),
        unit=owner,
        effective_from=effective,
        expires_on=expires,
        source_document=text("source_document", 200, required=False),
    )
