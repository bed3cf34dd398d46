"""Refused connections, told once per peer and reason in each window, with the count folded in.

2,000 unkeyed FastAGI connections in 0.87 s once made 2,000 security events and 2,000 log lines: at that
rate the stream's replay lost every call event within 45 s. Now the first refusal of a peer (for one
reason) is told at once; those that follow within the window are counted and told as one report when it
ends; a quiet peer is forgotten. No refusal goes uncounted: every report says how many it stands for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Reports are folded over this many seconds per peer and reason.
WINDOW_SECONDS = 10.0
#: Peers followed in one window; refusals from any further peer are told together under ``OTHERS``.
MAX_PEERS = 100
OTHERS = "*"


@dataclass(frozen=True)
class Refusal:
    peer: str
    reason: str
    #: The refusals this report stands for (1 when told at once).
    count: int
    #: Every refusal since the server started.
    total: int


class RefusalTally:
    """The folding itself, without I/O or clock: the caller says what time it is."""

    def __init__(self, window: float = WINDOW_SECONDS, max_peers: int = MAX_PEERS) -> None:
        self.window, self.max_peers = window, max_peers
        self.total = 0
        self._open: dict[tuple[str, str], tuple[float, int]] = {}  # (peer, reason) -> window start, folded

    def refused(self, peer: str, reason: str, now: float) -> Refusal | None:
        """A report to tell now (the first in a window), or None: folded into the window's report."""
        self.total += 1
        key = (peer, reason)
        if key not in self._open and len(self._open) >= self.max_peers:
            key = (OTHERS, reason)
        opened = self._open.get(key)
        if opened is None:
            self._open[key] = (now, 0)
            return Refusal(*key, count=1, total=self.total)
        self._open[key] = (opened[0], opened[1] + 1)
        return None

    def due(self, now: float) -> list[Refusal]:
        """The reports of windows that have ended; a window with refusals folded in starts the next one."""
        reports = []
        for key, (start, folded) in list(self._open.items()):
            if now - start < self.window:
                continue
            if folded:
                reports.append(Refusal(*key, count=folded, total=self.total))
                self._open[key] = (now, 0)
            else:
                del self._open[key]
        return reports

    def rest(self) -> list[Refusal]:
        """Everything folded and not told yet (the server is stopping); the windows close."""
        reports = [Refusal(*key, count=n, total=self.total) for key, (_, n) in self._open.items() if n]
        self._open.clear()
        return reports

    def next_due(self) -> float | None:
        """When the first open window ends."""
        return min((start for start, _ in self._open.values()), default=None)


Tell = Callable[[Refusal], None]


class RefusalReports:
    """A server's refusals, folded, logged and handed to ``tell``; a timer tells each folded window."""

    def __init__(
        self,
        what: str,
        tell: Tell | None,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.tell, self.clock = what, tell, clock
        self.tally = RefusalTally(window)
        self._timer: asyncio.TimerHandle | None = None

    def refused(self, peer: str, reason: str) -> None:
        report = self.tally.refused(peer, reason, self.clock())
        if report is not None:
            self._report(report)
        self._arm()

    def close(self) -> None:
        """Tell what is still folded: a stop loses no count."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for report in self.tally.rest():
            self._report(report)

    def _arm(self) -> None:
        first = self.tally.next_due()
        if self._timer is None and first is not None:
            delay = max(0.0, first + self.tally.window - self.clock())
            self._timer = asyncio.get_running_loop().call_later(delay, self._due)

    def _due(self) -> None:
        self._timer = None
        for report in self.tally.due(self.clock()):
            self._report(report)
        self._arm()

    def _report(self, report: Refusal) -> None:
        log.warning(
            "%s: refused %s: %s (%d times; %d since start)",
            self.what,
            report.peer,
            report.reason,
            report.count,
            report.total,
            extra={"security": True},
        )
        if self.tell is not None:
            self.tell(report)
