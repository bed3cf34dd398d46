"""The agent's state chart, read as a table, in the words mod_callcenter and app_queue users know.

An agent has a **status**, which the agent chooses: logged out, available, or
on break (app_queue's "paused"). They also have a **state**, which is where
their work stands: idle, waiting for a call, receiving one (ringing), in a
call, or in wrap-up. The engine keeps both in one ``AgentState``. ``VIEW``
splits them for a wallboard.

The phone's own device state (``Agent.phone``) is a third fact: an
available, waiting agent whose phone is unregistered or busy with a call the
ACD did not offer is not offered one, and the view says which.

``CHART`` is every move the engine makes, as rows. A property test drives
random traffic through the engine and checks that each change it sees is a
row here, and that each row is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline.acd.engine import PHONE_NOTES, Agent, AgentState

LOGGED_OUT, READY, RINGING, TALKING, WRAP_UP, BREAK = (
    AgentState.LOGGED_OUT,
    AgentState.READY,
    AgentState.RINGING,
    AgentState.TALKING,
    AgentState.WRAP_UP,
    AgentState.BREAK,
)


class Status(StrEnum):
    """What the agent chose (mod_callcenter's status)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    ON_BREAK = "on_break"


class Activity(StrEnum):
    """Where their work stands (mod_callcenter's state, plus wrap-up)."""

    IDLE = "idle"
    WAITING = "waiting"
    RECEIVING = "receiving"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"


VIEW: dict[AgentState, tuple[Status, Activity]] = {
    LOGGED_OUT: (Status.LOGGED_OUT, Activity.IDLE),
    READY: (Status.AVAILABLE, Activity.WAITING),
    RINGING: (Status.AVAILABLE, Activity.RECEIVING),
    TALKING: (Status.AVAILABLE, Activity.IN_CALL),
    WRAP_UP: (Status.AVAILABLE, Activity.WRAP_UP),
    BREAK: (Status.ON_BREAK, Activity.IDLE),
}


@dataclass(frozen=True)
class Move:
    """From any of ``before``, ``trigger`` (made by ``by``) leads to ``after``."""

    before: frozenset[AgentState]
    trigger: str
    after: AgentState
    by: str
    note: str = ""


def move(before: set[AgentState], trigger: str, after: AgentState, by: str, note: str = "") -> Move:
    return Move(frozenset(before), trigger, after, by, note)


CHART: tuple[Move, ...] = (
    move({LOGGED_OUT}, "login", BREAK, "agent", "signed in on a break (小休) until they turn ready"),
    move({READY, WRAP_UP, BREAK}, "logout", LOGGED_OUT, "agent", "refused while ringing or in a call"),
    move({WRAP_UP, BREAK}, "ready", READY, "agent", "refused when logged out, ringing or in a call"),
    move({READY, WRAP_UP}, "pause", BREAK, "agent", "with a reason from BREAK_REASONS"),
    move({READY, BREAK}, "wrap_up", WRAP_UP, "agent", "more after-call time, held until they turn ready"),
    move({READY}, "offer", RINGING, "ACD", "only while the phone is free"),
    move({RINGING}, "answered", TALKING, "phone"),
    move({RINGING}, "not_answered", READY, "phone", "the call keeps its place"),
    move({RINGING}, "not_answered", BREAK, "phone", "after missed_before_break misses in a row (连续未接)"),
    move({RINGING}, "caller_left", READY, "caller", "hung up, or left a callback, while the phone rang"),
    move({TALKING}, "call_ended", WRAP_UP, "phone", "wrap-up for wrap_up_seconds"),
    move({WRAP_UP}, "wrap_up_over", READY, "clock"),
    move({RINGING}, "restart", READY, "controller", "a ring cannot outlive the flow that placed it"),
    move({TALKING}, "not_on_a_call", WRAP_UP, "Asterisk", "the channel list shows the phone free"),
)


def allows(before: AgentState, trigger: str, after: AgentState) -> bool:
    return any(before in m.before and m.trigger == trigger and m.after == after for m in CHART)


def agent_view(agent: Agent) -> dict[str, object]:
    """An agent's state as the web page and the wallboard show it."""
    return {
        "agent": agent.account,
        "state": agent.state.value,
        "break_reason": agent.break_reason,
        "since": agent.since,
        "call_id": agent.call_id,
        "skills": agent.skills,
        "calls": agent.calls,
        "phone_free": agent.phone_free,
        "phone": agent.phone.value,
        "phone_note": PHONE_NOTES[agent.phone],
    }
