"""Live calls, rebuilt from AMI events: pure logic, no I/O.

A call is everything that shares Asterisk's ``Linkedid``: the caller's channel
and the legs dialled for it. The tracker turns channel-level AMI events into a
few call-level events a person can follow (ringing, answered, bridged to an
agent, hung up), each carrying the caller's number and name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field

Event = Mapping[str, object]


#: Why a call that vanished from Asterisk's channel list ended, as its hang-up event says.
ASTERISK_RESTARTED = "Asterisk restarted"
GONE_WHILE_AWAY = "gone while the controller was away"


@dataclass
class LiveCall:
    call_id: str
    caller_number: str
    caller_name: str
    line: str
    started_at: float
    state: str = "ringing"
    agent: str = ""
    ended_by: str = ""  # whose side asked to hang up first: caller, agent or system
    caller_channel: str = ""  # the caller's own leg (its unique id is the call id)
    channels: set[str] = field(default_factory=set)
    bridged: set[str] = field(default_factory=set)

    def agent_leg(self) -> str | None:
        """The leg of the agent who answered the call, while it lasts (what ChanSpy and transfers act on)."""
        return next((c for c in sorted(self.channels) if self.agent and account_of(c) == self.agent), None)

    def summary(self) -> dict[str, object]:
        data = asdict(self)
        data["channels"] = sorted(self.channels)
        data["bridged"] = sorted(self.bridged)
        return data

    @classmethod
    def from_summary(cls, data: Mapping[str, object]) -> LiveCall:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["channels"] = set(known.get("channels", ()))  # type: ignore[arg-type]
        known["bridged"] = set(known.get("bridged", ()))  # type: ignore[arg-type]
        return cls(**known)  # type: ignore[arg-type]


def _bridged_to_agent(call: LiveCall) -> bool:
    return bool(call.agent) and len(call.bridged) > 1


def account_of(channel: str) -> str:
    """``PJSIP/1001-0000000a`` -> ``1001``."""
    technology, _, rest = channel.partition("/")
    return rest.rsplit("-", 1)[0] if technology.upper() == "PJSIP" else ""


def is_tap(channel: str) -> bool:
    """The controller's own ear on a channel (``AudioSocket/…``, audiosocket.py): no call of its own."""
    return channel.startswith("AudioSocket/")


class CallTracker:
    def __init__(
        self,
        is_agent: Callable[[str], bool],
        clock: Callable[[], float],
        line_of: Callable[[str], str] = str,
    ) -> None:
        """``line_of``: the line a dialled number is answered as (a number map: an old department
        number is its line), so every event of the call names the same line."""
        self._is_agent = is_agent
        self._clock = clock
        self._line_of = line_of
        self.calls: dict[str, LiveCall] = {}
        self._call_of_channel: dict[str, str] = {}

    def handle(self, event: Event) -> list[dict[str, object]]:
        """Apply one AMI event; returns the call events it causes (often none)."""
        if is_tap(str(event.get("Channel", ""))):
            return []
        kind = str(event.get("Event", ""))
        handler = getattr(self, f"_on_{kind.lower()}", None)
        return handler(event) if handler else []

    def remember(self, summaries: Mapping[str, Mapping[str, object]]) -> None:
        """The live calls a previous controller saved: those that ended meanwhile are reported at
        the next reconcile, instead of never getting their hang-up event."""
        for call_id, summary in summaries.items():
            if call_id not in self.calls:
                call = LiveCall.from_summary(summary)
                self.calls[call_id] = call
                self._call_of_channel.update(dict.fromkeys(call.channels, call_id))

    def reconcile(
        self, channels: Iterable[Event], asterisk_started: float | None = None
    ) -> list[dict[str, object]]:
        """Rebuild the table from ``CoreShowChannels`` after a (re)connect.

        Calls that vanished while we were away are reported as hung up; those that began before
        Asterisk's own start (``asterisk_started``, a clock time) ended with it. Calls that began
        or moved on while we were away (the fallback queue answered them) are reported as they
        stand now.
        """
        before = self.calls
        self.calls, self._call_of_channel = {}, {}
        # The caller's leg first, whatever order Asterisk lists them in: a call's number is the caller's.
        listed = [c for c in channels if not is_tap(str(c.get("Channel", "")))]
        for channel in sorted(listed, key=lambda c: self._is_agent(account_of(str(c.get("Channel", ""))))):
            self._add_channel(
                channel, state="answered" if channel.get("ChannelStateDesc") == "Up" else "ringing"
            )
            if channel.get("BridgeId"):
                self._bridge(channel)
        found = []
        for call_id, call in self.calls.items():
            known = before.get(call_id)
            if known is not None:
                call.started_at = known.started_at
            if _bridged_to_agent(call) and (known is None or not _bridged_to_agent(known)):
                found.append(self._emit("call.bridged", call))
            elif known is None or (known.state, call.state) == ("ringing", "answered"):
                found.append(self._emit(f"call.{call.state}", call))
        gone = [call for call_id, call in before.items() if call_id not in self.calls]
        return found + [
            self._emit(
                "call.hangup",
                call,
                cause=ASTERISK_RESTARTED
                if asterisk_started is not None and call.started_at < asterisk_started
                else GONE_WHILE_AWAY,
                ended_by=call.ended_by or "system",
            )
            for call in gone
        ]

    # -- AMI events --------------------------------------------------------

    def _on_newchannel(self, event: Event) -> list[dict[str, object]]:
        call, is_new = self._add_channel(event, state="ringing")
        return [self._emit("call.ringing", call)] if is_new else []

    def _on_newstate(self, event: Event) -> list[dict[str, object]]:
        call = self._call_for(event)
        if call is None or event.get("ChannelStateDesc") != "Up" or call.state != "ringing":
            return []
        if str(event.get("Uniqueid")) != call.call_id:
            return []
        call.state = "answered"
        return [self._emit("call.answered", call)]

    def _on_newcallerid(self, event: Event) -> list[dict[str, object]]:
        call = self._call_for(event)
        if call is not None and str(event.get("Uniqueid")) == call.call_id:
            call.caller_number = str(event.get("CallerIDNum", call.caller_number))
            call.caller_name = str(event.get("CallerIDName", call.caller_name))
        return []

    def _on_bridgeenter(self, event: Event) -> list[dict[str, object]]:
        call = self._call_for(event)
        if call is None:
            return []
        if self._bridge(event) and call.state != "bridged":
            call.state = "bridged"
            return [self._emit("call.bridged", call)]
        return []

    def _on_bridgeleave(self, event: Event) -> list[dict[str, object]]:
        call = self._call_for(event)
        if call is not None:
            call.bridged.discard(str(event.get("Channel", "")))
        return []

    def _on_hanguprequest(self, event: Event) -> list[dict[str, object]]:
        """A hang-up asked for by the channel's far end (a BYE): the first one names who ended the call.
        The other legs then get ``SoftHangupRequest``, Asterisk's own doing, which is not heard here."""
        call = self._call_for(event)
        if call is not None and not call.ended_by:
            if str(event.get("Uniqueid")) == call.call_id:
                call.ended_by = "caller"
            elif self._is_agent(account_of(str(event.get("Channel", "")))):
                call.ended_by = "agent"
        return []

    def _on_hangup(self, event: Event) -> list[dict[str, object]]:
        channel = str(event.get("Channel", ""))
        call_id = self._call_of_channel.pop(channel, None)
        call = self.calls.get(call_id) if call_id else None
        if call is None:
            return []
        call.channels.discard(channel)
        call.bridged.discard(channel)
        if call.channels:
            return []
        del self.calls[call.call_id]
        cause = str(event.get("Cause-txt", ""))
        return [self._emit("call.hangup", call, cause=cause, ended_by=call.ended_by or "system")]

    # -- helpers -----------------------------------------------------------

    def _call_for(self, event: Event) -> LiveCall | None:
        call_id = self._call_of_channel.get(str(event.get("Channel", "")))
        return self.calls.get(call_id) if call_id else None

    def _add_channel(self, event: Event, state: str) -> tuple[LiveCall, bool]:
        call_id = str(event.get("Linkedid") or event.get("Uniqueid"))
        channel = str(event.get("Channel", ""))
        call = self.calls.get(call_id)
        is_new = call is None
        if call is None:
            call = LiveCall(
                call_id=call_id,
                caller_number=str(event.get("CallerIDNum", "")),
                caller_name=str(event.get("CallerIDName", "")),
                line=self._line_of(str(event.get("Exten", ""))),
                started_at=self._clock(),
                state=state,
            )
            self.calls[call_id] = call
        call.channels.add(channel)
        if str(event.get("Uniqueid")) == call_id:
            call.caller_channel = channel
        self._call_of_channel[channel] = call_id
        return call, is_new

    def _bridge(self, event: Event) -> bool:
        """Record a channel in a bridge; True when an agent's leg is bridged."""
        call = self._call_for(event)
        if call is None:
            return False
        channel = str(event.get("Channel", ""))
        call.bridged.add(channel)
        account = account_of(channel)
        if account and self._is_agent(account):
            call.agent = account
        return (
            bool(call.agent) and call.agent in {account_of(c) for c in call.bridged} and len(call.bridged) > 1
        )

    def _emit(self, kind: str, call: LiveCall, **extra: object) -> dict[str, object]:
        return {
            "type": kind,
            "call_id": call.call_id,
            "caller_number": call.caller_number,
            "caller_name": call.caller_name,
            "line": call.line,
            "agent": call.agent,
            "at": self._clock(),
            **extra,
        }
