"""Retry delays shared by every reconnecting client (AMI, the event hub's reader, the outbox)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator


def backoff_delays(
    initial: float, maximum: float, rng: Callable[[], float] = random.random
) -> Iterator[float]:
    """Exponential delays with jitter (each between half and one and a half of the step)."""
    step = initial
    while True:
        yield step * (0.5 + rng())
        step = min(step * 2, maximum)
