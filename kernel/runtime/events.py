"""The event catalogue: every event type the controller publishes, what it means and what it carries.

Websocket clients (supervisors' wallboards, agents' workspaces) read it at
``/api/events/catalogue.json``, beside the OpenAPI description. The live state
refuses to publish a type that is not here, so the catalogue cannot fall
behind the code; nor can a payload: it carries every field its type requires,
may carry the optional ones, and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

#: Hands one event to the streams (behind everything already queued); its ``type`` must be catalogued.
Publish = Callable[[dict[str, object]], Awaitable[None]]

#: What every event about a call carries, so a screen can show whose call it is.
CALL = ("call_id", "caller_number", "caller_name", "line")


class UncataloguedEvent(ValueError):
    """An event the catalogue does not describe: an unknown type, a field its type does not list, or one
    of its required fields missing."""


@dataclass(frozen=True)
class EventType:
    """``fields`` are in every event of the type; ``optional`` only in some, as the description says."""

    name: str
    description: str
    fields: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def mismatch(self, event: Mapping[str, object]) -> str:
        """What is wrong with this payload for this type (empty when nothing is)."""
        carried = set(event) - {"type"}
        missing = [f for f in self.fields if f not in carried]
        undeclared = sorted(carried - set(self.fields) - set(self.optional))
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if undeclared:
            problems.append(f"undeclared {', '.join(undeclared)}")
        return "; ".join(problems)


CATALOGUE: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType("call.ringing", "a call reached the system", (*CALL, "agent", "at")),
        EventType("call.answered", "the system answered the call", (*CALL, "agent", "at")),
        EventType("call.bridged", "the caller and an agent are talking", (*CALL, "agent", "at")),
        EventType(
            "call.hangup",
            "the call ended; cause says how, ended_by whose side hung up first (caller, agent or system)",
            (*CALL, "agent", "at", "cause", "ended_by"),
        ),
        EventType(
            "call.transfer",
            "an agent's transfer: to a number (blind, attended; linkage names 110/119/120/122 when it is the "
            "emergency linkage) or back to the ACD (state queued, or refused with error_id and reason when "
            "asked from the phone: *8 00 and an account or skill); state dialling, ringing, answered, "
            "handed_over, failed (status: how Asterisk's dial ended, when it says) or cancelled "
            "(cancelled_by: the agent called it off); by: who asked, the agent when pressed on their phone "
            "(*8 and the number: followed from ringing on, as attended)",
            (*CALL, "to", "mode", "state", "agent", "by", "linkage"),
            ("status", "cancelled_by", "error_id", "reason"),
        ),
        EventType(
            "call.conference",
            "a three-way call with a department or 110: state dialling, ringing, answered, joined, "
            "agent_left, department_left, failed (status: how Asterisk's dial ended, when it says) or "
            "cancelled (cancelled_by: who dropped the department); a consult the agent's phone joined with "
            "*3 goes on as a three-way call from joined",
            (*CALL, "to", "mode", "state", "agent", "by", "linkage"),
            ("status", "cancelled_by"),
        ),
        EventType(
            "ivr.handover",
            "110/119/120/122 (by) handed a caller over: no greeting, first in line, the ticket marked",
            (*CALL, "by"),
        ),
        EventType("ivr.menu", "the caller ended the greeting with a key", (*CALL, "digit")),
        EventType("ivr.emergency", "the caller chose the emergency key and is connected", (*CALL, "number")),
        EventType("ivr.voicemail", "the caller goes to voicemail, and why", (*CALL, "reason")),
        EventType("ivr.intake_recorded", "the caller's description is recorded", (*CALL, "ended_by")),
        EventType("ivr.position", "the caller heard their place in the queue", (*CALL, "ahead")),
        EventType(
            "ivr.survey",
            "after the agent hung up, the caller rated the service: satisfied, basically_satisfied or "
            "dissatisfied",
            (*CALL, "agent", "rating"),
        ),
        EventType(
            "acd.queued",
            "the caller waits for an agent (again, with the first place, after a transfer: agent names "
            "the one colleague asked for, transferred_by who asked)",
            (*CALL, "skill", "priority"),
            ("agent", "transferred_by"),
        ),
        EventType("acd.assigned", "the ACD chose an agent for a call", ("call_id", "agent", "callback")),
        EventType("acd.offered", "the chosen agent's phone rings", (*CALL, "agent")),
        EventType(
            "acd.not_answered",
            "the agent did not answer; the call keeps its place (dial_status: Asterisk's DIALSTATUS, not "
            "for a callback)",
            (*CALL, "agent"),
            ("dial_status",),
        ),
        EventType("acd.abandoned", "the caller hung up while waiting", (*CALL, "waited", "callback")),
        EventType("acd.callback_requested", "the caller asked to be called back", (*CALL, "callback_number")),
        EventType(
            "acd.callback_dialing", "a callback's place came up: the agent's phone rings", (*CALL, "agent")
        ),
        EventType("acd.callback_answered", "agent and caller of a callback are connected", (*CALL, "agent")),
        EventType(
            "agent.state",
            "an agent's state changed (logged_out, ready, ringing, talking, wrap_up, break), also told as "
            "the status they chose and where their work stands (acd/chart.py); phone is Asterisk's word on "
            "their phone (free, in_use, unregistered: no contact, so no call is offered)",
            ("agent", "state", "status", "activity", "break_reason", "call_id", "since", "phone"),
        ),
        EventType("agent.removed", "a seat was stopped", ("agent",)),
        EventType(
            "agent.dial",
            "an agent calls a citizen (回访): calling (their own phone rings), connected (they answered and "
            "the citizen is dialled) or not_answered; ticket names the ticket it is about",
            ("dial_id", "agent", "number", "ticket", "state", "by"),
        ),
        EventType(
            "agent.auto_break", "an agent who missed calls in a row was put on break", ("agent", "detail")
        ),
        EventType(
            "agent.refused",
            "a feature code dialled on the phone was refused (*71…*79; *9, a dial-out the API would refuse)",
            ("agent", "code", "error_id", "message"),
        ),
        EventType(
            "agent.screen_pop",
            "on the agent's own stream only: the caller's history and a ticket draft",
            ("agent", "call_id", "caller_number", "caller_name", "history", "draft"),
        ),
        EventType(
            "agent.transcript",
            "on the agent's own stream only: the caller's description as text (speech-to-text), when it "
            "was not final at the screen pop: partial true while the caller still speaks (the text so far, "
            "as it grows), then the final text with the draft fields guessed from it (see guessed)",
            ("agent", "call_id", "text", "partial"),
            ("draft",),
        ),
        EventType(
            "speech.emergency",
            "a waiting caller's words sound like an emergency: the number to hand them to and the words "
            "(the caller's number and line while the call is known)",
            ("call_id", "number", "words"),
            ("caller_number", "line"),
        ),
        EventType(
            "supervision.monitor",
            "a supervisor's monitor of an agent's call: action start, connected, switch, end or failed; mode "
            "listen (监听), whisper (密语) or barge (强插); actor is the supervisor, or phone for its keys",
            (
                "action",
                "actor",
                "monitor_id",
                "call_id",
                "agent",
                "phone",
                "mode",
                "mode_label",
                "state",
                "by",
            ),
        ),
        EventType(
            "supervision.message",
            "a supervisor sent a short message to these agents' screens",
            ("by", "to", "text", "at"),
        ),
        EventType(
            "agent.message",
            "on the agent's own stream only: a short message from a supervisor",
            ("agent", "from", "text", "at"),
        ),
        EventType(
            "reports.live",
            "the wallboard's figures moved: today's, per skill, the last 24 hours' answer rate against the "
            "target, the day's half hours (see GET /api/reports/live)",
            ("day", "today", "skills", "last_24h", "half_hours", "at"),
        ),
        EventType(
            "recording.filed",
            "a call's recording (kind: conversation, intake, a track, or the voicemail it left) was entered "
            "in the register; fetch it by id through /api/recordings, as the access rules allow",
            ("call_id", "recording_id", "kind"),
        ),
        EventType(
            "trunk.status",
            "a carrier trunk stopped answering Asterisk's qualify (unreachable: outbound calls skip it) or "
            "answers again (reachable)",
            ("trunk", "status"),
        ),
        EventType(
            "trunk.failover",
            "a trunk could not carry an outbound call (dial_status CHANUNAVAIL or CONGESTION); the dialplan "
            "tried the next trunk (next; empty when it was the last)",
            ("trunk", "number", "dial_status", "next"),
        ),
        EventType(
            "controller.reconciled",
            "the controller caught up with Asterisk after a (re)connect",
            ("calls", "at"),
        ),
        EventType(
            "security.agi_refused",
            "FastAGI requests without the key or from elsewhere: the first from a peer (for a reason) at "
            "once, those that follow within 10 s folded into one event when they end; count is how many this "
            "event stands for, total every refusal since the controller started",
            ("peer", "reason", "count", "total"),
        ),
        EventType(
            "security.audiosocket_refused",
            "AudioSocket connections that did not name a stream the controller asked Asterisk for, folded "
            "per peer as security.agi_refused (count, total)",
            ("peer", "reason", "count", "total"),
        ),
        EventType(
            "security.sip_banned",
            "an address failed SIP authentication failures times within the window, trying these accounts: "
            "Asterisk refuses it (403) until until; failures_total and bans_total count every failed "
            "attempt and ban since the controller started",
            ("address", "failures", "accounts", "until", "at", "failures_total", "bans_total"),
        ),
        EventType(
            "security.sip_guessing",
            "an address that is never banned (reason: a carrier trunk's, a trusted network's, or one that "
            "signed in within the window) failed SIP authentication as often as a banned one would: look at "
            "the carrier's link or the office's phones; told once per window, later failures folded into the "
            "next report (failures: how many it stands for)",
            ("address", "failures", "accounts", "reason", "at", "failures_total", "bans_total"),
        ),
        EventType(
            "security.sip_ban_lifted",
            "a ban ended: Asterisk hears the address again",
            ("address", "at"),
        ),
        EventType(
            "security.outbound_refused",
            "a number outside the dialling plan was not dialled",
            ("number", "reason", "where", "call_id", "count"),
        ),
    )
}


def require_catalogued(event: Mapping[str, object]) -> None:
    """Refuse, before anything is written, an event that is not as kernel/runtime/events.py describes it."""
    kind = CATALOGUE.get(str(event.get("type")))
    if kind is None:
        raise UncataloguedEvent(f"event type {event.get('type')!r} is not in kernel/runtime/events.py")
    if wrong := kind.mismatch(event):
        raise UncataloguedEvent(f"event {kind.name}: {wrong} (kernel/runtime/events.py)")


def catalogue_json() -> dict[str, object]:
    """Each type's fields, required first, and which of them are required and which optional."""
    return {
        "events": [
            {
                "type": e.name,
                "description": e.description,
                "fields": [*e.fields, *e.optional],
                "required": list(e.fields),
                "optional": list(e.optional),
            }
            for e in CATALOGUE.values()
        ]
    }
