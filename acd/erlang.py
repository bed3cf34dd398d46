"""Erlang C: the textbook answer for one queue, Poisson arrivals, exponential handling, nobody hanging up.

The simulator is checked against it, and ``hotline simulate`` prints it beside
the simulated figures so a planner sees where abandonment and skills move
reality away from the formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ErlangC:
    agents: int
    offered_erlangs: float
    wait_probability: float
    service_level: float
    asa_seconds: float
    occupancy: float


def erlang_c(agents: int, calls_per_hour: float, aht_seconds: float, sl_seconds: float) -> ErlangC:
    """Service level within ``sl_seconds``, average speed of answer and occupancy; unstable loads give 0/∞."""
    load = calls_per_hour * aht_seconds / 3600
    if agents <= load:
        return ErlangC(agents, load, 1.0, 0.0, math.inf, 1.0)
    # Erlang B by its stable recurrence, then C from B.
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    waiting = agents * blocking / (agents - load * (1 - blocking))
    service_level = 1 - waiting * math.exp(-(agents - load) * sl_seconds / aht_seconds)
    asa = waiting * aht_seconds / (agents - load)
    return ErlangC(agents, load, waiting, service_level, asa, load / agents)
