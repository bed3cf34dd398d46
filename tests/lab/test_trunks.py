"""Two carrier trunks on real SIP, the second registering: when the first stops answering (its packets
dropped, as when a carrier's SBC fails), supervisors hear of it and calls out go through the second;
once it answers again, calls go through it again. The lab's PSTN plays both carriers and names, in each
recording, the trunk port a call came in on."""

from __future__ import annotations

import asyncio
import time

from hotline.lab.controller import ControllerProcess, api_token
from hotline.lab.network import silenced
from tests.lab.conftest import api
from tests.lab.helpers import recorded, recordings


def trunk_became(trunk: str, status: str):
    return lambda e: e.get("type") == "trunk.status" and e.get("trunk") == trunk and e.get("status") == status


async def dial_citizen(agents, token: str, floor, number: str) -> None:
    """Agent 1001 calls a citizen; returns once the citizen's phone answered."""
    status, dial = await api("POST", f"{agents.base_url}/api/agents/1001/dial", token, {"number": number})
    assert status == 202, dial
    connected = {"type": "agent.dial", "dial_id": dial["dial_id"], "state": "connected"}
    await floor.wait_for(lambda e: connected.items() <= e.items(), 40)


async def after(floor, seen: int, predicate, timeout: float) -> dict:
    """The first event matching ``predicate`` among those that came after the first ``seen``."""
    async with asyncio.timeout(timeout):
        while True:
            for event in floor.events[seen:]:
                if predicate(event):
                    return event
            await asyncio.sleep(0.1)


async def test_when_the_first_carrier_stops_answering_calls_out_go_through_the_second(
    lab, agents, lab_env, settings
):
    first, second = settings.carrier_port, settings.pstn_backup_trunk_port
    # The second trunk logs in to its carrier (the PSTN is its registrar), as HOTLINE_TRUNKS says.
    show = "pjsip show registrations"
    async with asyncio.timeout(30):
        while "Registered" not in (registrations := await asyncio.to_thread(lab.sut.cli, show)):
            await asyncio.sleep(0.5)
    assert f"backup/sip:127.0.0.1:{second}" in registrations, registrations
    # The carrier knows it by its user name, which must log in (a digest challenge), and keeps its contact.
    carrier = agents.asterisk()
    customer = await carrier.endpoint("hotline") or []
    auths = [f.get("ObjectName") for f in customer if f.get("Event") == "AuthDetail"]
    assert "hotline-login" in auths, customer
    assert await carrier.registered("hotline"), await carrier.contacts()
    await agents.only_ready("1001")
    token = await asyncio.to_thread(api_token, lab_env, "1001", "agent")
    async with agents.floor() as floor:
        with silenced(settings.bind_host, first):
            seen, silenced_at = len(floor.events), time.monotonic()
            await after(floor, seen, trunk_became("carrier", "unreachable"), 30)
            noticed = time.monotonic() - silenced_at
            since = time.time() - 1
            await dial_citizen(agents, token, floor, "13922223333")
            failover = await floor.wait_for(lambda e: e.get("type") == "trunk.failover", 5)
            assert (failover["trunk"], failover["number"], failover["next"]) == (
                "carrier",
                "13922223333",
                "backup",
            )
            await recorded(recordings(lab), f"callee-13922223333-from-12345-*-port-{second}.wav", since)
            await agents.hang_up_everything()
        seen, answering_at = len(floor.events), time.monotonic()
        await after(floor, seen, trunk_became("carrier", "reachable"), 30)
        back = time.monotonic() - answering_at
        since = time.time() - 1
        await dial_citizen(agents, token, floor, "13922224444")
        await recorded(recordings(lab), f"callee-13922224444-from-12345-*-port-{first}.wav", since)
        await agents.hang_up_everything()
    print(f"carrier silent: unreachable after {noticed:.1f} s; answering again: reachable after {back:.1f} s")


async def test_a_trunk_logging_in_with_a_wrong_password_is_refused_by_its_carrier(
    lab, lab_env, controller, settings, tmp_path
):
    """The carrier's challenge is real: the same trunk with another password is not let in; with its own
    password again it is."""

    def registration() -> str:
        shown = lab.sut.cli("pjsip show registrations")
        return next((line for line in shown.splitlines() if "backup/sip:" in line), shown)

    controller.stop()
    wrong = {**lab_env, "HOTLINE_TRUNK_PASSWORD_BACKUP": "not-the-carriers-password"}
    impostor = ControllerProcess(wrong, settings, tmp_path / "wrong-password.log")
    impostor.start()
    try:
        async with asyncio.timeout(30):
            while "Rejected" not in (refused := await asyncio.to_thread(registration)):
                await asyncio.sleep(0.5)
    finally:
        impostor.stop()
        controller.start()  # its own password again
    async with asyncio.timeout(30):
        while "Registered" not in (accepted := await asyncio.to_thread(registration)):
            await asyncio.sleep(0.5)
    print(f"wrong password: {refused.split()}; own password again: {accepted.split()}")
