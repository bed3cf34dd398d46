"""Which agent gets the next call.

The foundation's rule is app_queue's ``leastrecent``: among the agents who can
take a call now, the one idle longest. Skills, priorities and overflow build
on this (see the IVR/ACD issue).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentView:
    account: str
    available: bool
    idle_since: float


def longest_idle(agents: Iterable[AgentView]) -> str | None:
    """The available agent idle longest; ties go to the lowest account number."""
    candidates = [agent for agent in agents if agent.available]
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (agent.idle_since, agent.account)).account
