"""The ticket draft pre-filled from the caller's words (speech-to-text): pure, no I/O.

Every field filled here is a guess, listed in the draft's ``guessed`` for the
agent to confirm or change: the description as speech-to-text heard it, and
what it suggests (``ticketing.guesses``, the same guesses every message's
ticket gets). The emergency its words name is no field of the ticket: it
tells the agent the number to hand the caller to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prefill(text: str, guesses: Mapping[str, Any]) -> dict[str, Any]:
    """The draft's fields from the caller's words and what they suggest, ``guessed`` naming each one."""
    fields: dict[str, Any] = {"description": text, **guesses}
    fields["guessed"] = [name for name in fields if name != "emergency"]
    return fields
