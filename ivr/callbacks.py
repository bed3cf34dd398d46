"""Callbacks (漏接回拨): when a callback's place in the queue comes up, ring the agent, then dial the caller.

The caller left the queue but kept their place; the ACD offers that place to an
agent like any call. The agent's phone rings first, so nobody in the centre
is idle while a citizen's phone rings unanswered.
"""

from __future__ import annotations

import logging

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import Offer
from hotline.ivr.flows import ScreenPop
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.kernel.runtime.events import Publish
from hotline.trunks.dialling import OutboundGuard

log = logging.getLogger(__name__)


class Callbacks:
    def __init__(
        self,
        ami: AmiClient,
        dispatcher: Dispatcher,
        outbound: OutboundGuard,
        screen_pop: ScreenPop,
        publish: Publish,
        ring_seconds: int,
    ) -> None:
        self.ami = ami
        self.dispatcher = dispatcher
        self.outbound = outbound
        self.screen_pop = screen_pop
        self.publish = publish
        self.ring_seconds = ring_seconds

    async def call_back(self, offer: Offer) -> None:
        """Ring the offered agent; once they answer, Asterisk dials the caller (``hotline-callback``)."""
        about = {
            "call_id": offer.call_id,
            "caller_number": offer.callback_number,
            "caller_name": "",  # dialled by number: no caller ID name
            "line": "callback",
        }
        if not await self.outbound.allow(offer.callback_number, where="callback", call_id=offer.call_id):
            await self.dispatcher.caller_gone(offer.call_id)  # the agent turns ready again
            return
        await self.publish({"type": "acd.callback_dialing", **about, "agent": offer.account})
        await self.screen_pop(offer, about)
        try:
            result = await self.ami.originate(
                {
                    "Channel": f"PJSIP/{offer.account}",
                    "Context": "hotline-callback",
                    "Exten": offer.callback_number,
                    "Priority": "1",
                    "CallerID": f'"回拨 {offer.callback_number}" <{offer.callback_number}>',
                    "Timeout": str(self.ring_seconds * 1000),
                    "Variable": [f"HOTLINE_CALLBACK_OF={offer.call_id}"],
                },
                timeout=self.ring_seconds + 10,
            )
            answered = result.get("Response") == "Success"
        except AmiError as exc:
            log.warning("callback %s to %s failed: %s", offer.call_id, offer.account, exc)
            answered = False
        if answered:
            await self.dispatcher.phone_answered(offer.account)
        else:
            await self.dispatcher.finish_offer(offer, answered=False)
        await self.publish(
            {
                "type": "acd.callback_answered" if answered else "acd.not_answered",
                **about,
                "agent": offer.account,
            }
        )
