"""The caller's way through the IVR and the queue, against a scripted channel and the real ACD engine."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hotline.acd.engine import AgentState, Offer, Priority, QueuedCall
from hotline.ivr.flows import IvrServices, answer_hotline, fallback_priority
from hotline.ivr.handback import Handback
from hotline.kernel.asterisk.fastagi import AgiHangup, AgiResult
from hotline.ticketing.vocabulary import Satisfaction
from tests.fakes.agi_channel import FakeChannel
from tests.fakes.ivr_services import Centre


async def test_the_emergency_key_connects_110_at_once_without_queueing() -> None:
    centre, channel = Centre("1001"), FakeChannel(greeting_key="0")
    await answer_hotline(channel, centre.services())
    assert channel.variables == {"HOTLINE_EMERGENCY": "110", "HOTLINE_NEXT": "emergency"}
    assert "acd.queued" not in centre.kinds() and "emergency" in channel.played


@pytest.mark.parametrize(("is_open", "prompt"), [(True, "voicemail"), (False, "night")])
async def test_with_nobody_on_duty_the_caller_leaves_a_voicemail(is_open: bool, prompt: str) -> None:
    centre, channel = Centre(), FakeChannel()
    centre.open = is_open
    await answer_hotline(channel, centre.services())
    assert channel.variables == {"HOTLINE_VOICEMAIL_PROMPT": prompt, "HOTLINE_NEXT": "voicemail"}
    assert "ivr.voicemail" in centre.kinds() and not centre.engine.calls


async def test_at_night_a_logged_in_night_seat_still_answers() -> None:
    centre, channel = Centre("1001"), FakeChannel()
    centre.open = False
    await answer_hotline(channel, centre.services())
    assert channel.dialled == ["PJSIP/1001,15,mtg"]


async def test_a_ready_agent_is_rung_with_a_screen_pop_and_goes_to_wrap_up_after() -> None:
    centre, channel = Centre("1001"), FakeChannel()
    await answer_hotline(channel, centre.services())
    assert channel.dialled == ["PJSIP/1001,15,mtg"] and channel.variables["HOTLINE_DONE"] == "1"
    assert centre.engine.agents["1001"].state == AgentState.WRAP_UP and not centre.engine.calls
    pop = next(e for e in centre.events if e["type"] == "agent.screen_pop")
    assert pop["agent"] == "1001" and pop["caller_number"] == "13800138000"
    assert centre.kinds().index("acd.offered") < centre.kinds().index("agent.screen_pop")
    # speech-to-text hears the caller's channel as they describe, and is told when the recording ended
    assert centre.transcribing == [
        ("call-1", "PJSIP/carrier-00000001"),
        ("call-1", "begins"),
        ("call-1", "/rec/call-1-intake.wav"),
    ]
    prompts = channel.played
    assert prompts.index("describe") + 1 == prompts.index("beep"), "the beep, then the description is heard"


async def test_an_agent_free_while_the_caller_describes_reads_along_and_is_rung_once_they_finish() -> None:
    centre = Centre(logged_in=("1001",))

    async def agent_turns_ready() -> None:
        await centre.dispatcher.step(lambda engine, now: engine.ready("1001", now))
        await asyncio.sleep(0.01)
        assert channel.dialled == [], "the caller is still speaking: the phone does not ring yet"

    channel = FakeChannel(on_record=agent_turns_ready)
    await answer_hotline(channel, centre.services())
    kinds = centre.kinds()
    assert kinds.index("acd.queued") < kinds.index("acd.offered") < kinds.index("ivr.intake_recorded")
    assert kinds.index("agent.screen_pop") < kinds.index("ivr.intake_recorded"), "the screen pops at once"
    assert kinds.count("agent.screen_pop") == 1 and kinds.count("acd.offered") == 1
    assert channel.dialled == ["PJSIP/1001,15,mtg"] and channel.variables["HOTLINE_DONE"] == "1"


async def test_a_caller_who_hangs_up_while_describing_is_no_longer_waiting() -> None:
    centre = Centre(logged_in=("1001",))

    async def hangs_up() -> None:
        raise AgiHangup("gone")

    await answer_hotline(FakeChannel(on_record=hangs_up), centre.services())
    assert centre.transcribing[-1] == ("call-1", "abandoned") and not centre.engine.calls
    assert "acd.abandoned" in centre.kinds()


async def test_an_unanswered_phone_sends_the_call_to_the_next_agent() -> None:
    centre, channel = Centre("1001", "1002"), FakeChannel(dial_statuses=["NOANSWER", "ANSWER"])
    await answer_hotline(channel, centre.services())
    assert channel.dialled == ["PJSIP/1001,15,mtg", "PJSIP/1002,15,mtg"]
    assert centre.engine.agents["1001"].missed_in_row == 1
    assert [e["agent"] for e in centre.events if e["type"] == "acd.not_answered"] == ["1001"]


async def test_the_caller_hears_their_place_and_can_leave_a_callback_that_keeps_it() -> None:
    centre = Centre(logged_in=("1001",))

    async def caller(wait: int) -> str:
        centre.clock.now += 1
        return "1" if wait == 3 else ""

    channel = FakeChannel(on_wait=caller)
    await answer_hotline(channel, centre.services())
    announced = channel.played.index("ahead-0")
    assert channel.played[announced : announced + 3] == ["ahead-0", "wait-3", "queue-exits"]
    assert channel.played[-1] == "callback-taken"
    assert channel.variables["HOTLINE_DONE"] == "1"
    call = centre.engine.calls["call-1"]
    assert call.callback_number == "13800138000" and call.arrived_at == 1000.0
    await centre.dispatcher.step(lambda engine, now: engine.ready("1001", now))
    await asyncio.sleep(0)  # the outbound callback starts as its own task
    assert centre.callbacks == [Offer("call-1", "1001", "13800138000")]


async def test_a_withheld_number_cannot_leave_a_callback() -> None:
    centre = Centre(logged_in=("1001",))

    async def caller(wait: int) -> str:
        if wait == 2:
            raise AgiHangup("gone")
        return "1"

    channel = FakeChannel(caller="anonymous", on_wait=caller)
    await answer_hotline(channel, centre.services())
    assert "callback-refused" in channel.played and not centre.engine.calls


async def test_an_abandoned_caller_with_a_foreign_number_is_not_called_back_and_supervisors_see_why() -> None:
    """The automatic callback once dialled 0088216123456, a satellite number (toll fraud)."""
    centre = Centre(logged_in=("1001",))

    async def caller(wait: int) -> str:
        centre.clock.now += 60
        raise AgiHangup("gone")

    await answer_hotline(FakeChannel(caller="0088216123456", on_wait=caller), centre.services())
    assert not next(e for e in centre.events if e["type"] == "acd.abandoned")["callback"]
    assert "call-1" not in centre.engine.calls
    refused = next(e for e in centre.events if e["type"] == "security.outbound_refused")
    assert refused["number"] == "0088216123456" and refused["reason"] == "international prefix"


@pytest.mark.parametrize(("waited", "called_back"), [(30, True), (3, False)])
async def test_a_caller_who_gives_up_after_waiting_is_put_on_the_callback_list(
    waited: int, called_back: bool
) -> None:
    centre = Centre(logged_in=("1001",))

    async def caller(wait: int) -> str:
        centre.clock.now += waited
        raise AgiHangup("gone")

    await answer_hotline(FakeChannel(on_wait=caller), centre.services())
    abandoned = next(e for e in centre.events if e["type"] == "acd.abandoned")
    assert abandoned["callback"] is called_back
    assert ("call-1" in centre.engine.calls) is called_back


async def test_the_voicemail_key_leaves_the_queue_for_a_message() -> None:
    centre = Centre(logged_in=("1001",))

    async def caller(wait: int) -> str:
        return "2"

    channel = FakeChannel(on_wait=caller)
    await answer_hotline(channel, centre.services())
    assert channel.variables["HOTLINE_NEXT"] == "voicemail" and not centre.engine.calls


async def test_a_caller_who_called_three_times_today_is_queued_as_a_repeat_caller() -> None:
    centre = Centre(logged_in=("1001",), calls_today=3)
    seen: list[Priority] = []

    async def caller(wait: int) -> str:
        seen.append(centre.engine.calls["call-1"].priority)
        raise AgiHangup("gone")

    await answer_hotline(FakeChannel(on_wait=caller), centre.services())
    assert seen == [Priority.REPEAT_CALLER]


async def test_a_caller_who_hangs_up_while_the_agent_rings_keeps_the_agent_free() -> None:
    centre = Centre("1001")
    channel = FakeChannel()

    async def hang_up_on_dial(
        application: str, argument: str = "", timeout: float | None = None
    ) -> AgiResult:
        if application == "Dial":
            channel.hung_up = True
            raise AgiHangup("caller gone")
        return AgiResult(200, 0)

    channel.exec = hang_up_on_dial  # type: ignore[method-assign]
    channel.caller = "anonymous"
    await answer_hotline(channel, centre.services())
    assert centre.engine.agents["1001"].state == AgentState.READY and not centre.engine.calls


async def test_an_agent_free_during_the_announcement_is_rung_before_the_rest_is_said() -> None:
    centre = Centre(logged_in=("1001",))
    channel = FakeChannel()
    said = channel.stream_file

    async def stream_file(path: str, escape_digits: str = "") -> str:
        if path.endswith("/ahead-0"):  # the agent turns ready while the caller hears their place
            await centre.dispatcher.step(lambda engine, now: engine.ready("1001", now))
        return await said(path, escape_digits)

    channel.stream_file = stream_file  # type: ignore[method-assign]
    await answer_hotline(channel, centre.services())
    assert channel.dialled == ["PJSIP/1001,15,mtg"]
    assert "ahead-0" in channel.played and "queue-exits" not in channel.played
    assert channel.waits == 0, "no wait for the next poll either"


async def test_a_long_announcement_is_cut_short_the_moment_an_agent_is_free() -> None:
    centre = Centre(logged_in=("1001",))
    channel = FakeChannel()
    said, stopped = channel.stream_file, asyncio.Event()
    cut: list[str] = []

    async def stream_file(path: str, escape_digits: str = "") -> str:
        if path.endswith("/ahead-0"):  # a long prompt, playing until Asterisk is told to stop it
            asyncio.get_running_loop().call_soon(
                asyncio.ensure_future, centre.dispatcher.step(lambda engine, now: engine.ready("1001", now))
            )
            await stopped.wait()
        return await said(path, escape_digits)

    async def stop_prompt(channel_name: str) -> None:
        cut.append(channel_name)
        stopped.set()

    channel.stream_file = stream_file  # type: ignore[method-assign]
    services = centre.services()
    services.stop_prompt = stop_prompt
    await asyncio.wait_for(answer_hotline(channel, services), 5)
    assert cut == ["PJSIP/carrier-00000001"], "Asterisk was told to stop the caller's prompt"
    assert channel.dialled == ["PJSIP/1001,15,mtg"] and "queue-exits" not in channel.played


async def test_a_caller_handed_back_by_110_skips_the_greeting_and_goes_first() -> None:
    centre = Centre(logged_in=("1001",))
    await centre.dispatcher.step(
        lambda engine, now: engine.call_arrived(QueuedCall("earlier", "12345", "12345", now - 60))
    )
    seen: list[tuple[Priority, list[str]]] = []

    async def caller(wait: int) -> str:
        seen.append((centre.engine.calls["call-1"].priority, [c.call_id for c in centre.engine.waiting()]))
        raise AgiHangup("gone")

    channel = FakeChannel(caller="110", on_wait=caller)
    await answer_hotline(channel, centre.services())
    assert seen == [(Priority.FROM_110, ["call-1", "earlier"])], "queued ahead of a caller waiting longer"
    assert "greeting" not in channel.played and "describe" not in channel.played
    assert "ivr.handover" in centre.kinds() and "ivr.menu" not in centre.kinds()


async def test_a_caller_110_hands_over_on_the_number_map_is_marked_for_the_agents_ticket() -> None:
    """The police's handover number shows the citizen's own number; the dialplan names the service."""
    centre = Centre("1001")
    channel = FakeChannel(caller="13700000001", dialplan={"HOTLINE_HANDED_OVER_BY": "110"})
    await answer_hotline(channel, centre.services("no-menu"))
    assert "greeting" not in channel.played and "describe" not in channel.played
    [handover] = [e for e in centre.events if e["type"] == "ivr.handover"]
    [queued] = [e for e in centre.events if e["type"] == "acd.queued"]
    [pop] = [e for e in centre.events if e["type"] == "agent.screen_pop"]
    assert (handover["by"], queued["priority"], pop["handed_over_by"]) == ("110", "from_110", "110")
    assert all("handed_over_by" not in e for e in centre.events if e["type"] != "agent.screen_pop")


async def test_a_stop_mid_conversation_leaves_the_agent_talking_as_their_phone_is() -> None:
    """A SIGTERM once put talking agents into wrap-up while their calls went on in Asterisk."""
    centre, channel = Centre("1001"), FakeChannel()
    talking = asyncio.Event()

    async def dial_and_talk(application: str, argument: str = "", timeout: float | None = None) -> AgiResult:
        if application == "Dial":
            await centre.dispatcher.phone_answered("1001")  # what AMI says when the agent picks up
            talking.set()
            await asyncio.Event().wait()  # the conversation goes on until the controller stops
        return AgiResult(200, 0)

    channel.exec = dial_and_talk  # type: ignore[method-assign]
    flow = asyncio.create_task(answer_hotline(channel, centre.services()))
    await talking.wait()
    flow.cancel()  # what FastAgiServer.close does to every open call
    with pytest.raises(asyncio.CancelledError):
        await flow
    agent = centre.engine.agents["1001"]
    assert (agent.state, agent.call_id, agent.missed_in_row) == (AgentState.TALKING, "call-1", 0)


async def test_a_stop_hands_a_waiting_caller_to_the_fallback_and_keeps_a_callback_in_its_place() -> None:
    centre, waiting = Centre(logged_in=("1001",)), FakeChannel()
    queued = asyncio.Event()

    async def wait(_: int) -> str:
        queued.set()
        await asyncio.Event().wait()
        return ""

    waiting.on_wait = wait
    flow = asyncio.create_task(answer_hotline(waiting, centre.services()))
    await queued.wait()
    await centre.dispatcher.step(
        lambda engine, now: engine.call_arrived(
            QueuedCall("cb", "12345", "12345", now, callback_number="13900139000")
        )
    )
    flow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flow
    assert list(centre.engine.calls) == ["cb"], "the caller left for the fallback queue; the callback stays"


async def test_a_queued_caller_carries_their_place_into_the_fallback_queue() -> None:
    """Handed to app_queue all at once, callers were answered longest-waiter last."""
    centre, channel = Centre("1001"), FakeChannel()
    centre.clock.now = 1234.0
    await answer_hotline(channel, centre.services())
    assert channel.variables["QUEUE_PRIO"] == str(fallback_priority(Priority.NORMAL, 1234.0))
    earlier, later = fallback_priority(Priority.NORMAL, 1000.0), fallback_priority(Priority.NORMAL, 1001.0)
    assert earlier > later
    assert fallback_priority(Priority.FROM_110, 99_999.0) > fallback_priority(Priority.ELDERLY, 0.0) > earlier
    assert fallback_priority(Priority.FROM_110, 0.0) < 2**31, "app_queue's priority is a C int"


async def test_a_caller_handed_to_a_colleague_queues_again_with_their_first_place() -> None:
    centre, channel = Centre("1001", "1002"), FakeChannel(dial_statuses=["ANSWER", "ANSWER"])
    services = centre.services()
    asked, places = [], []

    def transfer_once(dialled: str) -> None:
        if not asked:  # the agent asks while talking; afterwards the colleague's call goes on
            asked.append(services.handbacks.ask("call-1", Handback("12345", agent="1002", by="1001")))
            centre.clock.now += 300
        else:
            places.append(centre.engine.calls["call-1"].arrived_at)

    channel.on_dial = transfer_once
    await answer_hotline(channel, services)
    assert places == [1000.0]  # the moment the call came in, not the moment it was handed on
    assert asked == [True] and channel.dialled == ["PJSIP/1001,15,mtg", "PJSIP/1002,15,mtg"]
    queued = [e for e in centre.events if e["type"] == "acd.queued"]
    assert queued[-1] | {"agent": "1002", "transferred_by": "1001"} == queued[-1]
    assert channel.variables["HOTLINE_DONE"] == "1"
    assert not services.handbacks.ask("call-1", Handback("12345"))  # the call is no longer with an agent


@pytest.mark.parametrize(("menu", "silences"), [("no-menu", 0), ("keyed", 1)])
async def test_without_a_menu_the_greeting_leads_straight_to_the_description(
    menu: str, silences: int
) -> None:
    centre, channel = Centre("1001"), FakeChannel()
    await answer_hotline(channel, centre.services(menu))
    assert channel.played[:2] == ["greeting", "describe"]
    assert channel.greeting_waits == silences, "a keyed menu waits 3 s for a key; no menu, no wait"
    assert channel.dialled == ["PJSIP/1001,15,mtg"]


def surveying(centre: Centre) -> IvrServices:
    """The default menu with the survey turned on."""
    services = centre.services("no-menu")
    services.menu = dataclasses.replace(services.menu, survey=True)
    return services


@pytest.mark.parametrize(
    ("key", "late", "rating"),
    [
        ("1", False, Satisfaction.SATISFIED),
        ("2", True, Satisfaction.BASICALLY_SATISFIED),
        ("3", False, Satisfaction.DISSATISFIED),
    ],
)
async def test_after_the_agent_hangs_up_the_caller_rates_the_service_with_one_key(
    key: str, late: bool, rating: Satisfaction
) -> None:
    centre, channel = Centre("1001"), FakeChannel(survey_key=key, survey_key_late=late)
    await answer_hotline(channel, surveying(centre))
    assert channel.played[-2:] == ["survey", "survey-thanks"]
    assert centre.ratings == [("call-1", rating, "1001")]
    [survey] = [e for e in centre.events if e["type"] == "ivr.survey"]
    assert (survey["agent"], survey["rating"]) == ("1001", rating.value)


@pytest.mark.parametrize("key", ["", "9", "#"])
async def test_no_rating_or_another_key_leaves_the_call_unrated(key: str) -> None:
    centre, channel = Centre("1001"), FakeChannel(survey_key=key)
    await answer_hotline(channel, surveying(centre))
    assert channel.played[-1] == "survey" and centre.ratings == []
    assert "ivr.survey" not in centre.kinds()


async def test_a_caller_who_hung_up_first_is_not_asked() -> None:
    centre = Centre("1001")
    channel = FakeChannel(survey_key="1")
    channel.on_dial = lambda argument: setattr(channel, "hung_up", True)
    await answer_hotline(channel, surveying(centre))
    assert "survey" not in channel.played and centre.ratings == []


@pytest.mark.parametrize("menu", ["no-menu", "keyed"])
async def test_both_presets_ask_for_the_rating_and_a_menu_without_it_ends_the_call_with_the_agent(
    menu: str,
) -> None:
    centre, channel = Centre("1001"), FakeChannel(survey_key="1")
    await answer_hotline(channel, centre.services(menu))
    assert channel.dialled == ["PJSIP/1001,15,mtg"] and centre.ratings[0][1] is Satisfaction.SATISFIED
    centre, channel = Centre("1001"), FakeChannel(survey_key="1")
    services = centre.services(menu)
    services.menu = dataclasses.replace(services.menu, survey=False)
    await answer_hotline(channel, services)
    assert "survey" not in channel.played and centre.ratings == []
    assert channel.dialled == ["PJSIP/1001,15,mt"]  # without g, the agent's hang-up ends the call
