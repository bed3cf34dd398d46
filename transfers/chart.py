"""The consult's state chart, read as a table: a transfer or a three-way call from dialling to its end.

A consult is a number dialled from a call's agent leg (Asterisk's attended
transfer, ``Atxfer``), for a **purpose**: blind, attended or three-way. Its
**state** is where it stands: dialling (asked, not yet dialled), ringing,
answered, joined (three-way: all three in one bridge), then one of the ends,
told once; then the call has no consult again.
A hand-back to the ACD (a colleague or a skill group) is no consult: it is
queued, or refused, at once; refused while a consult goes on, which goes on.

The states are the words of the ``call.transfer`` and ``call.conference``
events. ``CHART`` is every move ``transfers/control.py`` makes, as rows; a
test drives it with Asterisk's events in random order and checks that each
change is a row here, and that each row is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Purpose(StrEnum):
    """What the number is consulted for (the events' ``mode``)."""

    BLIND = "blind"
    ATTENDED = "attended"
    THREE_WAY = "three-way"


class ConsultState(StrEnum):
    #: No consult on the call: before one is asked, after one ended (told, or not: the call went).
    NONE = "none"
    DIALLING = "dialling"
    RINGING = "ringing"
    ANSWERED = "answered"
    JOINED = "joined"
    HANDED_OVER = "handed_over"
    AGENT_LEFT = "agent_left"
    DEPARTMENT_LEFT = "department_left"
    FAILED = "failed"
    CANCELLED = "cancelled"
    QUEUED = "queued"
    REFUSED = "refused"


NONE, DIALLING, RINGING, ANSWERED, JOINED = (
    ConsultState.NONE,
    ConsultState.DIALLING,
    ConsultState.RINGING,
    ConsultState.ANSWERED,
    ConsultState.JOINED,
)
HANDED_OVER, AGENT_LEFT, DEPARTMENT_LEFT, FAILED, CANCELLED, QUEUED, REFUSED = (
    ConsultState.HANDED_OVER,
    ConsultState.AGENT_LEFT,
    ConsultState.DEPARTMENT_LEFT,
    ConsultState.FAILED,
    ConsultState.CANCELLED,
    ConsultState.QUEUED,
    ConsultState.REFUSED,
)
#: A consult on the call, still going.
GOING = frozenset({DIALLING, RINGING, ANSWERED, JOINED})
ALL = frozenset(Purpose)


@dataclass(frozen=True)
class Move:
    """From any of ``before``, ``trigger`` leads a consult of one of ``purposes`` to ``after``."""

    before: frozenset[ConsultState]
    trigger: str
    after: ConsultState
    purposes: frozenset[Purpose]
    note: str = ""


def move(
    before: set[ConsultState] | frozenset[ConsultState],
    trigger: str,
    after: ConsultState,
    purposes: set[Purpose] | frozenset[Purpose] = ALL,
    note: str = "",
) -> Move:
    return Move(frozenset(before), trigger, after, frozenset(purposes), note)


BLIND, ATTENDED, THREE_WAY = Purpose.BLIND, Purpose.ATTENDED, Purpose.THREE_WAY

CHART: tuple[Move, ...] = (
    move({NONE}, "asked", DIALLING, ALL, "by the API, once Asterisk took the Atxfer on the agent's leg"),
    move({NONE}, "dialled_from_phone", RINGING, {ATTENDED}, "*8 and a number: followed from Asterisk's dial"),
    move({DIALLING}, "dial_begin", RINGING, ALL, "blind: the agent's leg is ended, the caller waits for it"),
    move({RINGING}, "dial_answered", ANSWERED, ALL, "three-way: the keys *3 follow; blind: a race"),
    move({RINGING}, "dial_failed", FAILED, ALL, "busy, no answer; a trunk that failed is tried again first"),
    move({RINGING}, "dial_failed", CANCELLED, ALL, "the agent called it off (API, or *1 on the phone)"),
    move({RINGING}, "local_hung_up", FAILED, ALL, "the dialling leg ended: no trunk could carry it"),
    move({RINGING}, "local_hung_up", CANCELLED, ALL, "the agent called it off while trunks were tried"),
    move({ANSWERED}, "joined", JOINED, {ATTENDED, THREE_WAY}, "the keys *3: attended becomes three-way"),
    move({RINGING, ANSWERED}, "transferred", HANDED_OVER, {ATTENDED}, "the agent hung up: Asterisk joined"),
    move({DIALLING, RINGING, ANSWERED}, "agent_hung_up", HANDED_OVER, {BLIND}),
    move({JOINED}, "agent_hung_up", AGENT_LEFT, {THREE_WAY}, "caller and department stay"),
    move({RINGING, ANSWERED}, "department_hung_up", FAILED, ALL, "before the hand-over or the join"),
    move({RINGING, ANSWERED}, "department_hung_up", CANCELLED, ALL, "the agent called it off"),
    move({JOINED}, "department_hung_up", DEPARTMENT_LEFT, {THREE_WAY}),
    move({JOINED}, "department_hung_up", CANCELLED, {THREE_WAY}, "the agent dropped the department"),
    move(GOING, "call_gone", NONE, ALL, "the call ended, or went while the controller was away: no event"),
    move({NONE}, "handed_back", QUEUED, {BLIND}, "to a colleague or a skill group, through the ACD"),
    move(
        {NONE} | GOING,
        "handed_back",
        REFUSED,
        ALL,
        "from the phone (*8 00): nobody to take it, or a consult goes on, which goes on (the API: 409)",
    ),
)


def allows(before: ConsultState, trigger: str, after: ConsultState, purpose: Purpose) -> bool:
    return any(
        before in m.before and m.trigger == trigger and m.after == after and purpose in m.purposes
        for m in CHART
    )
