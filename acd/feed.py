"""AMI's news of the agents' phones, applied to the ACD in arrival order; between news, time passes
(wrap-ups end, waiting calls overflow)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from hotline.acd.dispatch import Dispatcher
from hotline.acd.phones import phone_news
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.channels import account_of

log = logging.getLogger(__name__)
#: The AMI events that carry news of a phone: its device state, its answer, its hang-up.
PHONE_EVENTS = ("DeviceStateChange", "Newstate", "Hangup")
#: How long the ACD waits for news before it lets time pass.
TICK_SECONDS = 1.0


class PhoneFeed:
    def __init__(self, dispatcher: Dispatcher, is_agent: Callable[[str], bool]) -> None:
        self.dispatcher = dispatcher
        self.is_agent = is_agent
        self._news: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()

    def hear(self, event: Mapping[str, object]) -> None:
        news = phone_news(event, self.is_agent)
        if news is not None:
            self._news.put_nowait(functools.partial(self.dispatcher.hear, news))

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(TICK_SECONDS):
                    change = await self._news.get()
                await change()
            except TimeoutError:
                await self.dispatcher.tick()
            except Exception:
                log.exception("ACD step failed; carrying on")

    async def reconcile(self, ami: AmiClient, channels: Sequence[Mapping[str, object]]) -> None:
        """After an AMI login: phones on a call now are busy, then every phone's device state anew."""
        on_calls = {account_of(str(channel.get("Channel", ""))) for channel in channels}
        await self.dispatcher.step(lambda engine, now: engine.phones_on_calls(on_calls, now))
        devices = await ami.action("DeviceStateList", idempotent=True)
        for device in devices.events:
            self.hear(device)
