"""The call flow wired from the core: FastAGI's ``ivr`` script answers every call (greeting, the
emergency key, the caller's description, the wait, the survey), callbacks ring when their place comes
up, and a waiting caller's emergency words alert the floor."""

from __future__ import annotations

import dataclasses
import logging

from hotline.acd.dispatch import Dispatcher
from hotline.ivr.alerts import EmergencyWords
from hotline.ivr.callbacks import Callbacks
from hotline.ivr.callers import CallerDay
from hotline.ivr.flows import IvrServices, ScreenPop, answer_hotline
from hotline.ivr.menu import Menu
from hotline.kernel.asterisk.ami import AmiError
from hotline.kernel.asterisk.fastagi import AgiSession
from hotline.kernel.asterisk.live_calls import LiveCalls
from hotline.kernel.wiring import Deps, Plugin
from hotline.speech.transcripts import Transcripts
from hotline.ticketing.guesses import Keywords
from hotline.ticketing.service import TicketDesk
from hotline.trunks.dialling import OutboundGuard

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Ivr:
    services: IvrServices
    callbacks: Callbacks
    plugin: Plugin


def setup(
    deps: Deps,
    menu: Menu,
    keywords: Keywords,
    dispatcher: Dispatcher,
    desk: TicketDesk,
    outbound: OutboundGuard,
    transcripts: Transcripts,
    screen_pop: ScreenPop,
    calls: LiveCalls,
) -> Ivr:
    settings, publish = deps.settings, deps.outbox.publish
    transcripts.on_text = EmergencyWords(keywords, calls.get, publish).heard

    async def stop_prompt(channel: str) -> None:
        try:
            await deps.ami.action("ControlPlayback", {"Channel": channel, "Control": "stop"}, check=False)
        except AmiError as exc:  # the prompt plays to its end; the ring waits that long
            log.warning("could not cut the prompt on %s: %s", channel, exc)

    caller_day = CallerDay(desk, deps.live.note_caller_call)
    services = IvrServices(
        dispatcher=dispatcher,
        menu=menu,
        publish=publish,
        screen_pop=screen_pop,
        recordings_dir=settings.recordings_dir,
        prompts_dir=settings.prompts_dir,
        count_call=caller_day.count_call,
        is_open=caller_day.answering_now,
        ring_seconds=settings.ring_seconds,
        poll_ms=settings.queue_poll_ms,
        clock=deps.clock,
        stop_prompt=stop_prompt,
        outbound=outbound,
        listen=transcripts.listen if transcripts.enabled else None,
        rate_call=desk.rate_call,
    )
    callbacks = Callbacks(deps.ami, dispatcher, outbound, screen_pop, publish, settings.ring_seconds)

    async def answer(session: AgiSession) -> None:
        await answer_hotline(session, services)

    # Callbacks ringing are the first calls a stop ends, before the screen pops they would open.
    plugin = Plugin("ivr", agi=[("ivr", answer)], stop=[("callbacks", dispatcher.close)])
    return Ivr(services, callbacks, plugin)
