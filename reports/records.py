"""Call records and agents' state intervals, folded from the controller's own events: pure, no I/O.

Every event the controller publishes passes through ``Recorder.hear``, which
returns the changes to write: a call's record as it stands, one offer (leg) to
an agent, an agent's state interval opened or closed. A call's record is
written at each step, not only at its end, so a controller that dies mid-call
leaves the record open in the database; the next controller takes it up again
(``remember``) and the tracker's reconcile closes it with Asterisk's word.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from hotline.reports.figures import DayCall

#: How many ended calls are remembered against late events (hours of a busy centre's calls).
ENDED_KEPT = 20_000
#: How a transfer ends when the caller went on without the agent (转接量). A three-way call the agent
#: leaves (``agent_left``) stays a three-way call (三方通话量): it is not counted as a transfer too.
HANDED_ON = frozenset({"handed_over", "queued"})
#: The last word on a leg: it rings no more and nobody joins or leaves it after this.
LEG_ENDS = frozenset(
    {"not_answered", "withdrawn", "failed", "cancelled", "handed_over", "agent_left", "department_left"}
)


class Outcome(StrEnum):
    """How an inbound call ended (most telling first); a call still going has none until one is decided.

    An answer, an emergency hand-over, a voicemail, a callback asked for or the caller giving up decide it at
    once; otherwise it is decided at the hang-up. Until then the call is ``in_progress``: a caller waiting
    for an agent is neither answered nor abandoned, and the rates leave them out.
    """

    IN_PROGRESS = "in_progress"  # not over and nothing decided yet: in the greeting, or waiting for an agent
    ANSWERED = "answered"  # an agent took it
    EMERGENCY = "emergency"  # handed to 110/119/120
    VOICEMAIL = "voicemail"  # left a message (nights, or nobody signed in)
    CALLBACK = "callback"  # left the queue asking to be called back
    ABANDONED = "abandoned"  # hung up while waiting for an agent
    IVR = "ivr"  # ended in the greeting, before asking for an agent


def disposition(outcome: str, transfers: int, conferences: int) -> str:
    """How the call ended, for a reader of one record: the outcome, and for an answered call whether a
    department or 110 joined it (``three_way``) or the agent handed it on (``transferred``). The reports
    still count such a call as answered (接通), and its transfers and three-way calls apart."""
    if outcome != Outcome.ANSWERED:
        return outcome
    if conferences:
        return "three_way"
    return "transferred" if transfers else outcome


class EndedBy(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"  # Asterisk, the controller, or a restart


class LegKind(StrEnum):
    OFFER = "offer"  # the ACD rang an agent
    TRANSFER = "transfer"  # an agent dialled a number to hand the caller to (blind or attended)
    CONFERENCE = "conference"  # an agent dialled a department or 110 into a three-way call


@dataclass
class Leg:
    """One party the call reached for: an agent offered the call, or a number an agent dialled.

    ``result`` for an offer: ringing, answered, not_answered, withdrawn; for a dialled number: ringing,
    answered, then failed, cancelled (the agent called it off), handed_over (a transfer), joined,
    agent_left or department_left (a three-way call). ``agent`` is the agent rung, or the one who dialled.
    """

    call_id: str
    seq: int
    agent: str
    offered_at: float
    answered_at: float | None = None
    result: str = "ringing"
    kind: LegKind = LegKind.OFFER
    to: str = ""  # the number dialled
    mode: str = ""  # blind, attended, consult or conference, as the agent chose
    ended_at: float | None = None


@dataclass
class CallRecord:
    call_id: str
    line: str
    caller_number: str
    arrived_at: float
    skill: str = ""
    priority: str = ""  # the ACD's class: normal, repeat_caller, elderly, from_110
    queued_at: float | None = None
    offers: int = 0
    agent: str = ""
    answered_at: float | None = None
    talk_ended_at: float | None = None  # the agent's talk ended (their phone hung up); the call may go on
    abandoned_at: float | None = None
    callback_requested: bool = False
    callback_at: float | None = None  # the agent and the caller were connected by the callback
    callback_agent: str = ""
    voicemail: bool = False
    emergency_number: str = ""
    ended_at: float | None = None
    ended_by: str = ""
    cause: str = ""
    wrap_seconds: float = 0.0
    transfers: int = 0
    conferences: int = 0  # three-way calls a department or 110 joined
    rating: str = ""  # the caller's rating after the agent hung up (satisfied, basically_satisfied, ...)
    legs: int = 0  # offers and dialled numbers so far: the next leg's number

    @property
    def outcome(self) -> Outcome:
        if self.answered_at is not None:
            return Outcome.ANSWERED
        if self.emergency_number:
            return Outcome.EMERGENCY
        if self.voicemail:
            return Outcome.VOICEMAIL
        if self.callback_requested:
            return Outcome.CALLBACK
        if self.abandoned_at is not None:
            return Outcome.ABANDONED
        if self.ended_at is None:
            return Outcome.IN_PROGRESS
        return Outcome.ABANDONED if self.queued_at is not None else Outcome.IVR

    @property
    def waiting(self) -> bool:
        """Asked for an agent, and neither answered nor gone nor anything else decided yet."""
        return self.queued_at is not None and self.outcome is Outcome.IN_PROGRESS

    @property
    def wait_seconds(self) -> float | None:
        """From asking for an agent (or from arrival, when the call never queued) to the answer or to
        giving up; None while nothing of that happened."""
        start = self.queued_at if self.queued_at is not None else self.arrived_at
        end = self.answered_at or self.abandoned_at
        if end is None and self.ended_at is not None and self.outcome is Outcome.ABANDONED:
            end = self.ended_at
        return None if end is None else max(0.0, end - start)

    @property
    def talk_seconds(self) -> float | None:
        end = self.talk_ended_at or self.ended_at
        if self.answered_at is None or end is None:
            return None
        return max(0.0, end - self.answered_at)


def day_call(record: CallRecord) -> DayCall:
    """The record as the wallboard's chart of the day counts it."""
    stopped = record.answered_at if record.answered_at is not None else record.ended_at
    return DayCall(record.arrived_at, record.queued_at, stopped, record.outcome.value)


@dataclass(frozen=True)
class Interval:
    """An agent's time in one state (break with its reason); ``ended_at`` None while it lasts."""

    agent: str
    state: str
    break_reason: str
    started_at: float
    call_id: str = ""
    ended_at: float | None = None


@dataclass(frozen=True)
class WrapUpEnded:
    """The wrap-up after a call is over: its length belongs to that call's handling time."""

    call_id: str
    seconds: float


@dataclass(frozen=True)
class RecordingFiled:
    """A recording of the call was entered in the register, usually after the call's record closed."""

    call_id: str
    recording_id: int


@dataclass(frozen=True)
class CallbackMade:
    """A callback connected the agent and the caller: a field of the call it calls back."""

    call_id: str
    at: float
    agent: str


Change = CallRecord | Leg | Interval | WrapUpEnded | CallbackMade | RecordingFiled


@dataclass
class Recorder:
    """The fold. ``lines`` are the inbound numbers: calls on anything else (a supervisor's monitor, the
    originate of a callback) are not inbound calls and get no record of their own."""

    lines: Collection[str]
    calls: dict[str, CallRecord] = field(default_factory=dict)
    legs: dict[str, list[Leg]] = field(default_factory=dict)
    states: dict[str, Interval] = field(default_factory=dict)
    #: Calls that ended lately: a flow's last events can come after the hang-up and must not reopen them.
    ended: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def remember(self, records: Collection[CallRecord], intervals: Collection[Interval]) -> None:
        """What a previous controller left open."""
        for record in records:
            self.calls.setdefault(record.call_id, record)
        for interval in intervals:
            self.states.setdefault(interval.agent, interval)

    def close_missing(self, live: Collection[str], now: float, cause: str) -> list[Change]:
        """After a reconcile: records left open whose calls Asterisk no longer has (they ended while no
        controller ran, and no saved live-call table said so, as after a Redis loss) are closed."""
        changes: list[Change] = []
        for call_id in [c for c in self.calls if c not in live]:
            changes.extend(self.hear({"type": "call.hangup", "call_id": call_id, "cause": cause}, now))
        return changes

    def hear(self, event: Mapping[str, object], now: float) -> list[Change]:
        kind = str(event.get("type", ""))
        if kind == "agent.state":
            return self._agent_state(event, now)
        if kind == "acd.callback_answered":  # long after the call itself ended
            return self._callback_answered(event, now)
        if kind == "recording.filed":
            return self._recording_filed(event)
        call_id = str(event.get("call_id", ""))
        if not call_id:
            return []
        at = float(event["at"]) if isinstance(event.get("at"), int | float) else now  # type: ignore[arg-type]
        record = self.calls.get(call_id)
        if record is None:
            if call_id in self.ended or not self._starts_record(kind, event):
                return []
            record = self.calls[call_id] = CallRecord(
                call_id, str(event.get("line", "")), str(event.get("caller_number", "")), at
            )
        handler = getattr(self, "_on_" + kind.replace(".", "_"), None)
        changes: list[Change] = handler(record, event, at) if handler else []
        if kind == "call.hangup":
            self._end(record, event, at)
            changes.extend(self._end_legs(call_id, at))
            del self.calls[call_id]
            self.legs.pop(call_id, None)
            self.ended[call_id] = None
            while len(self.ended) > ENDED_KEPT:
                self.ended.popitem(last=False)
        return [replace(record), *changes]

    def _starts_record(self, kind: str, event: Mapping[str, object]) -> bool:
        """A call on an inbound line, or one the IVR took (its first events name it).

        Other ACD events about an unknown call are about a callback of a call whose record is closed:
        they must not open a new one over it.
        """
        if kind.startswith("ivr.") or kind == "acd.queued":
            return True
        return kind.startswith("call.") and str(event.get("line", "")) in self.lines

    # -- the call's steps --------------------------------------------------------

    def _on_acd_queued(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        if record.queued_at is None:
            record.queued_at = at
        record.skill = str(event.get("skill", record.skill))
        record.priority = str(event.get("priority") or record.priority)
        return []

    def _on_acd_offered(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        record.offers += 1
        return [self._new_leg(record, Leg(record.call_id, 0, str(event.get("agent", "")), at))]

    def _on_acd_not_answered(
        self, record: CallRecord, event: Mapping[str, object], at: float
    ) -> list[Change]:
        return self._settle_leg(record.call_id, str(event.get("agent", "")), "not_answered", None, at)

    def _on_call_bridged(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        agent = str(event.get("agent", ""))
        if not agent or record.answered_at is not None:
            return []
        record.agent, record.answered_at = agent, at
        return self._settle_leg(record.call_id, agent, "answered", at, at)

    def _on_acd_abandoned(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        record.abandoned_at = at
        return []

    def _on_acd_callback_requested(
        self, record: CallRecord, event: Mapping[str, object], at: float
    ) -> list[Change]:
        record.callback_requested = True
        return []

    def _on_ivr_voicemail(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        record.voicemail = True
        return []

    def _on_ivr_survey(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        record.rating = str(event.get("rating", ""))
        return []

    def _on_ivr_emergency(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        record.emergency_number = str(event.get("number", ""))
        return []

    def _on_call_transfer(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        if event.get("state") in HANDED_ON:
            record.transfers += 1
        if event.get("state") == "queued":  # back to the ACD: its offers are the legs
            return []
        return self._dialled(record, LegKind.TRANSFER, event, at)

    def _on_call_conference(self, record: CallRecord, event: Mapping[str, object], at: float) -> list[Change]:
        if event.get("state") == "joined":  # the agent leaving it later leaves a three-way call, no transfer
            record.conferences += 1
        return self._dialled(record, LegKind.CONFERENCE, event, at)

    def _dialled(
        self, record: CallRecord, kind: LegKind, event: Mapping[str, object], at: float
    ) -> list[Change]:
        """A number an agent dialled for the call: its leg opens at the first word and follows each step."""
        to, state = str(event.get("to", "")), str(event.get("state", ""))
        # A consult the agent joined into a three-way call from the phone (*3) is the same leg.
        kinds = (kind, LegKind.TRANSFER) if kind is LegKind.CONFERENCE else (kind,)
        leg = next(
            (
                leg
                for leg in reversed(self.legs.get(record.call_id, []))
                if leg.kind in kinds and leg.to == to and leg.result not in LEG_ENDS
            ),
            None,
        )
        if leg is not None:
            leg.kind, leg.mode = kind, str(event.get("mode", leg.mode))
        else:
            agent = str(event.get("agent") or event.get("by") or record.agent)
            leg = Leg(record.call_id, 0, agent, at, kind=kind, to=to, mode=str(event.get("mode", "")))
            self._new_leg(record, leg)
        if state == "answered" and leg.answered_at is None:
            leg.answered_at = at
        if state in {"answered", *LEG_ENDS} or (state == "joined" and kind is LegKind.CONFERENCE):
            leg.result = state
        if state in LEG_ENDS:
            leg.ended_at = at
        return [replace(leg)]

    def _end(self, record: CallRecord, event: Mapping[str, object], at: float) -> None:
        record.ended_at = at
        record.cause = str(event.get("cause", ""))
        ended_by = str(event.get("ended_by", ""))
        record.ended_by = ended_by if ended_by in set(EndedBy) else EndedBy.SYSTEM
        if record.agent == "" and event.get("agent"):  # answered while no controller was there to see it
            record.agent = str(event["agent"])

    @staticmethod
    def _recording_filed(event: Mapping[str, object]) -> list[Change]:
        recording_id = event.get("recording_id")
        if not event.get("call_id") or not isinstance(recording_id, int):
            return []
        return [RecordingFiled(str(event["call_id"]), recording_id)]

    def _callback_answered(self, event: Mapping[str, object], now: float) -> list[Change]:
        """The record it belongs to is usually closed by now: the store updates it where it lies."""
        call_id = str(event.get("call_id", ""))
        if not call_id:
            return []
        return [CallbackMade(call_id, now, str(event.get("agent", "")))]

    # -- legs ------------------------------------------------------------------

    def _new_leg(self, record: CallRecord, leg: Leg) -> Leg:
        record.legs += 1
        leg.seq = record.legs
        self.legs.setdefault(record.call_id, []).append(leg)
        return replace(leg)

    def _settle_leg(
        self, call_id: str, agent: str, result: str, answered_at: float | None, at: float
    ) -> list[Change]:
        for leg in reversed(self.legs.get(call_id, [])):
            if leg.kind is LegKind.OFFER and leg.agent == agent and leg.result == "ringing":
                leg.result, leg.answered_at = result, answered_at
                if result in LEG_ENDS:
                    leg.ended_at = at
                return [replace(leg)]
        return []

    def _end_legs(self, call_id: str, at: float) -> list[Change]:
        """The call's end ends its legs. A phone still ringing when the caller hung up was not the
        agent's miss, and a number still ringing was not refused: both are withdrawn."""
        ended = []
        for leg in self.legs.get(call_id, []):
            if leg.ended_at is None:
                leg.ended_at = at
                if leg.result == "ringing":
                    leg.result = "withdrawn"
                ended.append(replace(leg))
        return ended

    # -- agents' states ------------------------------------------------------------

    def _agent_state(self, event: Mapping[str, object], now: float) -> list[Change]:
        agent, state = str(event.get("agent", "")), str(event.get("state", ""))
        reason = str(event.get("break_reason") or "")
        since = event.get("since")
        at = float(since) if isinstance(since, int | float) else now
        current = self.states.get(agent)
        if current is not None and (current.state, current.break_reason) == (state, reason):
            return []
        changes: list[Change] = []
        if current is not None:
            ended = replace(current, ended_at=max(at, current.started_at))
            changes.append(ended)
            record = self.calls.get(current.call_id)
            if current.state == "talking" and record is not None and record.talk_ended_at is None:
                record.talk_ended_at = ended.ended_at
                changes.append(replace(record))
            if current.state == "wrap_up" and current.call_id:
                changes.append(WrapUpEnded(current.call_id, ended.ended_at - current.started_at))  # type: ignore[operator]
        call_id = str(event.get("call_id") or "")
        if state == "wrap_up" and current is not None and current.state == "talking":
            call_id = call_id or current.call_id  # the ACD names no call once it ended: the wrap-up is its
        if state == "talking" and call_id:  # a colleague answering a caller handed on: no second bridge
            changes.extend(self._settle_leg(call_id, agent, "answered", at, at))
        opened = Interval(agent, state, reason, at, call_id)
        self.states[agent] = opened
        return [*changes, opened]
