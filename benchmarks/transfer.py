"""Request → department ringing, in the real lab: our transfer API against Asterisk's own Atxfer, one run.

Each round puts a real caller through to an agent, then asks for a three-way
call with 12315 and times until Asterisk dials the department (``DialBegin``
to the carrier on the system's AMI). Ours: ``POST /api/calls/{id}/conference``
(authentication, the dialling plan, the caller id shown, then the same
``Atxfer``). Theirs: the bare AMI ``Atxfer`` on the agent's leg, as a
dialplan or a softphone's transfer key would start it. The rounds alternate
ours and theirs on the same kind of call. Ratio = ours ÷ theirs: the cost of
the API and its checks, above 1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp

from benchmarks.ready_to_ring import BENCH_ENV, HOME, describe, session
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.channels import account_of
from hotline.lab.caller import CallPlan, Dialler
from hotline.lab.chroot import chroot_path
from hotline.lab.controller import ControllerProcess, api_token
from hotline.lab.lab import Lab
from hotline.lab.settings import LabSettings, load_lab_settings
from hotline.transfers.targets import TRANSFER_CONTEXT

DEPARTMENT = "12315"
AGENT = "1001"


class DepartmentDials:
    """When the system's Asterisk began dialling out to the carrier, and the agent's leg of each call."""

    def __init__(self) -> None:
        self.dialled: list[float] = []
        self.agent_leg: dict[str, str] = {}

    def __call__(self, event) -> None:
        if event.get("Event") == "DialBegin" and str(event.get("DestChannel", "")).startswith(
            "PJSIP/carrier"
        ):
            self.dialled.append(time.perf_counter())
        elif event.get("Event") == "Newchannel" and account_of(str(event.get("Channel", ""))) == AGENT:
            self.agent_leg[str(event.get("Linkedid"))] = str(event.get("Channel"))

    async def after(self, since: float, timeout: float = 15) -> float:
        async with asyncio.timeout(timeout):
            while not any(t > since for t in self.dialled):
                await asyncio.sleep(0.002)
        return next(t for t in self.dialled if t > since) - since


async def run(settings: LabSettings, env: dict[str, str], rounds: int) -> tuple[list[float], list[float]]:
    lab = Lab(settings, log=lambda line: None)
    lab.down()
    lab.up()
    dials = DepartmentDials()
    watcher = AmiClient(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)
    watcher.on_event(dials)
    controller = ControllerProcess(env, settings, HOME / "transfer-controller.log")
    ours: list[float] = []
    theirs: list[float] = []
    try:
        await watcher.connect()
        controller.start()
        token = api_token(env, "bench-supervisor")
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(controller.base_url, headers=headers) as http,
            Dialler(lab) as dialler,
            session(
                AmiClient(settings.bind_host, settings.pstn_ami_port, "lab", settings.pstn_ami_secret)
            ) as pstn,
        ):
            await pstn.action("DBPut", {"Family": "lab/talk", "Key": AGENT, "Val": ""})
            for account in settings.agents:  # this agent alone answers, whatever an earlier run left
                async with http.post(
                    f"/api/agents/{account}/{'ready' if account == AGENT else 'logout'}"
                ) as response:
                    assert response.status == 200, await response.text()
            for round_number in range(2 * rounds):
                plan = CallPlan(caller_number=f"139{round_number:08d}", dtmf="1", dtmf_after=1.0, hold=60)
                placed = await dialler.call(plan)
                async with asyncio.timeout(60):  # past the intake, through the ACD, to the agent
                    while placed.call_id not in dials.agent_leg:
                        await asyncio.sleep(0.05)
                await asyncio.sleep(2.0)  # the agent's phone answered and is bridged
                started = time.perf_counter()
                if round_number % 2 == 0:
                    async with http.post(
                        f"/api/calls/{placed.call_id}/conference", json={"to": DEPARTMENT}
                    ) as response:
                        assert response.status == 200, await response.text()
                    ours.append(await dials.after(started))
                else:
                    leg = dials.agent_leg[placed.call_id]
                    await watcher.action(
                        "Atxfer", {"Channel": leg, "Exten": DEPARTMENT, "Context": TRANSFER_CONTEXT}
                    )
                    theirs.append(await dials.after(started))
                for ami in (pstn, watcher):
                    await ami.action("Hangup", {"Channel": "/.*/"}, check=False)
                async with asyncio.timeout(20):
                    while (await watcher.action("CoreShowChannels", idempotent=True)).events:
                        await asyncio.sleep(0.2)
                async with asyncio.timeout(30):  # wrap-up over, ready for the next caller
                    while True:
                        async with http.get(f"/api/agents/{AGENT}") as response:
                            if (await response.json())["state"] == "ready":
                                break
                        await asyncio.sleep(0.2)
        return ours, theirs
    finally:
        controller.stop()
        await watcher.close()
        lab.down()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    env = {**BENCH_ENV, "HOTLINE_ASTERISK_ROOT": str(chroot_path()), "HOTLINE_WRAP_UP_SECONDS": "1"}
    settings = load_lab_settings(env)
    ours, theirs = asyncio.run(run(settings, env, args.rounds))
    print(f"  rounds, ms: ours {[round(d * 1000) for d in ours]}, Atxfer {[round(d * 1000) for d in theirs]}")
    print(f"Lab: request → {DEPARTMENT} dialled, {args.rounds} three-way calls each way")
    print(f"  ours (POST /api/calls/{{id}}/conference): {describe(ours)}")
    print(f"  Asterisk's own (AMI Atxfer on the agent's leg): {describe(theirs)}")
    print(f"  ratio ours/Atxfer: p50 {statistics.median(ours) / statistics.median(theirs):.2f}")


if __name__ == "__main__":
    main()
