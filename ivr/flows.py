"""The hotline's FastAGI call flow: greet, take one key, record the request, wait in the ACD's queue.

Short by design (GB/T 33358 discourages deep menus): the greeting offers the
emergency key (connected to 110 at once) and the deployment's few options.
The caller then describes their request, and waits: music on hold, their place
and expected wait announced at an interval, and two exits, a callback that
keeps their place or a voicemail. The ACD (acd/dispatch.py) decides who
answers; this flow rings that agent and tells the ACD how it went.

When nobody can answer (after hours, or no agent logged in) the flow sets
``HOTLINE_NEXT=voicemail`` and the dialplan takes the message. If the flow
fails or the controller goes away, the dialplan's own fallback (the all-agents
queue, then voicemail) carries on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import Offer, Priority, QueuedCall
from hotline.ivr.handback import Handback, Handbacks
from hotline.ivr.menu import KEYS as ALL_KEYS
from hotline.ivr.menu import Menu, QueueRoute
from hotline.ivr.prompts import position_prompts, prompt_path
from hotline.kernel.asterisk.fastagi import AgiHangup, AgiSession
from hotline.kernel.runtime.events import Publish
from hotline.recordings.files import intake_path, mixmonitor_argument
from hotline.speech.transcripts import Description
from hotline.ticketing.vocabulary import Satisfaction
from hotline.trunks.dialling import OutboundGuard

ScreenPop = Callable[[Offer, dict[str, object]], Awaitable[None]]
CountCall = Callable[[dict[str, object]], Awaitable[int]]
#: Keeps a caller's rating of the service (call id, rating, agent) for the call's ticket.
RateCall = Callable[[str, Satisfaction, str], Awaitable[None]]
#: The survey's keys, as the question says them.
SURVEY_KEYS = {
    "1": Satisfaction.SATISFIED,
    "2": Satisfaction.BASICALLY_SATISFIED,
    "3": Satisfaction.DISSATISFIED,
}

#: Arrival seconds app_queue's priority can tell apart (it is a C int: class × this must fit).
FALLBACK_PLACES = 100_000


@dataclass
class IvrServices:
    dispatcher: Dispatcher
    menu: Menu
    publish: Publish
    screen_pop: ScreenPop
    recordings_dir: str
    prompts_dir: str
    #: How many times this caller has called today, counting this call.
    count_call: CountCall
    #: Whether agents answer now (business hours and holidays, from the ticket policy's calendar).
    is_open: Callable[[], bool]
    #: The dialling plan: a callback is promised only to a number that may be dialled.
    outbound: OutboundGuard
    repeat_calls_today: int = 3
    ring_seconds: int = 15
    poll_ms: int = 300
    intake_max_seconds: int = 60
    max_call_seconds: int = 4 * 3600
    clock: Callable[[], float] = time.time
    #: Cuts the prompt playing on a channel short (AMI ControlPlayback), so an offer need not wait for it.
    stop_prompt: Callable[[str], Awaitable[None]] | None = None
    #: Speech-to-text of the caller's description (call id, the caller's channel), heard as they speak.
    listen: Callable[[str, str], Awaitable[Description]] | None = None
    #: Transfers of a caller back to the ACD, asked for while an agent talks to them.
    handbacks: Handbacks = field(default_factory=Handbacks)
    #: Where the survey's answer goes besides the event (the menu turns the survey on).
    rate_call: RateCall | None = None

    async def can_call_back(self, number: str, call_id: str) -> bool:
        return await self.outbound.allow(number, where="ivr-callback", call_id=call_id)


def fallback_priority(priority: Priority, arrived_at: float) -> int:
    """app_queue's QUEUE_PRIO for a caller: their class first, then the earlier arrival higher.

    Callers handed to the fallback queue all join it at the same moment; without this
    they were answered in reverse order of arrival. The clock part wraps every 27 hours.
    """
    return int(priority) * FALLBACK_PLACES + FALLBACK_PLACES - 1 - int(arrived_at) % FALLBACK_PLACES


def stopping() -> bool:
    """The controller is stopping: FastAGI cancels every open call's flow, and Asterisk keeps the call
    (a ring goes on, a conversation goes on, a waiting caller goes to the dialplan's fallback queue)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def answer_hotline(session: AgiSession, services: IvrServices) -> None:
    call_id = await session.get_variable("CHANNEL(linkedid)") or session.unique_id
    line = session.params.get("line") or session.env.get("agi_extension", "")
    about: dict[str, object] = {
        "call_id": call_id,
        "caller_number": session.caller_number,
        "caller_name": session.caller_name,
        "line": line,
    }
    flow = _Flow(session, services, about)
    await flow.run()


#: Asterisk's own beep (its sounds), before the caller describes their matter.
BEEP = "beep"


class _Flow:
    """One caller's way through the IVR and the queue."""

    def __init__(self, session: AgiSession, services: IvrServices, about: dict[str, object]) -> None:
        self.session, self.services, self.about = session, services, about
        self.call_id = str(about["call_id"])
        self.menu = services.menu
        self.dispatcher = services.dispatcher
        self.arrived_at = services.clock()
        self.queued = False
        self.priority = Priority.NORMAL
        self.handed_over_by = ""  # 110, 119, 120 or 122 when that service handed the caller over
        self.previewed: Offer | None = None  # the offer whose screen popped during the description

    async def publish(self, kind: str, **details: object) -> None:
        await self.services.publish({"type": kind, **self.about, **details})

    def prompt(self, name: str) -> str:
        return prompt_path(self.services.prompts_dir, name)

    async def run(self) -> None:
        session = self.session
        await session.answer()
        self.handed_over_by = await self.handing_service()
        handover = bool(self.handed_over_by)
        if handover:  # 110 hands a caller over: they told their story there already
            digit = ""
            await self.publish("ivr.handover", by=self.handed_over_by)
        else:  # any key ends the greeting; keys that are not options mean "other matters"
            digit = await session.stream_file(self.prompt("greeting"), ALL_KEYS)
            if self.menu.keyed:  # without options, nothing to wait for: straight to the description
                digit = digit or await session.wait_for_digit(3000)
            await self.publish("ivr.menu", digit=digit)
            if digit == self.menu.emergency_key:
                await self.connect_emergency()
                return
        route = self.menu.route(str(self.about["line"]), digit)
        if not self.answerable(route):
            await self.to_voicemail("night" if not self.services.is_open() else "voicemail", "无坐席值守")
            return
        calls_today = await self.services.count_call(self.about)
        priority = Priority.FROM_110 if handover else route.priority
        if calls_today >= self.services.repeat_calls_today:
            priority = max(priority, Priority.REPEAT_CALLER)
        # Queued before the description: an agent offered meanwhile reads it as the caller speaks, and
        # their phone rings once the caller has finished.
        await self.join(route, priority)
        try:
            if not handover:
                await self.take_description()
            await session.exec("MixMonitor", mixmonitor_argument(self.services.recordings_dir, self.call_id))
            await self.say_unless_offered("connecting", "")
            await self.wait_for_an_agent()
        except AgiHangup:
            await self.caller_hung_up()
        finally:
            if self.queued and stopping():
                await self.dispatcher.handed_over(self.call_id)
            elif self.queued:  # an error: do not leave a ghost in the queue
                await self.dispatcher.caller_gone(self.call_id)

    async def handing_service(self) -> str:
        """The service handing this caller over: its number calling (the menu's ``handover_callers``), or
        the number map's handover number the call came in on (the dialplan names the service)."""
        if self.session.caller_number in self.menu.handover_callers:
            return self.session.caller_number
        return await self.session.get_variable("HOTLINE_HANDED_OVER_BY")

    async def take_description(self) -> None:
        """The caller's request in their own words, for the speech-to-text that pre-fills the ticket. An
        agent offered the call meanwhile gets the screen pop at once, and the words as they come."""
        listen = self.services.listen
        channel = self.session.env.get("agi_channel", "")
        description = await listen(self.call_id, channel) if listen is not None else None
        preview = asyncio.create_task(self.preview(), name=f"preview-{self.call_id}")
        intake = intake_path(self.services.recordings_dir, self.call_id)
        try:
            await self.session.stream_file(self.prompt("describe"))
            await self.session.stream_file(BEEP)  # ours, not the recording's: the tap must not hear it
            if description is not None:
                description.begins()
            max_ms = self.services.intake_max_seconds * 1000
            recorded = await self.session.record_file(intake, max_ms=max_ms, silence_s=4, beep=False)
        except BaseException:
            if description is not None:
                description.abandoned()
            preview.cancel()
            raise
        if description is not None:
            description.recorded(f"{intake}.wav")
        if not preview.done():  # no agent yet: the pop comes with the ring
            preview.cancel()
        await self.publish("ivr.intake_recorded", ended_by=recorded.data or "key")

    async def preview(self) -> None:
        """An agent offered the call while the caller still describes it: their screen pops now."""
        await self.dispatcher.wait_for_offer(self.call_id)
        offer = self.dispatcher.offer_for(self.call_id)
        if offer is not None:
            self.previewed = offer
            await self.publish("acd.offered", agent=offer.account)
            await self.services.screen_pop(offer, {**self.about, "handed_over_by": self.handed_over_by})

    def answerable(self, route: QueueRoute) -> bool:
        """Someone is logged in for this call (at night, the night shift's seats)."""
        skills = [skill for skill in (route.skill, route.overflow_skill) if skill]
        return self.dispatcher.staffed(skills) > 0

    async def connect_emergency(self) -> None:
        number = self.menu.emergency_number
        await self.publish("ivr.emergency", number=number)
        await self.session.stream_file(self.prompt("emergency"))
        # The dialplan dials it through the carrier trunks in order, showing the caller's own number.
        await self.session.set_variable("HOTLINE_EMERGENCY", number)
        await self.session.set_variable("HOTLINE_NEXT", "emergency")

    async def to_voicemail(self, prompt: str, reason: str) -> None:
        await self.publish("ivr.voicemail", reason=reason)
        await self.session.set_variable("HOTLINE_VOICEMAIL_PROMPT", prompt)
        await self.session.set_variable("HOTLINE_NEXT", "voicemail")

    async def join(self, route: QueueRoute, priority: Priority) -> None:
        self.priority = priority
        call = QueuedCall(
            self.call_id,
            str(self.about["line"]),
            route.skill,
            self.arrived_at,  # the place is the moment the call came in, not after the intake
            priority,
            overflow_skill=route.overflow_skill,
            overflow_after=route.overflow_after,
        )
        await self.dispatcher.step(lambda engine, now: engine.call_arrived(call))
        self.queued = True
        # Should the controller stop, the dialplan's fallback queue answers in the same order.
        await self.session.set_variable("QUEUE_PRIO", str(fallback_priority(priority, self.arrived_at)))
        await self.publish("acd.queued", skill=route.skill, priority=priority.name.lower())

    async def join_again(self, handback: Handback) -> None:
        """The agent handed the caller on: queued for the skill (or the colleague) with the first place."""
        call = QueuedCall(
            self.call_id,
            str(self.about["line"]),
            handback.skill,
            self.arrived_at,
            self.priority,
            for_agent=handback.agent,
        )
        await self.dispatcher.step(lambda engine, now: engine.call_arrived(call))
        self.queued = True
        await self.publish(
            "acd.queued",
            skill=handback.skill,
            priority=self.priority.name.lower(),
            agent=handback.agent,
            transferred_by=handback.by,
        )

    async def wait_for_an_agent(self) -> None:
        session, menu = self.session, self.menu
        next_announcement = 0.0
        exits = menu.callback_key + menu.voicemail_key
        await session.music(True)
        while True:
            offer = self.dispatcher.take_offer(self.call_id)
            if offer is not None:
                if await self.ring(offer):
                    return
                await session.music(True)
                continue
            digit = ""
            if self.services.clock() >= next_announcement:
                await session.music(False)
                digit = await self.announce_position(exits)
                await session.music(True)
                next_announcement = self.services.clock() + menu.announce_every
                if not digit and self.dispatcher.offered(self.call_id):
                    continue
            digit = digit or await session.wait_for_digit(self.services.poll_ms)
            if digit == menu.callback_key:
                if await self.leave_callback():
                    return
            elif digit == menu.voicemail_key:
                await session.music(False)
                await self.dispatcher.caller_gone(self.call_id)
                self.queued = False
                await self.to_voicemail("voicemail", "来电人选择留言")
                return

    async def announce_position(self, escape: str) -> str:
        place = self.dispatcher.place(self.call_id, self.services.clock())
        if place is None:
            return ""
        ahead, expected_wait = place
        names = [*position_prompts(ahead, expected_wait), "queue-exits"]
        await self.publish("ivr.position", ahead=ahead)
        for name in names:
            if self.dispatcher.offered(self.call_id):  # an agent is free: ring now, say the rest never
                return ""
            digit = await self.say_unless_offered(name, escape)
            if digit:
                return digit
        return ""

    async def say_unless_offered(self, name: str, escape: str) -> str:
        """Play one announcement, cut short when an agent is offered meanwhile: their phone rings at once."""
        stop = self.services.stop_prompt
        if stop is None:
            return await self.session.stream_file(self.prompt(name), escape)
        playing = asyncio.create_task(self.session.stream_file(self.prompt(name), escape))
        offered = asyncio.create_task(self.dispatcher.wait_for_offer(self.call_id))
        try:
            await asyncio.wait({playing, offered}, return_when=asyncio.FIRST_COMPLETED)
            if not playing.done():
                await stop(self.session.env.get("agi_channel", ""))
            return await playing
        finally:
            offered.cancel()
            playing.cancel()  # only still running when this flow itself is being cancelled

    async def leave_callback(self) -> bool:
        number = self.session.caller_number
        if not await self.services.can_call_back(number, self.call_id):
            await self.session.music(False)
            await self.session.stream_file(self.prompt("callback-refused"))
            await self.session.music(True)
            return False
        await self.session.music(False)
        await self.dispatcher.caller_gone(self.call_id, callback_number=number)
        self.queued = False
        await self.publish("acd.callback_requested", callback_number=number)
        await self.session.stream_file(self.prompt("callback-taken"))
        await self.session.set_variable("HOTLINE_DONE", "1")
        return True

    async def ring(self, offer: Offer) -> bool:
        """Ring the offered agent; True when they answered (and the conversation is over)."""
        if offer is not self.previewed:
            await self.publish("acd.offered", agent=offer.account)
            await self.services.screen_pop(offer, {**self.about, "handed_over_by": self.handed_over_by})
        await self.session.music(False)
        answered = False
        handbacks = self.services.handbacks
        try:
            # t: the agent's leg may transfer (features.conf); g: the caller stays when the agent hangs
            # up, for the survey.
            options = "mtg" if self.menu.survey else "mt"
            with handbacks.talking(self.call_id):
                await self.session.exec(
                    "Dial",
                    f"PJSIP/{offer.account},{self.services.ring_seconds},{options}",
                    timeout=self.services.max_call_seconds,
                )
            status = await self.session.get_variable("DIALSTATUS")
            answered = status == "ANSWER"
            if not answered:
                await self.publish("acd.not_answered", agent=offer.account, dial_status=status)
        finally:
            if not (self.session.hung_up or stopping()):
                await self.dispatcher.finish_offer(offer, answered)
        handback = handbacks.take(self.call_id)
        if answered and handback is not None:
            await self.join_again(handback)
            return False
        if answered:
            self.queued = False
            await self.session.set_variable("HOTLINE_DONE", "1")
            if self.menu.survey and not self.session.hung_up:  # the agent hung up first
                await self.survey(offer.account)
        return answered

    async def survey(self, agent: str) -> None:
        """One question, one key: the caller rates the service they just had; silence is no rating."""
        session = self.session
        digit = await session.stream_file(self.prompt("survey"), "".join(SURVEY_KEYS))
        digit = digit or await session.wait_for_digit(int(self.menu.survey_wait * 1000))
        rating = SURVEY_KEYS.get(digit)
        if rating is None:
            return
        await self.publish("ivr.survey", agent=agent, rating=rating.value)
        if self.services.rate_call is not None:
            await self.services.rate_call(self.call_id, rating, agent)
        await session.stream_file(self.prompt("survey-thanks"))

    async def caller_hung_up(self) -> None:
        """Abandoned in the queue: a caller who waited long enough is called back (漏接回拨)."""
        if not self.queued:
            return
        waited = self.services.clock() - self.arrived_at
        number = self.session.caller_number
        callback = waited >= self.menu.abandoned_callback_after and await self.services.can_call_back(
            number, self.call_id
        )
        still_waiting = self.dispatcher.is_waiting(self.call_id)
        await self.dispatcher.caller_gone(self.call_id, callback_number=number if callback else "")
        self.queued = False
        if still_waiting:
            await self.publish("acd.abandoned", waited=round(waited, 1), callback=callback)
