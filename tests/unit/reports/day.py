"""A day of calls of every kind, as the controller's events, and the figures a person counts by hand.

The unit tests fold these events in memory; the integration tests send the same
day through the record book into SQLite and PostgreSQL. Either way each figure
is compared with a count made here from the kinds of the calls placed, never
from the records the code made of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

#: Every kind of call a day holds: answered at once, still waiting at the end of the day, waiting while
#: the only agent is on a break then answered, made a three-way call with 12315, handed on to 12315,
#: left asking for a callback (made later), left as a voicemail, given up while waiting.
KINDS = (
    "answered",
    "waiting",
    "waited_through_a_break",
    "three_way",
    "transfer",
    "callback",
    "voicemail",
    "abandoned",
)
#: The kinds whose caller asked for an agent and whose wait has ended (the answer rate's whole).
REQUESTED = frozenset(KINDS) - {"waiting", "voicemail"}
ANSWERED = frozenset({"answered", "waited_through_a_break", "three_way", "transfer"})
LINE = "12345"


@dataclass(frozen=True)
class Placed:
    """One call the test places: arriving at ``arrived``, asking for an agent 2 s later, waiting ``wait``."""

    call_id: str
    kind: str
    arrived: float
    wait: float
    caller_number: str = "13800000000"

    @property
    def queued(self) -> float:
        return self.arrived + 2.0

    @property
    def ends(self) -> float:
        """When the call is over (long after, for a call still waiting: never within the day)."""
        return self.queued + self.wait + 400.0


def placed_one_after_another(kinds: Iterable[str], waits: Iterable[float], start: float) -> list[Placed]:
    """Calls arriving one after the other, each after the one before ended (the waiting one is left open)."""
    calls, at = [], start
    for serial, (kind, wait) in enumerate(zip(kinds, waits, strict=True)):
        calls.append(Placed(f"c{serial}-{kind}", kind, at, wait, f"1380000{serial:04d}"))
        at = calls[-1].ends + 10.0
    return calls


def events(call: Placed) -> Iterator[tuple[float, dict]]:
    """The events the controller publishes for the call, in order, each with its moment."""
    about = {"call_id": call.call_id, "caller_number": call.caller_number, "caller_name": "", "line": LINE}
    answered_at = call.queued + call.wait
    steps: list[tuple[float, str, dict]] = [(call.arrived, "call.ringing", {})]
    if call.kind == "voicemail":
        steps += [(call.arrived + 2.0, "ivr.voicemail", {"reason": "无坐席值守"})]
        steps += [(call.arrived + 60.0, "call.hangup", {"ended_by": "caller"})]
        yield from _stamped(steps, about)
        return
    steps.append((call.queued, "acd.queued", {"skill": "general", "priority": "normal"}))
    agent = "1002" if call.kind == "waited_through_a_break" else "1001"
    if call.kind == "waited_through_a_break":  # the only agent comes back from the break just before
        yield answered_at - 3.0, _state(agent, "ready", answered_at - 3.0)
    if call.kind in ANSWERED:
        steps += [
            (answered_at - 1.0, "acd.offered", {"agent": agent}),
            (answered_at, "call.bridged", {"agent": agent}),
        ]
        dialled = {"agent": agent, "by": agent, "to": "12315"}
        if call.kind == "three_way":
            for offset, state in (
                (20.0, "dialling"),
                (26.0, "answered"),
                (27.0, "joined"),
                (60.0, "agent_left"),
            ):
                steps.append(
                    (
                        answered_at + offset,
                        "call.conference",
                        {**dialled, "mode": "conference", "state": state},
                    )
                )
        if call.kind == "transfer":
            for offset, state in ((20.0, "dialling"), (26.0, "answered"), (30.0, "handed_over")):
                steps.append(
                    (answered_at + offset, "call.transfer", {**dialled, "mode": "attended", "state": state})
                )
        steps.append((answered_at + 120.0, "call.hangup", {"agent": agent, "ended_by": "caller"}))
        if call.kind == "waited_through_a_break":  # and back on a break once the call is over
            yield answered_at + 121.0, _state(agent, "break", answered_at + 121.0, "用餐")
    elif call.kind == "callback":
        steps += [(answered_at, "acd.callback_requested", {"callback_number": call.caller_number})]
        steps += [(answered_at + 1.0, "call.hangup", {"ended_by": "caller"})]
    elif call.kind == "abandoned":
        steps += [(answered_at, "acd.abandoned", {"waited": call.wait, "callback": False})]
        steps += [(answered_at + 0.1, "call.hangup", {"ended_by": "caller"})]
    yield from _stamped(steps, about)


def _stamped(steps: Sequence[tuple[float, str, dict]], about: dict) -> Iterator[tuple[float, dict]]:
    for at, kind, extra in steps:
        yield at, {"type": kind, **about, "at": at, **extra}


def _state(agent: str, state: str, since: float, reason: str = "") -> dict:
    return {"type": "agent.state", "agent": agent, "state": state, "break_reason": reason, "since": since}


def later(calls: Sequence[Placed], at: float) -> Iterator[tuple[float, dict]]:
    """What follows the calls: each callback made, each voicemail's recording entered in the register."""
    for serial, call in enumerate(calls):
        about = {"call_id": call.call_id, "caller_number": call.caller_number}
        if call.kind == "callback":
            yield at, {"type": "acd.callback_answered", **about, "agent": "1001"}
        if call.kind == "voicemail":
            yield at, {"type": "recording.filed", "call_id": call.call_id, "recording_id": 900 + serial}


def day_events(calls: Sequence[Placed], start: float) -> list[tuple[float, dict]]:
    """The whole day in order: agent 1002 on a break from the start, the calls, then what follows them."""
    steps = [(start, _state("1002", "break", start, "用餐"))]
    for call in calls:
        steps.extend(events(call))
    last = max((at for at, _ in steps), default=start)
    steps.extend(later(calls, last + 5.0))
    return sorted(steps, key=lambda step: step[0])


def half_hours_by_hand(calls: Sequence[Placed], day_start: float) -> dict[int, tuple[int, int, int]]:
    """Per half hour of arrival: calls arrived, answered, abandoned (a caller still waiting is neither)."""
    slots: dict[int, tuple[int, int, int]] = {}
    for call in calls:
        index = int((call.arrived - day_start) // 1800)
        offered, answered, abandoned = slots.get(index, (0, 0, 0))
        slots[index] = (
            offered + 1,
            answered + (call.kind in ANSWERED),
            abandoned + (call.kind == "abandoned"),
        )
    return slots


def by_hand(calls: Sequence[Placed]) -> dict[str, object]:
    """The figures, counted from what the test placed."""
    kinds = Counter(call.kind for call in calls)
    answered = [call for call in calls if call.kind in ANSWERED]
    requested = sum(kinds[kind] for kind in REQUESTED)
    return {
        "offered": len(calls),
        "requested": requested,
        "answered": len(answered),
        "waiting": kinds["waiting"],
        "abandoned": kinds["abandoned"],
        "abandoned_short": sum(1 for c in calls if c.kind == "abandoned" and c.wait < 5.0),
        "answer_rate": round(len(answered) / requested, 4) if requested else None,
        "answered_within_15s_rate": (
            round(sum(1 for c in answered if c.wait <= 15.0) / requested, 4) if requested else None
        ),
        "asa_seconds": round(sum(c.wait for c in answered) / len(answered), 1) if answered else None,
        "callbacks": kinds["callback"],
        "callbacks_made": kinds["callback"],
        "voicemails": kinds["voicemail"],
        "transfers": kinds["transfer"],
        "conferences": kinds["three_way"],
    }
