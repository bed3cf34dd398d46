"""The record book: the controller's call records and agent intervals, kept from its own events.

``hear`` runs for every event the controller publishes: it folds the event at
once (no I/O) and queues the changes; ``run`` writes them in order, in
batches, off the event path, and keeps a failed batch to try again. After a
batch that moved a figure it publishes the live figures for the wallboard,
at most every ``live_every`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, tzinfo

from hotline.kernel.runtime.backoff import backoff_delays
from hotline.kernel.runtime.events import Publish
from hotline.reports.figures import (
    ANSWER_RATE_TARGET,
    NO_SUMS,
    AgentTime,
    DayCall,
    GroupBy,
    buckets,
    day_span,
    figures,
    half_hours,
    moment,
)
from hotline.reports.records import CallRecord, Change, Recorder, day_call
from hotline.reports.store import RecordStore

log = logging.getLogger(__name__)

#: The event types after which the wallboard's figures change: a call arrives, waits, or its wait ends
#: (answered, given up, a callback asked for, a message left) or the call does.
MOVES_FIGURES = frozenset(
    {
        "call.ringing",
        "call.bridged",
        "call.hangup",
        "acd.queued",
        "acd.abandoned",
        "acd.callback_requested",
        "ivr.voicemail",
    }
)


class RecordBook:
    def __init__(
        self,
        store: RecordStore,
        lines: Collection[str],
        publish: Publish,
        clock: Callable[[], float] = time.time,
        live_every: float = 2.0,
    ) -> None:
        self.store = store
        self.recorder = Recorder(lines)
        self.publish = publish
        self.clock = clock
        self.live_every = live_every
        self._pending: list[Change] = []
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()  # batches land in the order they were heard
        self._figures_moved = False
        self._published_at = 0.0
        # Today's calls for the wallboard's half hours, read once a day and then kept from what is heard:
        # reading the whole day at every tick made the controller's memory grow with the day's calls.
        self._chart_day: date | None = None
        self._day_calls: dict[str, DayCall] = {}

    @property
    def zone(self) -> tzinfo:
        return self.store.zone

    async def start(self) -> None:
        """Take up what a previous controller left open; the next reconcile closes what ended meanwhile."""
        self.recorder.remember(*await self.store.open())

    def reconciled(self, live: Collection[str], cause: str) -> None:
        """The tracker rebuilt the live calls: records of calls not among them are closed."""
        self._queue(self.recorder.close_missing(live, self.clock(), cause))

    def hear(self, event: Mapping[str, object]) -> None:
        changes = self.recorder.hear(event, self.clock())
        self._queue(changes, moves_figures=event.get("type") in MOVES_FIGURES)

    def _queue(self, changes: list[Change], moves_figures: bool = True) -> None:
        self._chart(changes)
        if changes:
            self._pending.extend(changes)
            self._figures_moved |= moves_figures and any(isinstance(c, CallRecord) for c in changes)
            self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.write()
            if self._figures_moved and self.clock() - self._published_at >= self.live_every:
                self._figures_moved, self._published_at = False, self.clock()
                try:
                    await self.publish({"type": "reports.live", **await self.live()})
                except Exception:
                    log.exception("could not work out the live figures")
            elif self._figures_moved:
                await asyncio.sleep(self.live_every - (self.clock() - self._published_at))
                self._wake.set()

    def _chart(self, changes: list[Change]) -> None:
        """Keep today's calls for the chart up to date with the records as they change."""
        if self._chart_day is None:
            return
        day = self._chart_day.isoformat()
        for change in changes:
            if isinstance(change, CallRecord) and buckets(change.arrived_at, self.zone)["day"] == day:
                self._day_calls[change.call_id] = day_call(change)

    async def _todays_calls(self, today: date) -> list[DayCall]:
        if self._chart_day != today:  # the first tick, or a new day: read it once
            self._chart_day, self._day_calls = today, {}  # what is heard during the read is kept
            read = await self.store.day_calls(today)
            self._day_calls = {**read, **self._day_calls}  # heard while reading: newer than what was read
            self._chart(self._pending)  # heard before, not written yet: newer than what was read too
        return list(self._day_calls.values())

    async def write(self) -> None:
        """Everything heard so far, in order; a failed batch stays first in line and is tried again."""
        async with self._writing:
            for delay in backoff_delays(0.2, 5.0):
                batch, self._pending = self._pending, []
                if not batch:
                    return
                try:
                    await self.store.apply(batch)
                except Exception as exc:
                    self._pending = batch + self._pending
                    log.warning("call records not written, retrying: %s", exc)
                    await asyncio.sleep(delay)

    # -- reading -------------------------------------------------------------------

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.zone).date()

    async def report(self, by: GroupBy, first: date, last: date) -> list[dict[str, object]]:
        sums = await self.store.sums(by, first, last)
        if by is not GroupBy.AGENT:
            return [figures(key, group) for key, group in sums.items()]
        return await self._agents(sums, first, last)

    async def _agents(
        self, sums: dict[str, dict[str, float]], first: date, last: date
    ) -> list[dict[str, object]]:
        """Per agent, the calls they answered, the offers their phone rang for, and their time by state."""
        offers = await self.store.offers(first, last)
        start, end = day_span(first, last, self.zone)
        by_state: dict[str, dict[str, float]] = {}
        breaks: dict[str, dict[str, float]] = {}
        for agent, state, reason, seconds in await self.store.agent_seconds(start, end, self.clock()):
            states = by_state.setdefault(agent, {})
            states[state] = states.get(state, 0.0) + seconds
            if state == "break":
                reasons = breaks.setdefault(agent, {})
                reasons[reason or "未说明"] = reasons.get(reason or "未说明", 0.0) + seconds
        rows = []
        for agent in sorted(set(sums) | set(offers) | set(by_state)):
            row = figures(agent, sums.get(agent, NO_SUMS))
            row["offered"] = offers.get(agent, {}).get("offered", 0)
            time_in = AgentTime(by_state.get(agent, {}), breaks.get(agent, {}))
            row.update(time_in.columns(offers.get(agent, {}).get("not_answered", 0)))
            rows.append(row)
        return rows

    def waiting(self) -> list[dict[str, object]]:
        """The callers waiting for an agent now, as their calls' records stand, the longest waiting first."""
        calls = sorted(
            (r for r in self.recorder.calls.values() if r.waiting), key=lambda r: r.queued_at or 0.0
        )
        return [
            {
                "call_id": record.call_id,
                "caller_number": record.caller_number,
                "line": record.line,
                "skill": record.skill,
                "queued_at": moment(record.queued_at),
                "waited_seconds": round(max(0.0, self.clock() - (record.queued_at or record.arrived_at))),
            }
            for record in calls
        ]

    async def live(self) -> dict[str, object]:
        """The wallboard's figures: today's, per skill, the last 24 hours against the target, the day's
        half hours."""
        now, today = self.clock(), self.today()
        day = await self.store.sums(GroupBy.DAY, today, today)
        skills = await self.store.sums(GroupBy.SKILL, today, today)
        last_day = figures("24h", await self.store.sums_since(moment(now - 86400.0)))  # type: ignore[arg-type]
        start, _ = day_span(today, today, self.zone)
        chart = half_hours(
            start,
            now,
            await self._todays_calls(today),
            await self.store.spans("ready", start, now),
            self.zone,
        )
        rate = last_day["answer_rate"]
        return {
            "day": today.isoformat(),
            "today": figures(today.isoformat(), day.get(today.isoformat(), NO_SUMS)),
            "skills": [figures(skill, group) for skill, group in skills.items() if skill],
            "last_24h": {
                "answer_rate": rate,
                "target": ANSWER_RATE_TARGET,
                "met": None if rate is None else rate >= ANSWER_RATE_TARGET,  # type: ignore[operator]
                "requested": last_day["requested"],
                "answered": last_day["answered"],
                "waiting": last_day["waiting"],  # not in the rate: their calls have no outcome yet
            },
            "half_hours": chart,
            "at": now,
        }
