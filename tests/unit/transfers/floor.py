"""One bridged call, its agent and the fakes a ``CallControl`` runs on, as the transfers' tests share them."""

from __future__ import annotations

from hotline.ivr.handback import Handbacks
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.asterisk.channels import LiveCall
from hotline.kernel.runtime.events import require_catalogued
from hotline.transfers.control import CallControl
from hotline.trunks.dialling import DiallingPlan, OutboundGuard
from tests.fakes.ami_client import RecordingAmi

CALL_ID = "hotline-1.0"
CALLER, AGENT = "PJSIP/carrier-00000001", "PJSIP/1001-00000002"
LOCAL = "Local/12315@hotline-transfer-00000001;2"
DEPARTMENT = "PJSIP/carrier-00000003"
AGENT_1001 = Actor("1001", Role.AGENT)
#: Asterisk's word that the keys *3 joined caller, agent and department in one bridge.
JOINED = {
    "Event": "AttendedTransfer",
    "Result": "Success",
    "OrigTransfererLinkedid": CALL_ID,
    "DestType": "Threeway",
}


def bridged_call() -> LiveCall:
    call = LiveCall(CALL_ID, "13800138000", "", "12345", 0.0, state="bridged", agent="1001")
    call.channels = {CALLER, AGENT}
    call.caller_channel = CALLER
    return call


def new_floor() -> tuple[CallControl, RecordingAmi, list[dict], dict[str, LiveCall], Handbacks]:
    """A control over one bridged call, agents 1001–1003 (1003 not on duty); returns it, its AMI, the
    floor's events, the live calls and the hand-backs."""
    ami, events, calls, handbacks = RecordingAmi(), [], {CALL_ID: bridged_call()}, Handbacks()

    async def publish(event: dict[str, object]) -> None:
        require_catalogued(event)  # as the live state would
        events.append(event)

    control = CallControl(
        ami,  # type: ignore[arg-type]
        lambda: calls,
        lambda account: account in {"1001", "1002", "1003"},
        OutboundGuard(DiallingPlan(), publish),
        publish,
        handbacks,
        lambda handback: handback.agent != "1003",
        recordings_dir="/var/lib/hotline/sut/recordings",
    )
    return control, ami, events, calls, handbacks


async def run(works) -> None:
    for work in works:
        await work()


def event(kind: str, channel: str, **fields: str) -> dict[str, str]:
    return {"Event": kind, "Channel": channel, "Linkedid": CALL_ID, **fields}


def phone_keys(keys: str) -> list[dict[str, str]]:
    return [event("DTMFEnd", AGENT, Digit=key, Direction="Received") for key in keys]


def handback_dialled(target: str) -> dict[str, str]:
    """The dialplan's word that the agent's phone dialled *8 00 and ``target`` (extensions.conf)."""
    return {
        "Event": "UserEvent",
        "UserEvent": "HotlineHandback",
        "Channel": "Local/001002@hotline-transfer-00000004;2",
        "Linkedid": CALL_ID,
        "Target": target,
    }
