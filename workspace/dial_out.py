"""An agent calls a citizen (回访, asking for details): the agent's phone rings first, then the citizen's,
shown as the centre's number and recorded; the ticket it is about gets a note of the call, and the call
(its recordings) is linked to it.

The agent's phone is busy meanwhile, so the ACD offers them no call; the
number is checked against the dialling plan here and again in the dialplan.
From the phone (``*9`` and the number, or ``*9``, the ticket's number, ``*``
and the number) it is the same call: checked while the agent listens, then
their phone rings back once the dialplan has ended the call that asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AgentState
from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.identity import Actor
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.kernel.runtime.events import Publish
from hotline.ticketing.service import TicketDesk
from hotline.trunks.dialling import OutboundGuard

log = logging.getLogger(__name__)

#: The dialplan context that dials the citizen once the agent answers (asterisk-conf/extensions.conf).
DIAL_OUT_CONTEXT = "hotline-dial-out"
BUSY = (AgentState.RINGING, AgentState.TALKING)
#: How long a dial asked from the phone waits for the agent to hang up before ringing them back.
HANG_UP_WAIT = 20.0
#: How long Asterisk's word that the phone asking is in use may take.
SEEN_IN_USE_WAIT = 2.0


@dataclass
class DialOut:
    ami: AmiClient
    dispatcher: Dispatcher
    outbound: OutboundGuard
    desk: TicketDesk
    publish: Publish
    ring_seconds: int
    _calls: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def dial(
        self, account: str, number: str, ticket: str, actor: Actor, *, from_phone: bool = False
    ) -> dict[str, Any]:
        """Checks everything, then rings the agent's phone in the background; returns the dial's id.
        ``from_phone``: asked from that very phone, which rings once it is put down."""
        agent = self.dispatcher.agent(account)
        if agent is None:
            raise ApiError("unknown-agent", f"没有坐席 {account}", 404)
        if agent.state == AgentState.LOGGED_OUT:
            raise ApiError("agent-logged-out", "坐席未签入，无法外呼", 409)
        if agent.state in BUSY or not (agent.phone_free or from_phone):
            raise ApiError("agent-busy", "坐席正在振铃或通话中，无法外呼", 409)
        if ticket:
            await self.desk.show(ticket, actor)  # an unknown ticket, or one this person may not see: refused
        if not await self.outbound.allow(number, where="agent-dial", call_id=ticket):
            raise ApiError("outbound-not-allowed", f"号码 {number} 不在外呼许可范围内", 403)
        dial = {
            "dial_id": f"dial-{secrets.token_hex(6)}",
            "agent": account,
            "number": number,
            "ticket": ticket,
        }
        await self.publish({"type": "agent.dial", **dial, "state": "calling", "by": actor.name})
        call = asyncio.create_task(self._ring(dial, actor, from_phone), name=str(dial["dial_id"]))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)
        return {**dial, "state": "calling"}

    async def _put_down(self, account: str) -> None:
        """Until the phone the agent asked from is put down (seen in use first, should Asterisk's word of
        it come late); a TimeoutError if it is not, in time."""

        def free() -> bool:
            agent = self.dispatcher.agent(account)
            return agent is not None and agent.phone_free

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SEEN_IN_USE_WAIT):
                while free():
                    await asyncio.sleep(0.05)
        async with asyncio.timeout(HANG_UP_WAIT):
            while not free():
                await asyncio.sleep(0.2)

    async def _ring(self, dial: dict[str, str], actor: Actor, from_phone: bool) -> None:
        try:
            if from_phone:
                await self._put_down(dial["agent"])
            result = await self.ami.originate(
                {
                    "Channel": f"PJSIP/{dial['agent']}",
                    "Context": DIAL_OUT_CONTEXT,
                    "Exten": dial["number"],
                    "Priority": "1",
                    "CallerID": f'"外呼 {dial["number"]}" <{dial["number"]}>',
                    "ChannelId": dial["dial_id"],  # the call's id, and its recording's name
                    "Timeout": str(self.ring_seconds * 1000),
                    "Variable": [f"HOTLINE_TICKET={dial['ticket']}"] if dial["ticket"] else [],
                },
                timeout=self.ring_seconds + 10,
            )
            answered = result.get("Response") == "Success"
        except (AmiError, TimeoutError) as exc:
            log.warning("dial %s by %s not placed: %s", dial["dial_id"], dial["agent"], exc)
            answered = False
        state = "connected" if answered else "not_answered"
        await self.publish({"type": "agent.dial", **dial, "state": state, "by": actor.name})
        if dial["ticket"] and answered:
            text = f"坐席 {dial['agent']} 外呼 {dial['number']}（通话 {dial['dial_id']}，已录音）"
            try:
                await self.desk.link_call(dial["ticket"], dial["dial_id"])
                await self.desk.act(dial["ticket"], "note", {"text": text}, actor)
            except ApiError as error:
                log.warning("dial %s: no note on ticket %s: %s", dial["dial_id"], dial["ticket"], error)

    async def close(self) -> None:
        for call in list(self._calls):
            call.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
