"""An agent hands their caller back to the ACD: to a skill group, or to one colleague.

The caller stays in their own flow the whole time: the controller asks for the
handback, then ends the agent's leg; the flow's ``Dial`` returns, and the flow
queues the caller again with their first place and priority.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Handback:
    skill: str
    agent: str = ""  # one colleague alone, whatever the skill
    by: str = ""  # who asked (the agent, or a supervisor acting for them)


class Handbacks:
    """The calls whose flow is talking to an agent now, and the handbacks asked of them."""

    def __init__(self) -> None:
        self._talking: set[str] = set()
        self._asked: dict[str, Handback] = {}

    @contextmanager
    def talking(self, call_id: str) -> Iterator[None]:
        self._talking.add(call_id)
        try:
            yield
        finally:
            self._talking.discard(call_id)

    def ask(self, call_id: str, handback: Handback) -> bool:
        if call_id not in self._talking:
            return False
        self._asked[call_id] = handback
        return True

    def take(self, call_id: str) -> Handback | None:
        return self._asked.pop(call_id, None)
