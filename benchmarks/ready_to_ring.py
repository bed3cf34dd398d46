"""Ready → ringing in the real lab: our ACD against app_queue, on the same waiting callers, in one run.

Both sides start alike: ROUNDS real callers waiting, every agent unavailable.
Each round makes one agent available (ours: ``POST /api/agents/{a}/ready``;
app_queue: ``QueuePause Paused=false`` on the fallback queue the dialplan uses
when the controller is away) and times until Asterisk opens a channel to that
agent's phone (``Newchannel`` on the system's AMI). The agent's phone answers,
talks a second and hangs up; the next round takes the next agent.
Ratio = app_queue ÷ ours: above 1, our ACD rings the agent sooner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.channels import account_of
from hotline.lab.caller import CallPlan, place_call
from hotline.lab.chroot import chroot_path
from hotline.lab.controller import ControllerProcess, api_token
from hotline.lab.lab import Lab
from hotline.lab.settings import LabSettings, load_lab_settings

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / "var" / "bench-lab"
QUEUE = "hotline-all"
QUEUE_WRAP_UP = 10.0  # queues.conf's wrapuptime: app_queue will not ring a member sooner
MAX_PAUSE = 8.0
# Ports and folders apart from `make run` and the lab tests, so all three can share the machine.
BENCH_ENV = {
    "HOTLINE_HOME": str(HOME / "var"),
    "HOTLINE_CONFIG_FILE": str(HOME / "hotline.env"),
    "HOTLINE_WEB_PORT": "17080",
    "HOTLINE_SMTP_PORT": "17525",
    "HOTLINE_FASTAGI_PORT": "17573",
    "HOTLINE_AUDIOSOCKET_PORT": "17575",
    "HOTLINE_REDIS_PORT": "17390",
    "HOTLINE_AMI_PORT": "17038",
    "HOTLINE_SIP_PORT": "17060",
    "HOTLINE_RTP_START": "12000",
    "HOTLINE_RTP_END": "12999",
    "HOTLINE_CARRIER_PORT": "27060",
    "HOTLINE_PSTN_BACKUP_TRUNK_PORT": "27062",
    "HOTLINE_PSTN_AMI_PORT": "27038",
    "HOTLINE_PSTN_PHONE_PORT": "27070",
    "HOTLINE_PSTN_RTP_START": "22000",
    "HOTLINE_PSTN_RTP_END": "22999",
    "HOTLINE_ASTERISK_INSTANCE_DIR": "/var/lib/hotline-bench/sut",
    "HOTLINE_PSTN_INSTANCE_DIR": "/var/lib/hotline-bench/pstn",
    "HOTLINE_AGENTS": "1001,1002,1003",
    "HOTLINE_LAB_PHONES": "1001,1002,1003",
    "HOTLINE_IVR_MENU": str(REPO / "lab" / "menu.toml"),
    # Callers wait as long as the benchmark needs, and an agent stays in wrap-up until made ready.
    "HOTLINE_FALLBACK_QUEUE_SECONDS": "900",
    "HOTLINE_WRAP_UP_SECONDS": "3600",
}


class PhoneRings:
    """When Asterisk opened and closed each agent's phone channel (the system's AMI, as it happened)."""

    def __init__(self, agents: tuple[str, ...]) -> None:
        self.agents = agents
        self.opened: dict[str, list[float]] = defaultdict(list)
        self.closed: dict[str, list[float]] = defaultdict(list)

    def __call__(self, event) -> None:
        account = account_of(str(event.get("Channel", "")))
        if account not in self.agents:
            return
        if event.get("Event") == "Newchannel":
            self.opened[account].append(time.perf_counter())
        elif event.get("Event") == "Hangup":
            self.closed[account].append(time.perf_counter())

    async def rang(self, account: str, since: float, timeout: float = 30) -> float:
        async with asyncio.timeout(timeout):
            while not any(t > since for t in self.opened[account]):
                await asyncio.sleep(0.002)
        return next(t for t in self.opened[account] if t > since)

    async def idle(self, account: str, timeout: float = 60) -> float:
        """Wait until every channel opened to the phone has closed; returns when the last one did."""
        async with asyncio.timeout(timeout):
            while len(self.closed[account]) < len(self.opened[account]):
                await asyncio.sleep(0.05)
        return max(self.closed[account], default=0.0)


class Bench:
    def __init__(self, env: dict[str, str], settings: LabSettings, lab: Lab, rounds: int, seed: int) -> None:
        self.env, self.settings, self.lab, self.rounds = env, settings, lab, rounds
        # Each round starts after a pause, the same pauses on both sides: an agent turns ready at
        # any moment of a caller's wait (music on hold, or an announcement).
        pauses = random.Random(seed)
        self.pauses = [pauses.uniform(0.0, MAX_PAUSE) for _ in range(rounds)]
        self.agents = settings.agents
        self.rings = PhoneRings(self.agents)
        self._numbers = iter(range(13900000000, 13999999999))

    def ami(self, pstn: bool = False) -> AmiClient:
        s = self.settings
        if pstn:
            return AmiClient(s.bind_host, s.pstn_ami_port, "lab", s.pstn_ami_secret, name="pstn")
        return AmiClient(s.bind_host, s.ami_port, s.ami_user, s.ami_secret, name="sut")

    async def callers_wait(self, count: int) -> None:
        plans = [
            CallPlan(caller_number=str(next(self._numbers)), dtmf="1", dtmf_after=1.0, hold=900)
            for _ in range(count)
        ]
        await asyncio.gather(*(place_call(self.lab, plan) for plan in plans))

    async def phones_answer_briefly(self) -> None:
        async with session(self.ami(pstn=True)) as pstn:
            for account in self.agents:
                await pstn.action("DBPut", {"Family": "lab/noanswer", "Key": account, "Val": "0"})
                await pstn.action("DBPut", {"Family": "lab/talk", "Key": account, "Val": "1"})

    async def hang_up_everything(self) -> None:
        for pstn in (True, False):
            async with session(self.ami(pstn)) as ami:
                await ami.action("Hangup", {"Channel": "/.*/"}, check=False)
                async with asyncio.timeout(20):
                    while (await ami.action("CoreShowChannels", idempotent=True)).events:
                        await asyncio.sleep(0.2)

    async def ours(self) -> list[float]:
        controller = ControllerProcess(self.env, self.settings, HOME / "controller.log")
        controller.start()
        try:
            token = api_token(self.env, "bench-supervisor")
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(controller.base_url, headers=headers) as http:

                async def command(account: str, name: str) -> dict:
                    async with http.post(f"/api/agents/{account}/{name}") as response:
                        reply = await response.json()
                        if response.status != 200:
                            raise RuntimeError(f"{name} {account}: {reply}")
                        return reply

                for account in self.agents:
                    await command(account, "login")  # signed in, on break: not taking calls
                await self.callers_wait(self.rounds)
                async with asyncio.timeout(60):  # every caller past the intake and in our queue
                    while True:
                        async with http.get("/api/acd/queue") as response:
                            if len(await response.json()) >= self.rounds:
                                break
                        await asyncio.sleep(0.2)
                delays = []
                for round_number in range(self.rounds):
                    account = self.agents[round_number % len(self.agents)]
                    await self.rings.idle(account)
                    await asyncio.sleep(self.pauses[round_number])
                    started = time.perf_counter()
                    await command(account, "ready")
                    delays.append(await self.rings.rang(account, started) - started)
                for account in self.agents:
                    await self.rings.idle(account)
                return delays
        finally:
            controller.stop()

    async def app_queue(self) -> list[float]:
        """The same with the controller away: the dialplan's fallback queue, its members paused."""
        async with session(self.ami()) as ami:
            for account in self.agents:
                await ami.action("QueuePause", pause(account, True))
            await self.callers_wait(self.rounds)
            async with asyncio.timeout(60):
                while await queue_callers(ami) < self.rounds:
                    await asyncio.sleep(0.2)
            delays = []
            for round_number in range(self.rounds):
                account = self.agents[round_number % len(self.agents)]
                last_call_ended = await self.rings.idle(account)
                await asyncio.sleep(max(0.0, last_call_ended + QUEUE_WRAP_UP + 0.5 - time.perf_counter()))
                await asyncio.sleep(self.pauses[round_number])
                started = time.perf_counter()
                await ami.action("QueuePause", pause(account, False))
                delays.append(await self.rings.rang(account, started) - started)
                await ami.action("QueuePause", pause(account, True))  # this call only
            for account in self.agents:
                await self.rings.idle(account)
            return delays


def pause(account: str, paused: bool) -> dict[str, str]:
    return {"Queue": QUEUE, "Interface": f"PJSIP/{account}", "Paused": str(paused).lower(), "Reason": "bench"}


async def queue_callers(ami: AmiClient) -> int:
    reply = await ami.action("QueueSummary", {"Queue": QUEUE}, idempotent=True)
    return sum(int(e.get("Callers", 0)) for e in reply.events if e.get("Event") == "QueueSummary")


@contextlib.asynccontextmanager
async def session(client: AmiClient) -> AsyncIterator[AmiClient]:
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


def describe(delays: list[float]) -> str:
    ordered = sorted(delays)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    p50, most = statistics.median(ordered), ordered[-1]
    return f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {most * 1000:.0f} ms"


async def run(
    settings: LabSettings, env: dict[str, str], rounds: int, seed: int
) -> tuple[list[float], list[float]]:
    lab = Lab(settings, log=lambda line: None)
    lab.down()
    lab.up()
    bench = Bench(env, settings, lab, rounds, seed)
    watcher = bench.ami()
    watcher.on_event(bench.rings)
    await watcher.connect()
    try:
        await bench.phones_answer_briefly()
        ours = await bench.ours()
        await bench.hang_up_everything()
        theirs = await bench.app_queue()
        await bench.hang_up_everything()
        return ours, theirs
    finally:
        await watcher.close()
        lab.down()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    env = {**BENCH_ENV, "HOTLINE_ASTERISK_ROOT": str(chroot_path())}
    settings = load_lab_settings(env)
    ours, theirs = asyncio.run(run(settings, env, args.rounds, args.seed))
    print(
        f"  rounds, ms: ours {[round(d * 1000) for d in ours]}, app_queue {[round(d * 1000) for d in theirs]}"
    )
    print(f"Lab: agent ready → phone ringing, {args.rounds} callers waiting, {len(settings.agents)} agents")
    print(f"  ours (ACD, the caller's flow polls every {settings.queue_poll_ms} ms): {describe(ours)}")
    print(f"  app_queue (fallback queue, unpause): {describe(theirs)}")
    print(f"  ratio app_queue/ours: p50 {statistics.median(theirs) / statistics.median(ours):.2f}")


if __name__ == "__main__":
    main()
