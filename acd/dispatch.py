"""Runs the ACD engine inside the controller: one step at a time, each step saved and announced.

Callers' flows, the agents' API, feature codes and AMI events all change the
engine through ``step``. A step holds a lock while it changes the engine, asks
it for offers and writes the changes to Redis, so two steps never interleave
and Redis never holds half of one. Offers for callers still on the line wait
here until their flow takes them (it polls between the caller's key presses);
offers for callbacks start an outbound call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from hotline.acd.chart import VIEW
from hotline.acd.engine import Agent, AgentState, Changes, Engine, Offer, QueuedCall
from hotline.acd.phones import PhoneChange, PhoneNews
from hotline.acd.state_store import AcdStateStore
from hotline.kernel.runtime.events import Publish

log = logging.getLogger(__name__)
StartCallback = Callable[[Offer], Awaitable[None]]
#: Told each agent's new state after every step that changed it (the fallback queue's pauses follow it).
AgentWatch = Callable[[str, AgentState], None]
T = TypeVar("T")


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        store: AcdStateStore,
        publish: Publish,
        clock: Callable[[], float],
        start_callback: StartCallback,
        watch: AgentWatch | None = None,
    ) -> None:
        self.engine = engine
        self._watch = watch
        self._store = store
        self._publish = publish
        self._clock = clock
        self._start_callback = start_callback
        self._lock = asyncio.Lock()
        self._offers: dict[str, Offer] = {}
        self._offer_waiters: dict[str, asyncio.Event] = {}
        self._unsaved: Changes | None = None
        self._callbacks: set[asyncio.Task[None]] = set()

    async def restore(self, skills: Mapping[str, Mapping[str, int]], *, expect_state: bool = True) -> None:
        """Load the last controller's state from Redis and carry on from it (see ``Engine.recover``).

        ``skills`` are the agent table's active agents: anyone else in Redis no longer works here.
        ``expect_state``: a controller ran here before, so a Redis holding no state has lost it (agents'
        states, callbacks' places), which is worth a warning; on a first start there was nothing to lose.
        """
        async with self._lock:
            kept = await self._store.kept()
            self.engine = await self._store.load(self.engine.settings)
            if not kept:
                await self._store.write_all(self.engine)  # marked as kept from now on
        if not kept and expect_state:
            log.warning(
                "Redis holds no ACD state (restarted without its data?): agents start signed out, "
                "callbacks' places are lost"
            )
        elif not kept:
            log.info("no ACD state yet (a first start): agents start signed out")

        def change(engine: Engine, now: float) -> None:
            for account in set(engine.agents) - set(skills):  # stopped while no controller ran
                engine.remove_agent(account, even_on_call=True)
            for account, levels in skills.items():
                engine.add_agent(account, levels)
            engine.recover(now)

        await self.step(change)

    async def step(self, change: Callable[[Engine, float], T]) -> T:
        """Apply one change, then assign, save and announce; the change's errors still propagate."""
        async with self._lock:
            now = self._clock()
            try:
                return change(self.engine, now)
            finally:
                await self._settle(now)

    async def tick(self) -> None:
        """Time passing: wrap-ups end, waiting calls overflow to wider skills."""
        await self.step(lambda engine, now: None)

    # -- what flows and routes may ask, without reaching into the engine ------

    def agent(self, account: str) -> Agent | None:
        return self.engine.agents.get(account)

    def agents(self) -> list[Agent]:
        """Every agent, by account."""
        return [self.engine.agents[account] for account in sorted(self.engine.agents)]

    def waiting(self) -> list[QueuedCall]:
        """Waiting calls and callbacks, in the order they will be answered."""
        return self.engine.waiting()

    def is_waiting(self, call_id: str) -> bool:
        return call_id in self.engine.calls

    def reachable(self, account: str, skill: str) -> bool:
        """Someone signed in can take a caller handed back: the colleague ``account`` (when named), or
        anyone with the ``skill``."""
        if account:
            agent = self.agent(account)
            return agent is not None and agent.state != AgentState.LOGGED_OUT
        return self.staffed([skill]) > 0

    def staffed(self, skills: Iterable[str]) -> int:
        """How many signed-in agents have one of ``skills``."""
        return self.engine.staffed(skills)

    def place(self, call_id: str, now: float) -> tuple[int, float] | None:
        """How many wait ahead of a call still waiting for an offer, and its expected wait in seconds."""
        call = self.engine.calls.get(call_id)
        if call is None or call.offered_to:
            return None
        return self.engine.position(call_id), self.engine.expected_wait(call_id, now)

    def offered(self, call_id: str) -> bool:
        """An agent's phone is waiting for this caller's flow to ring it."""
        return call_id in self._offers

    async def wait_for_offer(self, call_id: str) -> None:
        """Returns once an agent's phone waits for this caller (at once if one does already)."""
        waiter = self._offer_waiters.setdefault(call_id, asyncio.Event())
        try:
            if call_id not in self._offers:
                await waiter.wait()
        finally:
            self._offer_waiters.pop(call_id, None)

    def offer_for(self, call_id: str) -> Offer | None:
        """The offer waiting for this caller's flow, left for the flow to take."""
        return self._offers.get(call_id)

    def take_offer(self, call_id: str) -> Offer | None:
        return self._offers.pop(call_id, None)

    async def finish_offer(self, offer: Offer, answered: bool) -> None:
        """The agent's phone stopped ringing: answered (and the talk is over) or not answered."""

        def change(engine: Engine, now: float) -> None:
            agent = engine.agents.get(offer.account)
            if agent is None or agent.call_id != offer.call_id:
                return
            if not answered:
                engine.not_answered(offer.call_id, offer.account, now)
                return
            if agent.state == AgentState.RINGING:
                engine.answered(offer.call_id, offer.account, now)
            engine.call_ended(offer.account, now)

        await self.step(change)

    async def caller_gone(self, call_id: str, callback_number: str = "") -> None:
        """The caller left the line: hung up, chose voicemail, or asked for a callback (keeping the place)."""
        self._offers.pop(call_id, None)

        def change(engine: Engine, now: float) -> None:
            if call_id in engine.calls:
                if callback_number:
                    engine.leave_callback(call_id, callback_number, now)
                else:
                    engine.call_left(call_id, now)
            for agent in list(engine.agents.values()):
                if agent.call_id == call_id and agent.state == AgentState.TALKING:
                    engine.call_ended(agent.account, now)

        await self.step(change)

    async def handed_over(self, call_id: str) -> None:
        """The controller stops while Asterisk keeps the call: a waiting caller leaves this queue for the
        dialplan's fallback queue; an agent talking with them stays talking, as their phone is (the next
        controller's reconcile ends the talk when the phone does). A callback keeps its place."""
        self._offers.pop(call_id, None)

        def change(engine: Engine, now: float) -> None:
            call = engine.calls.get(call_id)
            if call is not None and not call.callback_number:
                engine.call_left(call_id, now)

        await self.step(change)

    async def hear(self, news: PhoneNews) -> None:
        """Apply what AMI said about an agent's phone."""
        if news.change == PhoneChange.STATUS:
            await self.step(lambda engine, now: engine.phone_state(news.account, news.status))
        elif news.change == PhoneChange.ANSWERED:
            await self.phone_answered(news.account)
        else:
            await self.phone_hung_up(news.account)

    async def phone_answered(self, account: str) -> None:
        """AMI saw the agent's phone go off-hook while it rang for an offer: talking from now."""

        def change(engine: Engine, now: float) -> None:
            agent = engine.agents.get(account)
            if agent is not None and agent.state == AgentState.RINGING:
                engine.answered(agent.call_id, account, now)

        await self.step(change)

    async def phone_hung_up(self, account: str) -> None:
        """An agent's phone hung up: if the ACD still shows them talking, the talk is over."""
        if account in self.engine.agents:
            await self.step(lambda engine, now: engine.call_ended(account, now))

    async def _settle(self, now: float) -> None:
        offers = self.engine.assign(now)
        changes = self.engine.take_changes()
        notices, self.engine.notices = self.engine.notices, []
        await self._save(changes)
        for offer in offers:  # in queue order: the record of who was offered what, and when
            await self._publish(
                {
                    "type": "acd.assigned",
                    "call_id": offer.call_id,
                    "agent": offer.account,
                    "callback": bool(offer.callback_number),
                }
            )
            if offer.callback_number:
                task = asyncio.create_task(self._start_callback(offer), name=f"callback-{offer.call_id}")
                self._callbacks.add(task)
                task.add_done_callback(self._callbacks.discard)
            else:
                self._offers[offer.call_id] = offer
                if waiter := self._offer_waiters.get(offer.call_id):
                    waiter.set()
        for account, agent in changes.agents.items():
            if agent is None:
                await self._publish({"type": "agent.removed", "agent": account})
                continue
            state = AgentState(agent["state"])
            if self._watch is not None:
                self._watch(account, state)
            status, activity = VIEW[state]
            await self._publish(
                {
                    "type": "agent.state",
                    "agent": account,
                    "state": agent["state"],
                    "status": status,
                    "activity": activity,
                    "break_reason": agent["break_reason"],
                    "call_id": agent["call_id"],
                    "since": agent["since"],
                    "phone": agent["phone"],
                }
            )
        for notice in notices:
            await self._publish({"type": notice.kind, "agent": notice.account, "detail": notice.detail})

    async def _save(self, changes: Changes) -> None:
        """Write this step; if Redis is away, keep it and write it with the next step; if Redis lost
        what it held, write everything."""
        if self._unsaved is not None:
            changes = Changes(
                agents={**self._unsaved.agents, **changes.agents},
                calls={**self._unsaved.calls, **changes.calls},
                last_offered=changes.last_offered,
            )
        try:
            if not await self._store.write(changes):
                await self._store.write_all(self.engine)
                log.warning("Redis had lost the ACD state (restarted without its data?): wrote it back whole")
            self._unsaved = None
        except Exception as exc:  # the engine in memory stays right; Redis catches up
            log.warning("ACD state not saved to redis, keeping it for the next step: %s", exc)
            self._unsaved = changes

    async def close(self) -> None:
        for task in list(self._callbacks):
            task.cancel()
        await asyncio.gather(*self._callbacks, return_exceptions=True)
