"""The state chart is what the engine does: every change random traffic makes is a row, every row happens."""

from __future__ import annotations

import contextlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.acd.chart import CHART, VIEW, Activity, Status, allows
from hotline.acd.engine import AcdError, AgentState, Engine, PhoneStatus, QueuedCall, Settings

NOT_FREE = (PhoneStatus.IN_USE, PhoneStatus.UNREGISTERED)

ACCOUNTS = ("1001", "1002", "1003")
TRIGGERS = (
    "login",
    "logout",
    "ready",
    "pause",
    "wrap_up",
    "arrive",
    "offer",
    "answered",
    "not_answered",
    "caller_left",
    "call_ended",
    "restart",
    "not_on_a_call",
    "phone",
)


class Traffic:
    """Drives the engine one trigger at a time and reports each agent's change as (before, trigger, after)."""

    def __init__(self) -> None:
        self.engine = Engine(Settings(wrap_up_seconds=5, missed_before_break=2))
        for account in ACCOUNTS:
            self.engine.add_agent(account, {"general": 5})
        self.now = 0.0
        self.arrived = 0

    def step(self, trigger: str, pick: random.Random) -> list[tuple[AgentState, str, AgentState]]:
        """Time passes first (wrap-ups that are due end), then the trigger."""
        self.now += pick.choice((0.0, 1.0, 6.0))
        return self._changes("wrap_up_over", self.engine.tick, self.now) + self._changes(
            trigger, self._pull, trigger, pick
        )

    def _changes(self, trigger, action, *args) -> list[tuple[AgentState, str, AgentState]]:
        before = {account: agent.state for account, agent in self.engine.agents.items()}
        with contextlib.suppress(AcdError):
            action(*args)
        return [
            (before[a], trigger, agent.state)
            for a, agent in self.engine.agents.items()
            if agent.state != before[a]
        ]

    def _pull(self, trigger: str, pick: random.Random) -> None:
        engine, now, account = self.engine, self.now, pick.choice(ACCOUNTS)
        ringing = [a for a in engine.agents.values() if a.state == AgentState.RINGING]
        if trigger in ("login", "logout", "ready", "wrap_up"):
            getattr(engine, trigger)(account, now)
        elif trigger == "pause":
            engine.pause(account, "小休", now)
        elif trigger == "arrive":
            engine.call_arrived(QueuedCall(f"c{self.arrived}", "12345", "general", now))
            self.arrived += 1
        elif trigger == "offer":
            engine.assign(now)
        elif trigger in ("answered", "not_answered") and ringing:
            agent = pick.choice(ringing)
            getattr(engine, trigger)(agent.call_id, agent.account, now)
        elif trigger == "caller_left" and engine.calls:
            call_id = pick.choice(sorted(engine.calls))
            if pick.random() < 0.5:
                engine.call_left(call_id, now)
            else:
                engine.leave_callback(call_id, "13800138000", now)
        elif trigger == "call_ended":
            engine.call_ended(account, now)
        elif trigger == "restart":
            engine.recover(now)
        elif trigger == "not_on_a_call":
            engine.phones_on_calls(pick.sample(ACCOUNTS, pick.randint(0, 2)), now)
        elif trigger == "phone":
            free = pick.random() < 0.7
            engine.phone_state(account, PhoneStatus.FREE if free else pick.choice(NOT_FREE))


def walk(seed: int, steps: int) -> list[tuple[AgentState, str, AgentState]]:
    pick, traffic, changes = random.Random(seed), Traffic(), []
    for _ in range(steps):
        changes += traffic.step(pick.choice(TRIGGERS), pick)
    return changes


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_change_random_traffic_makes_is_a_row_of_the_chart(seed: int) -> None:
    for before, trigger, after in walk(seed, 150):
        assert allows(before, trigger, after), f"{before} --{trigger}--> {after} is not in acd/chart.py"


def test_every_row_of_the_chart_happens() -> None:
    seen = set(walk(seed=12345, steps=20_000))
    for row in CHART:
        assert any((b, row.trigger, row.after) in seen for b in row.before), f"never seen: {row}"


def test_the_view_names_each_state_in_the_words_of_status_and_activity() -> None:
    assert set(VIEW) == set(AgentState)
    assert VIEW[AgentState.BREAK] == (Status.ON_BREAK, Activity.IDLE)
    assert VIEW[AgentState.RINGING] == (Status.AVAILABLE, Activity.RECEIVING)
