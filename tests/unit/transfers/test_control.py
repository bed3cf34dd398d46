"""Transfers, three-way calls and the 110 linkage as an agent and the floor see them: refused when they
cannot happen, driven on the agent's leg with Asterisk's own transfer, and followed to their end."""

from __future__ import annotations

import pytest

from hotline.ivr.handback import Handback, Handbacks
from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.identity import Actor, Role
from hotline.transfers.control import CallControl
from hotline.transfers.targets import LinkageMode, Target, TargetError, TransferMode, consulted_number, legs
from hotline.trunks.dialling import DiallingPlan, OutboundGuard
from tests.fakes.ami_client import RecordingAmi
from tests.unit.transfers.floor import (
    AGENT,
    AGENT_1001,
    CALL_ID,
    CALLER,
    DEPARTMENT,
    JOINED,
    LOCAL,
    bridged_call,
    event,
    handback_dialled,
    new_floor,
    phone_keys,
    run,
)


@pytest.fixture
def floor():
    return new_floor()


def with_the_ticket() -> tuple[CallControl, list[dict], list[tuple[str, ...]]]:
    """A control whose 110 linkages reach the ticket side; returns it, the floor's events and the linkages."""
    shared, calls, events = [], {CALL_ID: bridged_call()}, []

    async def publish(event: dict[str, object]) -> None:
        events.append(event)

    async def linked(*linkage: str) -> None:
        shared.append(linkage)

    control = CallControl(
        RecordingAmi(),  # type: ignore[arg-type]
        lambda: calls,
        lambda account: account == "1001",
        OutboundGuard(DiallingPlan(), publish),
        publish,
        Handbacks(),
        lambda handback: True,
        linked,
        recordings_dir="/var/lib/hotline/sut/recordings",
    )
    return control, events, shared


def test_targets_are_a_number_one_agent_or_a_skill_group():
    assert Target.parse("12315") == Target(number="12315")
    assert str(Target.parse("agent:1002")) == "agent:1002" and Target.parse("skill:12333").skill == "12333"
    for bad in ("", "agent:", "queue:1", "12", "12315;2", "agent:a b"):
        with pytest.raises(TargetError):
            Target.parse(bad)
    assert consulted_number(LOCAL) == "12315" and consulted_number(AGENT) == ""


async def test_a_three_way_call_joins_when_the_department_answers_and_the_agent_can_leave(floor):
    control, ami, events, calls, _ = floor
    view = await control.conference(CALL_ID, Target.parse("12315"), AGENT_1001)
    assert view["consult"]["state"] == "dialling"
    assert ami.actions == [("Atxfer", {"Channel": AGENT, "Exten": "12315", "Context": "hotline-transfer"})]
    calls[CALL_ID].channels |= {LOCAL, DEPARTMENT}
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))
    assert [leg.role for leg in legs(calls[CALL_ID], control.is_agent, control.departments())] == [
        "agent",
        "caller",
        "department",
    ]
    with pytest.raises(ApiError) as refused:  # not joined yet
        await control.leave(CALL_ID, AGENT_1001)
    assert refused.value.error_id == "no-conference"
    ami.actions.clear()
    await run(control.hear(event("DialEnd", LOCAL, DialStatus="ANSWER")))
    assert [(name, h["Digit"]) for name, h in ami.actions] == [("PlayDTMF", "*"), ("PlayDTMF", "3")]
    await run(control.hear(JOINED))
    await control.leave(CALL_ID, AGENT_1001)
    assert ami.actions[-1] == ("Hangup", {"Channel": AGENT})
    await run(control.hear(event("Hangup", AGENT)))
    states = [e["state"] for e in events if e["type"] == "call.conference"]
    assert states == ["dialling", "ringing", "answered", "joined", "agent_left"]
    calls[CALL_ID].channels -= {AGENT, LOCAL}
    view = control.view(calls[CALL_ID])
    assert view["consult"] is None and [leg["role"] for leg in view["legs"]] == ["caller", "department"]
    control.forget(set())
    assert control.departments() == {}


async def test_a_blind_transfer_ends_the_agents_leg_once_the_department_rings(floor):
    control, ami, events, _, _ = floor
    await control.transfer(CALL_ID, Target.parse("12315"), TransferMode.BLIND, AGENT_1001)
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))
    assert ami.actions[-1] == ("Hangup", {"Channel": AGENT})
    await run(control.hear(event("Hangup", AGENT)))
    assert [e["state"] for e in events if e["type"] == "call.transfer"] == [
        "dialling",
        "ringing",
        "handed_over",
    ]


async def test_a_department_that_does_not_answer_leaves_caller_and_agent_together(floor):
    control, _, events, _, _ = floor
    await control.transfer(CALL_ID, Target.parse("12333"), TransferMode.ATTENDED, AGENT_1001)
    local = LOCAL.replace("12315", "12333")
    await run(control.hear(event("DialBegin", local, DestChannel=DEPARTMENT)))
    await run(control.hear(event("DialEnd", local, DialStatus="BUSY")))
    assert events[-1]["state"] == "failed" and events[-1]["status"] == "BUSY"
    await control.conference(CALL_ID, Target.parse("12315"), AGENT_1001)  # free to try again


async def test_a_trunk_that_cannot_carry_the_consult_hands_it_to_the_next_trunk(floor):
    control, _, events, calls, _ = floor
    await control.conference(CALL_ID, Target.parse("12315"), AGENT_1001)
    backup = "PJSIP/backup-00000004"
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))
    await run(control.hear(event("DialEnd", LOCAL, DialStatus="CONGESTION")))  # the carrier refused it
    await run(control.hear(event("Hangup", DEPARTMENT)))
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=backup)))
    calls[CALL_ID].channels |= {LOCAL, backup}
    assert control.departments() == {backup: "12315"}
    await run(control.hear(event("DialEnd", LOCAL, DialStatus="ANSWER")))
    states = [e["state"] for e in events if e["type"] == "call.conference"]
    assert states == ["dialling", "ringing", "answered"], "one ringing, whichever trunk carried it"


async def test_a_consult_no_trunk_could_carry_fails_when_its_dialling_leg_ends(floor):
    control, _, events, _, _ = floor
    await control.transfer(CALL_ID, Target.parse("12315"), TransferMode.ATTENDED, AGENT_1001)
    for trunk_leg in (DEPARTMENT, "PJSIP/backup-00000004"):
        await run(control.hear(event("DialBegin", LOCAL, DestChannel=trunk_leg)))
        await run(control.hear(event("DialEnd", LOCAL, DialStatus="CHANUNAVAIL")))
        await run(control.hear(event("Hangup", trunk_leg)))
    assert events[-1]["state"] == "ringing"
    await run(control.hear(event("Hangup", LOCAL)))
    assert events[-1]["state"] == "failed" and events[-1]["status"] == "CHANUNAVAIL"
    await control.conference(CALL_ID, Target.parse("12315"), AGENT_1001)  # free to try again


async def test_the_agent_calls_off_a_consult_and_drops_a_department_from_the_three_way_call(floor):
    control, ami, events, _, _ = floor
    with pytest.raises(ApiError) as refused:
        await control.cancel(CALL_ID, AGENT_1001)
    assert refused.value.error_id == "no-consult"
    await control.transfer(CALL_ID, Target.parse("12333"), TransferMode.ATTENDED, AGENT_1001)
    with pytest.raises(ApiError) as refused:  # Asterisk has not begun dialling
        await control.cancel(CALL_ID, AGENT_1001)
    assert refused.value.error_id == "consult-not-ringing"
    local = LOCAL.replace("12315", "12333")
    await run(control.hear(event("DialBegin", local, DestChannel=DEPARTMENT)))
    await control.cancel(CALL_ID, AGENT_1001)
    assert ami.actions[-1] == ("Hangup", {"Channel": local})
    await run(control.hear(event("DialEnd", local, DialStatus="CANCEL")))
    assert (events[-1]["state"], events[-1]["cancelled_by"]) == ("cancelled", "1001")

    await control.conference(CALL_ID, Target.parse("12315"), AGENT_1001)
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))
    await run(control.hear(event("DialEnd", LOCAL, DialStatus="ANSWER")))
    await run(control.hear(JOINED))
    await control.cancel(CALL_ID, AGENT_1001)
    assert ami.actions[-1] == ("Hangup", {"Channel": DEPARTMENT}), "the department is dropped, not the caller"
    await run(control.hear(event("Hangup", DEPARTMENT)))
    assert [e["state"] for e in events if e["type"] == "call.conference"][-1] == "cancelled"

    await control.transfer(CALL_ID, Target.parse("12315"), TransferMode.BLIND, AGENT_1001)
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))
    with pytest.raises(ApiError) as refused:
        await control.cancel(CALL_ID, AGENT_1001)
    assert refused.value.error_id == "already-handed-over"


async def test_one_key_110_is_the_linkage_and_only_takes_emergency_numbers(floor):
    control, _, events, _, _ = floor
    await control.emergency(CALL_ID, "110", LinkageMode.TRANSFER, AGENT_1001)
    assert events[-1]["linkage"] == "110" and events[-1]["mode"] == "blind"
    with pytest.raises(ApiError) as refused:
        await control.emergency(CALL_ID, "12315", LinkageMode.THREE_WAY, AGENT_1001)
    assert refused.value.error_id == "not-an-emergency-number"


async def test_a_consult_the_agent_dials_from_the_phone_is_followed_like_one_asked_of_the_api(floor):
    control, ami, events, calls, _ = floor
    calls[CALL_ID].channels |= {LOCAL, DEPARTMENT}
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))  # *8 12315
    assert control.view(calls[CALL_ID])["consult"] == {
        "to": "12315",
        "purpose": "attended",
        "agent": "1001",
        "by": "1001",
        "linkage": "",
        "state": "ringing",
    }
    assert ami.actions == [
        ("MixMonitor", {"Channel": DEPARTMENT, "File": ami.actions[0][1]["File"], "Options": "a"})
    ]
    with pytest.raises(ApiError) as refused:
        await control.conference(CALL_ID, Target.parse("12333"), AGENT_1001)
    assert refused.value.error_id == "transfer-in-progress"
    await run(control.hear(event("DialEnd", LOCAL, DialStatus="ANSWER")))
    for key in phone_keys("*3"):
        await run(control.hear(key))
    await run(control.hear(JOINED))
    await run(control.hear(event("Hangup", AGENT)))
    seen = [(e["type"], e["state"]) for e in events]
    assert seen == [
        ("call.transfer", "ringing"),
        ("call.transfer", "answered"),
        ("call.conference", "joined"),
        ("call.conference", "agent_left"),
    ]
    assert ami.actions[1:] == [], "the phone's own keys joined them: nothing to send"


async def test_the_agent_goes_back_to_the_caller_with_star_1_and_hands_110_over_with_star_2():
    control, events, shared = with_the_ticket()
    await run(control.hear(event("DialBegin", LOCAL, DestChannel=DEPARTMENT)))
    await run(control.hear(event("DialEnd", LOCAL, DialStatus="ANSWER")))
    for key in phone_keys("4*1"):
        await run(control.hear(key))
    await run(control.hear(event("Hangup", DEPARTMENT)))
    assert (events[-1]["state"], events[-1]["cancelled_by"]) == ("cancelled", "1001")

    police = LOCAL.replace("12315", "110")
    await run(control.hear(event("DialBegin", police, DestChannel=DEPARTMENT)))
    assert events[-1]["linkage"] == "110"
    await run(control.hear(event("DialEnd", police, DialStatus="ANSWER")))
    handed = {"Event": "AttendedTransfer", "Result": "Success", "OrigTransfererLinkedid": CALL_ID}
    await run(control.hear({**handed, "DestType": "Bridge"}))  # *2, or the agent hung up
    assert (events[-1]["type"], events[-1]["state"]) == ("call.transfer", "handed_over")
    assert shared == [(CALL_ID, "110", "transfer", "1001")]


async def test_a_dial_that_is_no_consult_starts_nothing(floor):
    control, _, events, calls, _ = floor
    await run(
        control.hear(event("DialBegin", CALLER, DestChannel=AGENT))
    )  # the caller's flow rings the agent
    await run(control.hear({**event("DialBegin", LOCAL, DestChannel=DEPARTMENT), "Linkedid": "other"}))
    assert events == [] and control.view(calls[CALL_ID])["consult"] is None


@pytest.mark.parametrize(
    ("mode", "shared_at"), [(LinkageMode.TRANSFER, "hangup"), (LinkageMode.THREE_WAY, "joined")]
)
async def test_the_ticket_hears_of_the_110_linkage_once_the_caller_is_with_110(mode, shared_at):
    control, _, shared = with_the_ticket()
    await control.emergency(CALL_ID, "110", mode, AGENT_1001)
    local = LOCAL.replace("12315", "110")
    await run(control.hear(event("DialBegin", local, DestChannel=DEPARTMENT)))
    await run(control.hear(event("DialEnd", local, DialStatus="ANSWER")))
    assert shared == [], "110 answering is not yet 110 taking part"
    if shared_at == "joined":
        await run(control.hear(JOINED))
    await run(control.hear(event("Hangup", AGENT)))  # the agent leaves (blind: once 110 rings)
    assert shared == [(CALL_ID, "110", "transfer" if mode == LinkageMode.TRANSFER else "three-way", "1001")]


async def test_refusals_name_what_cannot_happen(floor):
    control, ami, events, calls, _ = floor
    assert (
        control.visible(AGENT_1001) == [calls[CALL_ID]] and control.visible(Actor("1002", Role.AGENT)) == []
    )

    async def refused(operation) -> tuple[str, int]:
        with pytest.raises(ApiError) as error:
            await operation
        return error.value.error_id, error.value.status

    assert await refused(control.conference("nope", Target.parse("12315"), AGENT_1001)) == (
        "unknown-call",
        404,
    )
    someone_else = Actor("1002", Role.AGENT)
    assert await refused(control.conference(CALL_ID, Target.parse("12315"), someone_else)) == (
        "not-your-call",
        403,
    )
    premium = Target.parse("0088216123456")
    assert await refused(control.conference(CALL_ID, premium, AGENT_1001)) == ("outbound-not-allowed", 403)
    assert events[-1]["type"] == "security.outbound_refused" and ami.actions == []
    assert await refused(control.conference(CALL_ID, Target.parse("agent:1002"), AGENT_1001)) == (
        "conference-needs-number",
        422,
    )
    calls[CALL_ID].state = "answered"  # still in the IVR: no agent to transfer from
    boss = Actor("王班长", Role.SUPERVISOR)
    assert await refused(control.conference(CALL_ID, Target.parse("12315"), boss)) == (
        "call-not-with-agent",
        409,
    )


async def test_a_caller_handed_to_a_colleague_is_asked_of_the_flow_then_the_agents_leg_ends(floor):
    control, ami, events, _, handbacks = floor

    async def hand(to: str) -> str:
        with pytest.raises(ApiError) as error:
            await control.transfer(CALL_ID, Target.parse(to), TransferMode.BLIND, AGENT_1001)
        return error.value.error_id

    assert await hand("agent:1002") == "call-not-transferable"  # no flow of ours talks to this caller
    with handbacks.talking(CALL_ID):
        assert await hand("agent:1003") == "target-unavailable"
        assert await hand("agent:1001") == "transfer-to-self"
        await control.transfer(CALL_ID, Target.parse("agent:1002"), TransferMode.BLIND, AGENT_1001)
        with pytest.raises(ApiError):
            await control.transfer(CALL_ID, Target.parse("skill:12333"), TransferMode.ATTENDED, AGENT_1001)
    assert handbacks.take(CALL_ID) == Handback("", "1002", "1001")
    assert ami.actions == [("Hangup", {"Channel": AGENT})]
    assert events[-1] | {"to": "agent:1002", "state": "queued"} == events[-1]


async def test_from_the_phone_a_colleague_or_a_skill_is_handed_the_caller_like_from_the_api(floor):
    control, ami, events, _, handbacks = floor
    with handbacks.talking(CALL_ID):
        await run(control.hear(handback_dialled("1002")))  # an account: the colleague
    assert handbacks.take(CALL_ID) == Handback("", "1002", "1001")
    assert ami.actions == [("Hangup", {"Channel": AGENT})]
    assert events[-1] | {"to": "agent:1002", "state": "queued", "by": "1001"} == events[-1]
    with handbacks.talking(CALL_ID):
        await run(control.hear(handback_dialled("12333")))  # no account: a skill group
    assert handbacks.take(CALL_ID) == Handback("12333", "", "1001")


async def test_a_handback_the_phone_cannot_have_is_refused_on_the_floor_and_the_agent_stays(floor):
    control, ami, events, _, handbacks = floor
    with handbacks.talking(CALL_ID):
        await run(control.hear(handback_dialled("1001")))  # themself
        await run(control.hear(handback_dialled("1003")))  # a colleague not on duty
    assert [(e["to"], e["state"], e["error_id"]) for e in events] == [
        ("agent:1001", "refused", "transfer-to-self"),
        ("agent:1003", "refused", "target-unavailable"),
    ]
    assert ami.actions == [] and handbacks.take(CALL_ID) is None
    assert control.hear({**handback_dialled("1002"), "Linkedid": "no-such-call"}) == []


async def test_consults_of_calls_that_ended_are_forgotten(floor):
    control, _, _, calls, _ = floor
    await control.conference(CALL_ID, Target.parse("12315"), AGENT_1001)
    control.forget(set())
    assert control.view(calls[CALL_ID])["consult"] is None


async def test_a_caller_is_not_handed_back_while_a_consult_goes_on_under_the_agents_leg(floor):
    control, ami, events, _, handbacks = floor
    await control.transfer(CALL_ID, Target.parse("12315"), TransferMode.ATTENDED, AGENT_1001)
    ami.actions.clear()
    with handbacks.talking(CALL_ID), pytest.raises(ApiError) as refused:
        await control.transfer(CALL_ID, Target.parse("agent:1002"), TransferMode.BLIND, AGENT_1001)
    assert refused.value.error_id == "transfer-in-progress"
    with handbacks.talking(CALL_ID):
        await run(control.hear(handback_dialled("1002")))
    assert (events[-1]["state"], events[-1]["error_id"]) == ("refused", "transfer-in-progress")
    assert ami.actions == [] and handbacks.take(CALL_ID) is None
    assert control.view(control.live_calls()[CALL_ID])["consult"]["state"] == "dialling"
