"""The queued caller's chart is what the engine does: every change random traffic makes to a queued call
is a row, and every row of the engine's happens."""

from __future__ import annotations

import contextlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.acd.caller_chart import (
    ABANDONED,
    ANSWERED,
    ARRIVING,
    CHART,
    FALLBACK,
    LEFT,
    VOICEMAIL,
    CallerState,
    allows,
    caller_state,
)
from hotline.acd.engine import AcdError, AgentState, Engine, PhoneStatus, QueuedCall, Settings

ACCOUNTS = ("1001", "1002")
TRIGGERS = (
    "queued",
    "offer",
    "answered",
    "not_answered",
    "hung_up",
    "voicemail_key",
    "callback_key",
    "number_refused",
    "stop",
    "restart",
    "handed_back",
    "agents",
)
#: Where a caller the engine lets go of is, by what let them go.
GONE_BY = {
    "answered": ANSWERED,
    "hung_up": ABANDONED,
    "voicemail_key": VOICEMAIL,
    "number_refused": LEFT,
    "stop": FALLBACK,
    "restart": FALLBACK,
}
Change = tuple[CallerState, str, CallerState]


class Traffic:
    """Callers and two agents; each trigger is one thing the flow, a phone or the controller does, as the
    dispatcher asks it of the engine."""

    def __init__(self) -> None:
        self.engine = Engine(Settings(wrap_up_seconds=5, missed_before_break=3))
        for account in ACCOUNTS:
            self.engine.add_agent(account, {"12345": 5})
        self.now = 0.0
        self.callers: dict[str, CallerState] = {}  # every caller seen, where they stand

    def step(self, trigger: str, pick: random.Random) -> list[Change]:
        self.now += pick.choice((0.0, 1.0, 6.0))
        before = dict(self.callers)
        with contextlib.suppress(AcdError):
            self._pull(trigger, pick)
        changes = []
        for call_id in sorted(set(before) | set(self.engine.calls)):
            was, held = before.get(call_id, ARRIVING), self.engine.calls.get(call_id)
            if held is not None:
                now = caller_state(held)
            elif was in QUEUED:
                assert trigger in GONE_BY, f"{call_id} ({was}) left the queue on {trigger}"
                now = GONE_BY[trigger]
            else:
                now = was  # gone before this step
            self.callers[call_id] = now
            if now != was:
                changes.append((was, trigger, now))
        return changes

    def _in(self, *states: CallerState) -> list[str]:
        return sorted(c for c, state in self.callers.items() if state in states and c in self.engine.calls)

    def _pull(self, trigger: str, pick: random.Random) -> None:
        engine, now = self.engine, self.now
        ringing = [a for a in engine.agents.values() if a.state == AgentState.RINGING]
        waiting = self._in(CallerState.WAITING, CallerState.TRYING)
        if trigger == "queued":
            engine.call_arrived(QueuedCall(f"c{len(self.callers)}", "12345", "12345", now))
        elif trigger == "offer":
            engine.assign(now)
        elif trigger in ("answered", "not_answered") and ringing:
            agent = pick.choice(ringing)
            getattr(engine, trigger)(agent.call_id, agent.account, now)
        elif trigger in ("hung_up", "voicemail_key", "stop") and waiting:
            engine.call_left(pick.choice(waiting), now)  # the flow's caller_gone, or handed_over
        elif trigger == "callback_key" and waiting:
            engine.leave_callback(pick.choice(waiting), "13800138000", now)
        elif trigger == "number_refused" and (calling := self._in(CallerState.CALLING_BACK)):
            engine.call_left(pick.choice(calling), now)  # ivr/callbacks.py: caller_gone
        elif trigger == "restart":
            engine.recover(now)
        elif trigger == "handed_back" and (talking := self._answered_talking()):
            call_id, agent = pick.choice(talking)
            engine.call_arrived(QueuedCall(call_id, "12345", "12345", 0.0, for_agent=pick.choice(ACCOUNTS)))
            engine.call_ended(agent, now)
        elif trigger == "agents":
            self._agents(pick)

    def _answered_talking(self) -> list[tuple[str, str]]:
        """Answered callers whose agent still talks with them: the agent may hand them back."""
        return sorted(
            (a.call_id, a.account)
            for a in self.engine.agents.values()
            if a.state == AgentState.TALKING and self.callers.get(a.call_id) == ANSWERED
        )

    def _agents(self, pick: random.Random) -> None:
        """What agents and their phones do meanwhile: only their own state changes."""
        engine, now, account = self.engine, self.now, pick.choice(ACCOUNTS)
        action = pick.choice(("login", "ready", "ready", "pause", "logout", "call_ended", "tick", "phone"))
        if action == "pause":
            engine.pause(account, "小休", now)
        elif action == "tick":
            engine.tick(now)
        elif action == "phone":
            engine.phone_state(account, PhoneStatus.FREE if pick.random() < 0.8 else PhoneStatus.IN_USE)
        else:
            getattr(engine, action)(account, now)


#: Where a caller stands while the engine holds them.
QUEUED = frozenset({CallerState.WAITING, CallerState.TRYING, CallerState.CALLBACK, CallerState.CALLING_BACK})


def walk(seed: int, steps: int) -> list[Change]:
    pick, traffic, changes = random.Random(seed), Traffic(), []
    for _ in range(steps):
        changes += traffic.step(pick.choice(TRIGGERS), pick)
    return changes


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_change_of_a_queued_call_random_traffic_makes_is_a_row_of_the_chart(seed: int) -> None:
    for before, trigger, after in walk(seed, 150):
        assert allows(before, trigger, after), (
            f"{before} --{trigger}--> {after} is not in acd/caller_chart.py"
        )


def test_every_row_the_engine_makes_happens() -> None:
    seen = set(walk(seed=12345, steps=20_000))
    for row in CHART:
        if row.by != "IVR" and row.trigger != "emergency_key":
            assert any((b, row.trigger, row.after) in seen for b in row.before), f"never seen: {row}"
