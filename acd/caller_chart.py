"""The queued caller's state chart, read as a table, in the words of mod_callcenter's members and app_queue.

A caller arrives in the IVR (greeting, menu). Queued, they are **waiting**
(mod_callcenter's Waiting, app_queue's QueueCallerJoin); while an agent's
phone rings for them they are **trying** (mod_callcenter's Trying, app_queue's
AgentCalled). Answered, they leave the queue (Answered, AgentConnect). A ring
nobody answers puts them back, with their place (AgentRingNoAnswer). They may
hang up (Abandoned, QueueCallerAbandon), choose voicemail, or leave a
callback: the caller hangs up and keeps the place, and when it comes the
agent's phone rings, then theirs (calling back). A controller that stops hands
the waiting callers to Asterisk's fallback queue (QueueCallerLeave).

The engine keeps no state word on a ``QueuedCall``: ``caller_state`` reads it
from the record (offered to an agent or not, a callback number or not).
``CHART`` is every move, as rows; a property test drives random traffic
through the engine and checks that each change of a queued call is a row here,
and that each row the engine makes is seen. The rows ``by`` the IVR are the
flow's own (``ivr/flows.py``): the engine never sees those callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline.acd.engine import QueuedCall


class CallerState(StrEnum):
    ARRIVING = "arriving"  # in the IVR, not yet queued
    WAITING = "waiting"
    TRYING = "trying"  # an agent's phone rings for them (acd.offered)
    ANSWERED = "answered"  # with an agent; out of the queue
    ABANDONED = "abandoned"  # hung up while queued (acd.abandoned)
    VOICEMAIL = "voicemail"  # left a message instead (ivr.voicemail)
    EMERGENCY = "emergency"  # put through to 110 from the menu (ivr.emergency)
    CALLBACK = "callback"  # hung up, keeping the place (acd.callback_requested)
    CALLING_BACK = "calling_back"  # the place came up: the agent's phone rings (acd.callback_dialing)
    LEFT = "left"  # taken out of the queue: a callback to a number the dialling plan refuses
    FALLBACK = "fallback"  # the controller stopped: Asterisk's fallback queue has them


ARRIVING, WAITING, TRYING, ANSWERED, ABANDONED, VOICEMAIL, EMERGENCY = (
    CallerState.ARRIVING,
    CallerState.WAITING,
    CallerState.TRYING,
    CallerState.ANSWERED,
    CallerState.ABANDONED,
    CallerState.VOICEMAIL,
    CallerState.EMERGENCY,
)
CALLBACK, CALLING_BACK, LEFT, FALLBACK = (
    CallerState.CALLBACK,
    CallerState.CALLING_BACK,
    CallerState.LEFT,
    CallerState.FALLBACK,
)


def caller_state(call: QueuedCall) -> CallerState:
    """Where a call the engine holds stands."""
    if call.callback_number:
        return CALLING_BACK if call.offered_to else CALLBACK
    return TRYING if call.offered_to else WAITING


@dataclass(frozen=True)
class Move:
    """From any of ``before``, ``trigger`` (made by ``by``) leads to ``after``."""

    before: frozenset[CallerState]
    trigger: str
    after: CallerState
    by: str
    note: str = ""


def move(before: set[CallerState], trigger: str, after: CallerState, by: str, note: str = "") -> Move:
    return Move(frozenset(before), trigger, after, by, note)


CHART: tuple[Move, ...] = (
    move({ARRIVING}, "queued", WAITING, "IVR", "before the description, in order of arrival and priority"),
    move({ARRIVING}, "no_agent", VOICEMAIL, "IVR", "nobody signed in for its skills"),
    move({ARRIVING}, "emergency_key", EMERGENCY, "caller"),
    move({WAITING}, "offer", TRYING, "ACD", "a ready agent with a free phone"),
    move({TRYING}, "answered", ANSWERED, "phone"),
    move({TRYING}, "not_answered", WAITING, "phone", "with the place kept; another agent is tried first"),
    move({WAITING, TRYING}, "hung_up", ABANDONED, "caller", "a ringing agent turns ready again"),
    move({WAITING, TRYING}, "voicemail_key", VOICEMAIL, "caller", "a ringing agent turns ready again"),
    move({WAITING, TRYING}, "callback_key", CALLBACK, "caller", "the place kept; a ring is withdrawn"),
    move({CALLBACK}, "offer", CALLING_BACK, "ACD", "the agent's phone first, then the caller's"),
    move({CALLING_BACK}, "answered", ANSWERED, "phone"),
    move({CALLING_BACK}, "not_answered", CALLBACK, "phone", "with the place kept"),
    move({CALLING_BACK}, "number_refused", LEFT, "controller", "the dialling plan refuses the number"),
    move({WAITING, TRYING}, "stop", FALLBACK, "controller", "to Asterisk's fallback queue, in order"),
    move({WAITING, TRYING}, "restart", FALLBACK, "controller", "their flows went with the last controller"),
    move({CALLING_BACK}, "restart", CALLBACK, "controller", "a ring cannot outlive the flow that placed it"),
    move({ANSWERED}, "handed_back", WAITING, "agent", "to a colleague or a skill, with the first place"),
)


def allows(before: CallerState, trigger: str, after: CallerState) -> bool:
    return any(before in m.before and m.trigger == trigger and m.after == after for m in CHART)
