"""Soak: a steady load of real calls through the lab for a long while; memory stays flat, no call is lost.

Callers arrive so that about CONCURRENT calls are up at once, each holding a
random while (music on hold, a position announcement, or an agent); the lab's
agents answer, talk a few seconds and hang up. Every minute the resident
memory of the controller and of both Asterisks is sampled. At the end every
placed call must have its ``call.ringing`` and its ``call.hangup`` on the
floor stream. Memory is printed as a ratio against the first sample after the
warm-up minute, measured in the same run. Not part of ``make test``: run it
with ``python -m benchmarks.soak --minutes 30`` (``--db postgresql``: on the benchmarks' own
PostgreSQL server instead of the default SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import time
from pathlib import Path

import aiohttp
from redis import Redis as SyncRedis

from benchmarks.databases import postgres_database
from benchmarks.ready_to_ring import BENCH_ENV, session
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.lab.caller import CallError, CallPlan, Dialler
from hotline.lab.chroot import chroot_path
from hotline.lab.controller import ControllerProcess, api_token
from hotline.lab.lab import Lab
from hotline.lab.settings import load_lab_settings

SOAK_ENV = {**BENCH_ENV, "HOTLINE_WRAP_UP_SECONDS": "2", "HOTLINE_FALLBACK_QUEUE_SECONDS": "300"}
LAB_MENU = Path(__file__).resolve().parents[1] / "lab" / "menu.toml"


def menu_without_callbacks(home: Path) -> Path:
    """The lab's menu, but a caller who gives up is not called back.

    Three lab agents serve about 16 calls a minute; the soak's callers arrive at
    about 100 a minute and most give up. Were each owed a callback, the
    callbacks would arrive faster than three agents can make them: a queue that
    grows by definition, whose memory cannot stay flat. Callbacks have their own
    lab tests.
    """
    text = LAB_MENU.read_text()
    assert "abandoned_callback_after = 5" in text
    path = home / "soak-menu.toml"
    path.write_text(text.replace("abandoned_callback_after = 5", "abandoned_callback_after = 86400"))
    return path


def resident_kib(pid: int | None) -> int:
    if pid is None:
        return 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def soak(
    minutes: float, concurrent: int, seed: int, database: str, trace: Path | None, arenas: int | None
) -> None:
    process_env = {"MALLOC_ARENA_MAX": str(arenas)} if arenas else {}
    if database == "postgresql":
        async with postgres_database("hotline_soak") as url:
            await soak_on(minutes, concurrent, seed, {"HOTLINE_DATABASE_URL": url, **process_env}, trace)
    else:
        await soak_on(minutes, concurrent, seed, process_env, trace)


async def soak_on(
    minutes: float, concurrent: int, seed: int, controller_env: dict[str, str], trace: Path | None
) -> None:
    home = Path(SOAK_ENV["HOTLINE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **SOAK_ENV,
        **controller_env,
        "HOTLINE_ASTERISK_ROOT": str(chroot_path()),
        "HOTLINE_IVR_MENU": str(menu_without_callbacks(home)),
    }
    settings = load_lab_settings(env)
    lab = Lab(settings, log=lambda line: None)
    lab.down()
    lab.up()
    # Redis keeps its data across restarts (AOF): start from an empty ACD, not an earlier run's.
    SyncRedis.from_url(settings.effective_redis_url).flushall()
    log = home / "soak-controller.log"
    log.unlink(missing_ok=True)  # a stop is judged by this run's log alone
    runner = ("benchmarks.memory_trace", str(trace), "300") if trace else ("hotline",)
    controller = ControllerProcess(env, settings, log, runner)
    token = api_token(env, "soak-supervisor")
    headers = {"Authorization": f"Bearer {token}"}
    pick = random.Random(seed)
    numbers = (f"1390000{n:04d}" for n in itertools.count(1))
    placed: set[str] = set()
    refused = 0
    rang: set[str] = set()
    hung_up: set[str] = set()
    samples: list[tuple[float, int, int, int, int]] = []  # minute, calls up, then three RSS in KiB
    try:
        controller.start()
        async with aiohttp.ClientSession(headers=headers) as http, Dialler(lab) as dialler:
            for account in settings.agents:
                await http.post(f"{controller.base_url}/api/agents/{account}/ready")
            async with session(
                AmiClient(settings.bind_host, settings.pstn_ami_port, "lab", settings.pstn_ami_secret)
            ) as pstn:
                for account in settings.agents:  # agents answer and talk a few seconds
                    await pstn.action("DBPut", {"Family": "lab/noanswer", "Key": account, "Val": "0"})
                    await pstn.action("DBPut", {"Family": "lab/talk", "Key": account, "Val": "8"})
            floor = await http.ws_connect(controller.base_url.replace("http", "ws") + "/api/events")
            recorded_before = await offered_today(http, controller.base_url)

            async def listen() -> None:
                async for message in floor:
                    event = json.loads(message.data)
                    if event.get("type") == "call.ringing":
                        rang.add(str(event.get("caller_number")))
                    elif event.get("type") == "call.hangup":
                        hung_up.add(str(event.get("caller_number")))

            async def one_call() -> None:
                nonlocal refused
                number = next(numbers)
                plan = CallPlan(caller_number=number, dtmf="1", dtmf_after=1.0, hold=pick.randint(30, 90))
                try:
                    await dialler.call(plan, answer_timeout=60)
                    placed.add(number)
                except (CallError, AmiError, TimeoutError):
                    refused += 1

            listener = asyncio.create_task(listen())
            started = time.monotonic()
            mean_hold = 60.0
            calls: set[asyncio.Task[None]] = set()
            next_sample = started
            while time.monotonic() - started < minutes * 60:
                task = asyncio.create_task(one_call())
                calls.add(task)
                task.add_done_callback(calls.discard)
                if time.monotonic() >= next_sample:
                    samples.append(
                        (
                            (time.monotonic() - started) / 60,
                            len(placed - hung_up),
                            resident_kib(controller.process.pid if controller.process else None),
                            resident_kib(lab.sut.process.pid()),
                            resident_kib(lab.pstn.process.pid()),
                        )
                    )
                    print("  sample", *samples[-1], flush=True)  # kept even if the end goes wrong
                    next_sample += 60
                await asyncio.sleep(pick.expovariate(concurrent / mean_hold))  # Little's law: λ = N / W
            await asyncio.gather(*calls, return_exceptions=True)
            async with asyncio.timeout(180):  # the last callers hold up to 90 s, then hang up
                while not placed <= hung_up:
                    await asyncio.sleep(1)
            listener.cancel()
            await floor.close()
            await asyncio.sleep(3)  # the record book writes every batch within moments
            recorded = await offered_today(http, controller.base_url) - recorded_before
    finally:
        try:
            controller.stop()
        finally:
            lab.down()
    base = samples[1] if len(samples) > 1 else samples[0]
    store = "PostgreSQL" if "HOTLINE_DATABASE_URL" in controller_env else "SQLite"
    arenas = controller_env.get("MALLOC_ARENA_MAX", "glibc's default")
    agents = len(settings.agents)
    print(
        f"Soak: {minutes:g} min at about {concurrent} calls up at once, {agents} agents, {store}, "
        f"controller's malloc arenas: {arenas}"
    )
    for minute, up, *kib in samples:
        ratios = " ".join(
            f"{name} {k / 1024:.0f} MiB ({k / max(b, 1):.2f})"
            for name, k, b in zip(("controller", "system", "pstn"), kib, base[2:], strict=True)
        )
        print(f"  {minute:4.1f} min, {up:3d} calls up: {ratios}")
    for index, name in enumerate(("controller", "system", "pstn"), start=2):
        slope = growth_per_minute([(s[0], s[index] / 1024) for s in samples[1:]])
        print(f"  {name}: {slope:+.3f} MiB a minute after the warm-up minute (least squares)")
    print(f"  calls placed {len(placed)}, not answered by the system {refused}")
    print(f"  of the placed: call.ringing {len(placed & rang)}, call.hangup {len(placed & hung_up)}")
    print(f"  call records written (the day report's offered, before and after): {recorded}")


def growth_per_minute(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of (minute, MiB): how fast memory grows, the samples' noise averaged out."""
    if len(points) < 2:
        return 0.0
    minutes, mib = zip(*points, strict=True)
    return statistics.linear_regression(minutes, mib).slope


async def offered_today(http: aiohttp.ClientSession, base_url: str) -> int:
    async with http.get(f"{base_url}/api/reports/calls?by=day") as response:
        rows = (await response.json())["rows"]
    return int(rows[-1]["offered"]) if rows else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--trace-memory",
        type=Path,
        metavar="FILE",
        help="run the controller under tracemalloc; every 5 minutes FILE gets the lines that grew most",
    )
    parser.add_argument(
        "--malloc-arenas",
        type=int,
        metavar="N",
        help="start the controller with MALLOC_ARENA_MAX=N (glibc's arenas for its threads)",
    )
    args = parser.parse_args(argv)
    asyncio.run(
        soak(args.minutes, args.concurrent, args.seed, args.db, args.trace_memory, args.malloc_arenas)
    )


if __name__ == "__main__":
    main()
