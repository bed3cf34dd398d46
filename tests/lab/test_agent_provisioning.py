"""An agent added through the API gets a SIP account at once: a real softphone registers and answers a call.

The softphone is baresip in the chroot, registering to the system's Asterisk
with the password the API returned; the caller is a real call from the lab's PSTN.
"""

from __future__ import annotations

import asyncio
import random
import time

from hotline.lab.caller import place_call
from hotline.lab.chroot import chroot_path
from hotline.lab.softphone import Softphone
from hotline.recordings.files import duration_seconds
from tests.lab.conftest import api, finished_wav, tone_share
from tests.lab.helpers import caller


async def test_a_seat_added_through_the_api_registers_a_softphone_and_answers_a_caller(
    lab, block, controller, settings, agents, supervisor_token, tmp_path
):
    account = str(random.randrange(20000, 30000))  # a new seat on every run, even on a kept database
    base = controller.base_url
    status, seat = await api(
        "POST",
        f"{base}/api/agents",
        supervisor_token,
        {"account": account, "name": "新坐席", "skills": {"12345": 9}},
    )
    assert status == 201 and seat["provisioned"], seat
    phone = Softphone(
        chroot_path(),
        account,
        seat["sip_password"],
        f"{settings.bind_host}:{settings.sip_port}",
        block.softphone_port,
        tmp_path,
    )
    added = time.monotonic()
    phone.start()
    try:
        async with asyncio.timeout(15):  # "within seconds": Asterisk's own device state says it registered
            while not (await api("GET", f"{base}/api/agents/{account}", seat["api_token"]))[1]["phone_free"]:
                await asyncio.sleep(0.2)
        print(f"softphone {account} registered {time.monotonic() - added:.2f}s after it was added")

        await agents.only_ready()
        status, mine = await api("POST", f"{base}/api/agents/{account}/ready", seat["api_token"])
        assert status == 200 and mine["state"] == "ready", mine
        plan = caller(hold=60)
        async with agents.floor() as stream:
            placed = await place_call(lab, plan)
            bridged = await stream.wait_for(
                lambda e: e.get("type") == "call.bridged" and e["caller_number"] == plan.caller_number,
                timeout=60,
            )
            assert bridged["agent"] == account, "the only ready seat is the new one"
            assert bridged["call_id"] == placed.call_id, "the id `hotline call` prints is the events' call id"
            await asyncio.sleep(6)  # the softphone's tone plays to the caller
        await agents.hang_up_everything()
        caller_heard = (
            lab.root / lab.pstn_recordings_dir().lstrip("/") / f"caller-{placed.caller_channel}.wav"
        )
        assert await finished_wav(caller_heard, lambda p: tone_share(p, 440.0, last=3.0)) > 0.5, (
            "the caller hears the softphone's tone: media flows from the new seat"
        )
        assert await finished_wav(phone.heard, duration_seconds) >= 4, (
            "and the softphone got the caller's RTP"
        )

        status, stopped = await api(
            "PATCH", f"{base}/api/agents/{account}", supervisor_token, {"active": False}
        )
        assert status == 200 and stopped["active"] is False and stopped["provisioned"], stopped
        endpoint = await agents.asterisk(system=True).endpoint(account)
        assert endpoint is None, "a stopped seat has no endpoint: its phone can no longer register or ring"
        status, _ = await api("GET", f"{base}/api/agents", seat["api_token"])
        assert status == 401, "and its token no longer opens the API"
    finally:
        phone.stop()
