"""The in-call operations an agent (or a supervisor for them) asks for: transfers, three-way calls and
the 110 linkage, driven over AMI and followed from Asterisk's events.

A number is consulted with Asterisk's attended transfer on the agent's leg
(``Atxfer``): the caller waits on hold in their own flow, so their recording
and record go on, and if the department does not answer the caller and the
agent are together again. Then, by purpose:

- blind: once the department's phone rings, the agent's leg ends and Asterisk
  connects the caller when the department answers (or rings the agent back);
- attended: the agent speaks to the department, then hangs up to hand over;
- three-way: once the department answers, the keys ``*3`` join all three;
  the agent may then leave, and caller and department stay connected.

An agent may do the same from their phone (``*8`` and the number, then ``*2``,
``*3`` or ``*1``): such a consult is followed from the moment Asterisk dials
the number, as an attended one, and becomes a three-way call when Asterisk
says the keys joined all three.

A colleague or a skill group is reached through the ACD instead (the caller's
flow queues them again with their first place: ``ivr/handback.py``); from the
phone, ``*8`` then ``00`` and the account or the skill, which the dialplan
tells the controller instead of dialling.

``hear`` follows each consult from AMI events and returns the writes and
actions to run in order, like the supervisors' monitors. Its states and moves
are the chart in ``transfers/chart.py``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hotline.ivr.handback import Handback, Handbacks
from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.kernel.asterisk.channels import LiveCall
from hotline.kernel.runtime.events import Publish
from hotline.recordings.files import track_path
from hotline.transfers.chart import (
    AGENT_LEFT,
    ANSWERED,
    ATTENDED,
    BLIND,
    CANCELLED,
    DEPARTMENT_LEFT,
    DIALLING,
    FAILED,
    HANDED_OVER,
    JOINED,
    QUEUED,
    REFUSED,
    RINGING,
    THREE_WAY,
    ConsultState,
    Purpose,
)
from hotline.transfers.targets import (
    ABORT_KEYS,
    ACCOUNT,
    EMERGENCY_NUMBERS,
    HANDBACK_EVENT,
    THREE_WAY_KEYS,
    TRANSFER_CONTEXT,
    LinkageMode,
    Target,
    TransferMode,
    consulted_number,
    legs,
)
from hotline.trunks.dialling import OutboundGuard

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]
#: Told of each call shared with 110/119/120/122: (call id, service, mode "transfer" or "three-way", agent).
Linked = Callable[[str, str, str, str], Awaitable[None]]

#: Dial's ends after which the dialplan tries the next carrier trunk ([hotline-outbound]).
TRUNK_FAILURES = ("CHANUNAVAIL", "CONGESTION")


@dataclass
class Consult:
    """One number consulted from a call's agent leg, and what it is for."""

    call_id: str
    number: str
    purpose: Purpose
    agent: str
    agent_channel: str
    by: str
    about: dict[str, object]  # whose call it is, for every event (the call may be gone by its end)
    state: ConsultState = DIALLING
    department_channel: str = ""
    local_channel: str = ""  # the consult's dialling half (Local/…;2)
    failed_status: str = ""  # how the last trunk tried failed (CHANUNAVAIL, CONGESTION)
    cancelled_by: str = ""  # who called it off before it was handed over
    keys: str = ""  # the last keys the agent's phone sent during the consult

    @property
    def linkage(self) -> str:
        """110, 119, 120 or 122 when the caller is being shared with them (国办发〔2022〕12号)."""
        return self.number if self.number in EMERGENCY_NUMBERS else ""

    def view(self) -> dict[str, Any]:
        return {
            "to": self.number,
            "purpose": self.purpose,
            "agent": self.agent,
            "by": self.by,
            "linkage": self.linkage,
            "state": self.state,
        }


class CallControl:
    def __init__(
        self,
        ami: AmiClient,
        live_calls: Callable[[], Mapping[str, LiveCall]],
        is_agent: Callable[[str], bool],
        outbound: OutboundGuard,
        publish: Publish,
        handbacks: Handbacks,
        reachable: Callable[[Handback], bool],
        linked: Linked | None = None,
        *,
        recordings_dir: str,
    ) -> None:
        self.ami = ami
        self.live_calls = live_calls  # the tracker's table (a reconcile replaces it)
        self.is_agent = is_agent
        self.outbound = outbound
        self.publish = publish
        self.handbacks = handbacks
        self.reachable = reachable
        self.linked = linked
        self.recordings_dir = recordings_dir  # as Asterisk sees it
        self._consults: dict[str, Consult] = {}
        # A department's leg → its call and the number it was dialled as; kept after the agent leaves.
        self._departments: dict[str, tuple[str, str]] = {}

    # -- reading ---------------------------------------------------------------

    def view(self, call: LiveCall) -> dict[str, Any]:
        consult = self._consults.get(call.call_id)
        return {
            "call_id": call.call_id,
            "caller_number": call.caller_number,
            "caller_name": call.caller_name,
            "line": call.line,
            "state": call.state,
            "agent": call.agent,
            "started_at": call.started_at,
            "legs": [leg.view() for leg in legs(call, self.is_agent, self.departments())],
            "consult": consult.view() if consult else None,
        }

    def departments(self) -> dict[str, str]:
        return {channel: number for channel, (_, number) in self._departments.items()}

    def visible(self, actor: Actor) -> list[LiveCall]:
        """Supervisors see every call; an agent, their own."""
        calls = sorted(self.live_calls().values(), key=lambda c: c.started_at)
        return [c for c in calls if actor.role != Role.AGENT or c.agent == actor.name]

    def get(self, call_id: str, actor: Actor) -> LiveCall:
        call = self.live_calls().get(call_id)
        if call is None:
            raise ApiError("unknown-call", f"没有进行中的通话 {call_id}", 404)
        if actor.role == Role.AGENT and call.agent != actor.name:
            raise ApiError("not-your-call", "只能操作本人接听的通话", 403)
        return call

    # -- operations --------------------------------------------------------------

    async def transfer(
        self, call_id: str, target: Target, mode: TransferMode, actor: Actor
    ) -> dict[str, Any]:
        call = self.get(call_id, actor)
        if target.number:
            purpose = BLIND if mode == TransferMode.BLIND else ATTENDED
            return await self._consult(call, target.number, purpose, actor)
        if mode != TransferMode.BLIND:
            raise ApiError("attended-needs-number", "咨询后转接只适用于号码；转坐席或技能组请用 blind", 422)
        return await self._hand_back(call, Handback(target.skill, target.agent, actor.name), str(target))

    async def conference(self, call_id: str, target: Target, actor: Actor) -> dict[str, Any]:
        call = self.get(call_id, actor)
        if not target.number:
            raise ApiError("conference-needs-number", "三方通话的对方须为号码（如 12315）", 422)
        return await self._consult(call, target.number, THREE_WAY, actor)

    async def emergency(self, call_id: str, number: str, mode: LinkageMode, actor: Actor) -> dict[str, Any]:
        """国办发〔2022〕12号 linkage: one-key transfer, or a three-way call when it is unclear whose it is.
        The dialplan shows 110 the caller's own number, so it can call them back."""
        if number not in EMERGENCY_NUMBERS:
            raise ApiError("not-an-emergency-number", f"须为 {'、'.join(EMERGENCY_NUMBERS)}", 422)
        call = self.get(call_id, actor)
        purpose = BLIND if mode == LinkageMode.TRANSFER else THREE_WAY
        return await self._consult(call, number, purpose, actor)

    async def leave(self, call_id: str, actor: Actor) -> dict[str, Any]:
        """The agent leaves the three-way call; caller and department stay connected."""
        call = self.get(call_id, actor)
        consult = self._consults.get(call_id)
        if consult is None or consult.state != JOINED:
            raise ApiError("no-conference", "该通话不在三方通话中", 409)
        await self._hang_up(consult.agent_channel)
        return self.view(call)

    async def cancel(self, call_id: str, actor: Actor) -> dict[str, Any]:
        """Call off the consult: the department's phone stops ringing (or the department is dropped from
        the three-way call) and caller and agent are together again. A blind transfer that rings is
        already the caller's alone."""
        call = self.get(call_id, actor)
        consult = self._consults.get(call_id)
        if consult is None:
            raise ApiError("no-consult", "该通话没有进行中的转接或三方通话", 409)
        if consult.purpose == BLIND and consult.state != DIALLING:
            raise ApiError("already-handed-over", "盲转已转出，无法撤回", 409)
        dialled = consult.department_channel if consult.state == JOINED else consult.local_channel
        if not dialled:
            raise ApiError("consult-not-ringing", "对方尚未开始振铃，请稍后再试", 409)
        consult.cancelled_by = actor.name
        await self._hang_up(dialled)
        return self.view(call)

    # -- following Asterisk ------------------------------------------------------

    def hear(self, event: Mapping[str, object]) -> list[Work]:
        """Apply one AMI event; returns the writes and actions it causes, in order."""
        kind = event.get("Event")
        if kind == "AttendedTransfer":
            return self._transferred(event)
        if kind == "UserEvent" and event.get("UserEvent") == HANDBACK_EVENT:
            return self._handback_from_phone(str(event.get("Linkedid", "")), str(event.get("Target", "")))
        if kind == "Hangup":
            self._departments.pop(str(event.get("Channel", "")), None)
        call_id, channel = str(event.get("Linkedid", "")), str(event.get("Channel", ""))
        consult = self._consults.get(call_id)
        if consult is None and kind == "DialBegin":
            consult = self._from_phone(call_id, channel)
        if consult is None:
            return []
        if kind == "DTMFEnd" and channel == consult.agent_channel and event.get("Direction") == "Received":
            consult.keys = (consult.keys + str(event.get("Digit", "")))[-len(ABORT_KEYS) :]
            if consult.keys == ABORT_KEYS:  # Asterisk ends the consult; its hang-ups say so next
                consult.cancelled_by = consult.agent
            return []
        if kind == "DialBegin" and consulted_number(channel) == consult.number:
            return self._ringing(consult, channel, str(event.get("DestChannel", "")))
        if kind == "DialEnd" and channel == consult.local_channel:
            status = str(event.get("DialStatus", ""))
            if status == "ANSWER":
                consult.state = ANSWERED
                works = [self._note(consult, ANSWERED)]
                if consult.purpose == THREE_WAY:
                    works.append(lambda: self._keys(consult.agent_channel, THREE_WAY_KEYS))
                return works
            if status in TRUNK_FAILURES:  # the next trunk is tried; the Local leg's end tells if none could
                self._departments.pop(consult.department_channel, None)
                consult.department_channel, consult.failed_status = "", status
                return []
            return self._end(consult, FAILED, status=status)
        if kind == "Hangup":
            return self._hung_up(consult, channel)
        return []

    def _from_phone(self, call_id: str, local_channel: str) -> Consult | None:
        """A consult the agent started from their phone (``*8`` and a number): Asterisk dials it from a
        Local leg of the agent's call, after the dialplan checked the number against the dialling plan."""
        number = consulted_number(local_channel)
        call = self.live_calls().get(call_id)
        agent_channel = call.agent_leg() if number and call is not None else None
        if call is None or agent_channel is None:
            return None
        consult = Consult(call_id, number, ATTENDED, call.agent, agent_channel, call.agent, self._about(call))
        self._consults[call_id] = consult
        return consult

    def _handback_from_phone(self, call_id: str, digits: str) -> list[Work]:
        """A colleague's account or a skill the agent dialled after ``*8 00``: handed to the ACD like the
        API's ``agent:``/``skill:``, for the agent who answered the call."""
        call = self.live_calls().get(call_id)
        if call is None or not call.agent or not ACCOUNT.fullmatch(digits):
            return []
        target = Target(agent=digits) if self.is_agent(digits) else Target(skill=digits)
        return [functools.partial(self._phone_handback, call, target)]

    async def _phone_handback(self, call: LiveCall, target: Target) -> None:
        """A refusal (nobody on duty, the agent themself…) is on the floor's stream; the agent's phone is
        back with the caller, as after any consult that did not happen."""
        try:
            await self._hand_back(call, Handback(target.skill, target.agent, call.agent), str(target))
        except ApiError as refused:
            await self.publish(
                {
                    **self._about(call),
                    "type": "call.transfer",
                    "to": str(target),
                    "mode": BLIND,
                    "state": REFUSED,
                    "agent": call.agent,
                    "by": call.agent,
                    "error_id": refused.error_id,
                    "reason": refused.message,
                    "linkage": "",
                }
            )

    def _ringing(self, consult: Consult, local_channel: str, department_channel: str) -> list[Work]:
        """The department's phone is dialled: first through the first trunk, again through the next one
        when a trunk could not carry it (the same Local leg dials again)."""
        if consult.local_channel not in ("", local_channel):
            return []
        again = bool(consult.local_channel)
        consult.local_channel, consult.department_channel = local_channel, department_channel
        self._departments[department_channel] = (consult.call_id, consult.number)
        recorded = functools.partial(self._record_department, consult.call_id, department_channel)
        if again:
            return [recorded]
        consult.state = RINGING
        works = [self._note(consult, RINGING), recorded]
        if consult.purpose == BLIND:  # Asterisk connects the caller once the department answers
            works.append(lambda: self._hang_up(consult.agent_channel))
        return works

    def _transferred(self, event: Mapping[str, object]) -> list[Work]:
        """Asterisk joined the consult to the caller: all three (the keys ``*3``, from the controller or the
        agent's phone), or the caller handed over."""
        call_id = str(event.get("OrigTransfererLinkedid") or event.get("TransfereeLinkedid") or "")
        consult = self._consults.get(call_id)
        if consult is None or event.get("Result") != "Success" or consult.purpose == BLIND:
            return []
        if event.get("DestType") == "Threeway":
            consult.purpose, consult.state = THREE_WAY, JOINED
            return [self._note(consult, JOINED), *self._linked(consult, JOINED)]
        return self._end(consult, HANDED_OVER)

    def _hung_up(self, consult: Consult, channel: str) -> list[Work]:
        if channel == consult.agent_channel:
            if consult.purpose == THREE_WAY and consult.state == JOINED:
                return self._end(consult, AGENT_LEFT)
            if consult.purpose == BLIND:
                return self._end(consult, HANDED_OVER)
            return []  # an attended consult: Asterisk's AttendedTransfer says how it ended
        if channel == consult.department_channel:
            return self._end(consult, DEPARTMENT_LEFT if consult.state == JOINED else FAILED)
        if channel == consult.local_channel and consult.state == RINGING:  # no trunk could carry it
            return self._end(consult, FAILED, status=consult.failed_status)
        return []

    def forget(self, live: Iterable[str]) -> None:
        """Consults of calls that are no longer up (ended, or gone while the controller was away)."""
        still = set(live)
        for call_id in [c for c in self._consults if c not in still]:
            self._drop(self._consults[call_id])
        for channel in [c for c, (call_id, _) in self._departments.items() if call_id not in still]:
            del self._departments[channel]

    # -- helpers -----------------------------------------------------------------

    def _one_at_a_time(self, call: LiveCall) -> None:
        """A second consult, or a hand-back, would end the agent's leg under the one that goes on."""
        if call.call_id in self._consults:
            raise ApiError("transfer-in-progress", "该通话已有进行中的转接或三方通话", 409)

    async def _consult(self, call: LiveCall, number: str, purpose: Purpose, actor: Actor) -> dict[str, Any]:
        self._one_at_a_time(call)
        channel = call.agent_leg()
        if channel is None or call.state != "bridged":
            raise ApiError("call-not-with-agent", "该通话未与坐席通话中，无法转接", 409)
        if not await self.outbound.allow(number, where=f"call-{purpose}", call_id=call.call_id):
            raise ApiError("outbound-not-allowed", f"号码 {number} 不在外呼许可范围内", 403)
        consult = Consult(call.call_id, number, purpose, call.agent, channel, actor.name, self._about(call))
        self._consults[call.call_id] = consult
        try:
            await self.ami.action(
                "Atxfer", {"Channel": channel, "Exten": number, "Context": TRANSFER_CONTEXT}
            )
        except AmiError as exc:
            self._drop(consult)
            log.warning("call %s: consult of %s not started: %s", call.call_id, number, exc)
            raise ApiError("call-not-with-agent", "坐席通话已结束或无法转接", 409) from None
        await self._note(consult, DIALLING)()
        return self.view(call)

    async def _hand_back(self, call: LiveCall, handback: Handback, to: str) -> dict[str, Any]:
        self._one_at_a_time(call)
        channel = call.agent_leg()
        if channel is None or call.state != "bridged":
            raise ApiError("call-not-with-agent", "该通话未与坐席通话中，无法转接", 409)
        if handback.agent == call.agent:
            raise ApiError("transfer-to-self", "不能转给自己", 422)
        if not self.reachable(handback):
            raise ApiError("target-unavailable", f"{to} 当前无人值守", 409)
        if not self.handbacks.ask(call.call_id, handback):
            raise ApiError("call-not-transferable", "该通话不由本系统排队（应急队列接听），无法转回排队", 409)
        await self._hang_up(channel)
        await self.publish(
            {
                **self._about(call),
                "type": "call.transfer",
                "to": to,
                "mode": BLIND,
                "state": QUEUED,
                "agent": call.agent,
                "by": handback.by,
                "linkage": "",
            }
        )
        return self.view(call)

    def _end(self, consult: Consult, state: ConsultState, **details: object) -> list[Work]:
        self._drop(consult)
        if consult.cancelled_by and state in (FAILED, DEPARTMENT_LEFT):
            state, details = CANCELLED, {**details, "cancelled_by": consult.cancelled_by}
        return [self._note(consult, state, **details), *self._linked(consult, state)]

    def _drop(self, consult: Consult) -> None:
        self._consults.pop(consult.call_id, None)

    def _note(self, consult: Consult, state: ConsultState, **details: object) -> Work:
        kind = "call.conference" if consult.purpose == THREE_WAY else "call.transfer"
        event = {
            "type": kind,
            **consult.about,
            "to": consult.number,
            "mode": consult.purpose,
            "state": state,
            "agent": consult.agent,
            "by": consult.by,
            "linkage": consult.linkage,
            **details,
        }

        async def write() -> None:
            await self.publish(event)

        return write

    def _linked(self, consult: Consult, state: ConsultState) -> list[Work]:
        """The ticket's side of the 110 linkage: the caller is with 110 (handed over, or all three joined)."""
        shared = (consult.purpose, state) in (
            (THREE_WAY, JOINED),
            (BLIND, HANDED_OVER),
            (ATTENDED, HANDED_OVER),
        )
        if not (consult.linkage and shared and self.linked is not None):
            return []
        mode = "three-way" if consult.purpose == THREE_WAY else "transfer"
        linked = self.linked
        return [lambda: linked(consult.call_id, consult.linkage, mode, consult.agent)]

    @staticmethod
    def _about(call: LiveCall) -> dict[str, object]:
        return {
            "call_id": call.call_id,
            "caller_number": call.caller_number,
            "caller_name": call.caller_name,
            "line": call.line,
        }

    async def _record_department(self, call_id: str, channel: str) -> None:
        """The department's side of the call, on its own channel from the moment it is dialled. After the
        agent leaves, Asterisk sometimes stops handing a channel's outgoing audio to its recording (seen
        on the caller's and on the department's channel alike), never its incoming: the caller's own
        track and this one together hold both voices. Each number dialled is appended to the one file."""
        path = track_path(self.recordings_dir, call_id, "department")
        try:
            await self.ami.action("MixMonitor", {"Channel": channel, "File": path, "Options": "a"})
        except AmiError as exc:
            log.warning("call %s: the department's side (%s) is not recorded: %s", call_id, channel, exc)

    async def _hang_up(self, channel: str) -> None:
        try:
            await self.ami.action("Hangup", {"Channel": channel}, check=False)
        except AmiError as exc:
            log.warning("could not end %s: %s", channel, exc)

    async def _keys(self, channel: str, keys: str) -> None:
        """Keys received on the agent's leg, as if pressed on the phone (feature codes need their gap)."""
        for key in keys:
            try:
                await self.ami.action(
                    "PlayDTMF", {"Channel": channel, "Digit": key, "Duration": "120", "Receive": "true"}
                )
            except AmiError as exc:
                log.warning("keys %s not received on %s: %s", keys, channel, exc)
                return
            await asyncio.sleep(0.3)
