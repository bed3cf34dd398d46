"""What an agent's screen shows when a call is offered: who calls, what they asked before, and the
ticket draft they start from. Looked up beside the ring, never before it: the phone rings at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from hotline.acd.engine import Offer
from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from hotline.ticketing.vocabulary import Channel
from hotline.workspace.prefill import prefill

log = logging.getLogger(__name__)

CallerCalls = Callable[[str], Awaitable[list[dict[str, Any]]]]
ToAgent = Callable[[str, dict[str, Any]], Awaitable[None]]
#: The caller's description as text, if ready within the seconds given (speech-to-text); None if not.
Transcript = Callable[[str, float], Awaitable[str | None]]
#: The description's text so far each time it grows, while the caller still speaks; ends with the speech.
Follow = Callable[[str], AsyncIterator[str]]
#: How long a transcript not ready at the ring may still arrive on the agent's screen.
TRANSCRIPT_LATE_SECONDS = 60.0


def ticket_draft(
    call_id: str, caller_phone: str, caller_name: str, line: str, handed_over_by: str = ""
) -> dict[str, Any]:
    """The intake fields known before anyone speaks; the agent adds type, description, category and
    region, and posts it to ``/api/tickets`` as it is. No recording path: recordings are served by
    the API to those who may hear them, never named on a stream. A caller 110 (or 119, 120, 122)
    handed over is marked so on the ticket."""
    draft = {
        "channel": Channel.PHONE.value,
        "caller_phone": caller_phone,
        "caller_name": caller_name,
        "line": line,
        "call_id": call_id,
    }
    return draft | {"handed_over_by": handed_over_by} if handed_over_by else draft


class ScreenPops:
    def __init__(
        self,
        desk: TicketDesk,
        caller_calls: CallerCalls,
        to_agent: ToAgent,
        transcript: Transcript | None = None,
        follow: Follow | None = None,
    ) -> None:
        self.desk, self.caller_calls, self.to_agent = desk, caller_calls, to_agent
        self.transcript, self.follow = transcript, follow
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, offer: Offer, about: Mapping[str, object]) -> None:
        """Pop beside the ring: the lookup runs as its own task."""
        task = asyncio.create_task(self.pop(offer, about), name=f"screen-pop-{offer.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def pop(self, offer: Offer, about: Mapping[str, object]) -> None:
        number = str(about.get("caller_number") or offer.callback_number)
        name = str(about.get("caller_name", ""))
        tickets: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        if number:
            try:
                tickets = await self.desk.list(
                    Actor(offer.account, Role.AGENT), TicketFilter(caller_phone=number, limit=10)
                )
                calls = await self.caller_calls(number)
            except Exception:
                log.exception("screen pop history for %s failed; popping without it", offer.call_id)
        draft = ticket_draft(
            offer.call_id,
            number,
            name,
            str(about.get("line", "")),
            str(about.get("handed_over_by") or ""),
        )
        text = await self.transcript(offer.call_id, 0) if self.transcript else None
        if text:
            draft |= await self._prefill(text)  # guesses, each named in draft["guessed"] for the agent
        await self.to_agent(
            offer.account,
            {
                "type": "agent.screen_pop",
                "agent": offer.account,
                "call_id": offer.call_id,
                "caller_number": number,
                "caller_name": name,
                "history": {
                    "tickets": tickets,
                    "calls": [c for c in calls if c.get("call_id") != offer.call_id],
                },
                "draft": draft,
            },
        )
        if self.transcript and text is None:  # still spoken or worked out: it follows the pop
            told = {"type": "agent.transcript", "agent": offer.account, "call_id": offer.call_id}
            if self.follow is not None:  # the caller still speaks: the text so far, as it grows
                async for said in self.follow(offer.call_id):
                    await self.to_agent(offer.account, {**told, "text": said, "partial": True})
            late = await self.transcript(offer.call_id, TRANSCRIPT_LATE_SECONDS)
            if late:
                await self.to_agent(
                    offer.account,
                    {**told, "text": late, "partial": False, "draft": await self._prefill(late)},
                )

    async def _prefill(self, text: str) -> dict[str, Any]:
        """The draft's fields from the caller's words, guessed as every channel's intake is (the desk's
        guesses: the directory taught to jieba once, the work off the event loop)."""
        return prefill(text, await self.desk.guesses(text))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
