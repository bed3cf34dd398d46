"""Events as the catalogue describes them, for tests that put one on a stream and care for a few fields."""

from __future__ import annotations

from hotline.kernel.runtime.events import CATALOGUE


def catalogued(kind: str, **fields: object) -> dict[str, object]:
    """An event of ``kind`` with every field its type requires (blank unless given) and these."""
    return {"type": kind, **dict.fromkeys(CATALOGUE[kind].fields, ""), **fields}
