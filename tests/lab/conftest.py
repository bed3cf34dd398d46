"""The real lab for end-to-end tests: two Asterisks in the sid chroot, Redis, the controller.

Ports and folders differ from `make run`'s, so both can run on one machine.
These tests are never skipped: `make test` builds the chroot before pytest runs.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import math
import secrets
import sys
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from redis import Redis as SyncRedis

from hotline.kernel.asterisk.ami import AmiClient
from hotline.lab.blocks import LabBlock
from hotline.lab.chroot import chroot_path
from hotline.lab.controller import ControllerProcess, api_token
from hotline.lab.lab import Lab
from hotline.lab.settings import LabSettings, load_lab_settings
from tests.lab.asterisk_state import AsteriskState
from tests.workers import lab_number

#: What every test lab runs, apart from where (its block: hotline.lab.blocks).
LAB_ENV = {
    "HOTLINE_AGENTS": "1001,1002,1003",
    "HOTLINE_LAB_PHONES": "1001,1002,1003,9001",
    "HOTLINE_FALLBACK_QUEUE_SECONDS": "30",
    # 12315 is a kept department number; agent 1003 is its dedicated seat.
    "HOTLINE_LINES": "12345,12315=市场监管投诉",
    # 88001234 is 12315's old number, still ringing; on 96110 the police hand callers to 12345.
    "HOTLINE_NUMBER_MAP": "88001234=12315,96110=12345:110",
    "HOTLINE_AGENT_SKILLS": "1003=12315:8,12345:3",
    "HOTLINE_WRAP_UP_SECONDS": "4",
    "HOTLINE_RING_SECONDS": "6",
}
TESTS_HOME = Path(__file__).resolve().parents[2] / "var" / "test-lab"


def pytest_configure(config: pytest.Config) -> None:
    """pyst2 (asterisk_state.py) still calls threading's camelCase names, deprecated since Python 3.10."""
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:asterisk.manager")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """A failing lab test names its lab's logs: workers run labs side by side, each with its own."""
    report = yield
    lab, controller = item.funcargs.get("lab"), item.funcargs.get("controller")  # type: ignore[attr-defined]
    if report.failed and isinstance(lab, Lab):
        logs = [
            lab.state_dir / "*.log",
            lab.sut.host_dir / "log" / "messages.log",
            lab.pstn.host_dir / "log" / "messages.log",
        ]
        if isinstance(controller, ControllerProcess):
            logs.append(controller.log_path)
        report.sections.append(("lab logs", "\n".join(str(log) for log in logs)))
    return report


@pytest.fixture(scope="session")
def block() -> LabBlock:
    """This worker's lab: its ports and folders, apart from every other worker's."""
    return LabBlock(lab_number())


def block_environment(block: LabBlock) -> dict[str, str]:
    """A lab's settings in its block, with a fixed home, so a run that was killed leaves pid files the next
    run stops."""
    return {
        **LAB_ENV,
        **block.environment(TESTS_HOME / block.name),
        "HOTLINE_ASTERISK_ROOT": str(chroot_path()),
        "HOTLINE_IVR_MENU": str(Path(__file__).resolve().parents[2] / "lab" / "menu.toml"),
    }


@pytest.fixture(scope="session")
def lab_env(block) -> dict[str, str]:
    return {
        **block_environment(block),
        # The second trunk registers (the lab's PSTN is its registrar); its password, as a carrier's.
        "HOTLINE_TRUNK_PASSWORD_BACKUP": secrets.token_urlsafe(12),
    }


@pytest.fixture(scope="session")
def settings(lab_env) -> LabSettings:
    return load_lab_settings(lab_env)


@pytest.fixture(scope="session")
def lab(settings) -> Iterator[Lab]:
    lab = Lab(settings, log=lambda line: print(line, file=sys.stderr))
    lab.down()
    lab.up()
    yield lab
    lab.down()
    listening = [name for name, port in lab.status()["ports"].items() if port.get("listening")]
    assert listening == [], f"lab down left these listening: {listening}"


@pytest.fixture
def scratch(lab, block) -> Path:
    """The lab's scratch folder inside the chroot (``block.scratch``), seen from the host."""
    folder = lab.root / block.scratch.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def controller(lab, lab_env, settings, tmp_path) -> Iterator[ControllerProcess]:
    """The controller on an empty Redis: Redis keeps the live state across restarts (agents' states,
    callbacks' places), and no test may find another's there, whichever ran before it on this lab."""
    redis = SyncRedis.from_url(settings.effective_redis_url)
    redis.flushall()
    redis.close()
    process = ControllerProcess(lab_env, settings, tmp_path / "controller.log")
    process.start()
    yield process
    process.stop()


async def api(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, url, json=body) as response,
    ):
        return response.status, await response.json()


async def registered_recording(
    base_url: str, token: str, call_id: str, kind: str, folder: Path
) -> tuple[dict, Path]:
    """One of the call's recordings as a reviewer reaches it: its entry in the register (made once
    Asterisk has closed the file, then filed by day), and its audio played through the API with a
    reason, saved in ``folder`` to be measured."""
    async with asyncio.timeout(60):
        while True:
            status, listed = await api("GET", f"{base_url}/api/recordings?call={call_id}", token)
            entry = next((r for r in listed if r["kind"] == kind), None) if status == 200 else None
            if entry is not None:
                break
            await asyncio.sleep(0.1)
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.get(f"{base_url}/api/recordings/{entry['id']}/audio?reason=实验室测试") as response,
    ):
        assert response.status == 200, response.status
        audio = folder / f"{call_id}-{kind}.wav"
        audio.write_bytes(await response.read())
    return entry, audio


def floor_url(base_url: str, supervisor_token: str) -> str:
    return base_url.replace("http", "ws") + f"/api/events?access_token={supervisor_token}"


class EventStream:
    """Collects the controller's websocket events in the background."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[dict] = []

    async def __aenter__(self) -> EventStream:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.url)
        self._task = asyncio.create_task(self._collect())
        return self

    async def _collect(self) -> None:
        async for message in self._ws:
            self.events.append(json.loads(message.data))

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 60) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                await asyncio.sleep(0.05)

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        await self._ws.close()
        await self._session.close()


@pytest.fixture(scope="session")
def supervisor_token(lab, lab_env) -> str:
    return api_token(lab_env, "lab-supervisor")


class AgentDesk:
    """The agents' side of the lab: their states through the API, their phones' behaviour on the PSTN."""

    def __init__(self, lab: Lab, settings: LabSettings, base_url: str, token: str) -> None:
        self.lab, self.settings, self.base_url = lab, settings, base_url
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    def floor(self) -> EventStream:
        """The supervisors' stream of every call and agent event."""
        return EventStream(floor_url(self.base_url, self.token))

    async def command(self, account: str, command: str, **body: str) -> dict:
        url = f"{self.base_url}/api/agents/{account}/{command}"
        async with aiohttp.ClientSession(headers=self.headers) as http, http.post(url, json=body) as response:
            reply = await response.json()
            assert response.status == 200, reply
            return reply

    async def states(self) -> dict[str, dict]:
        url = f"{self.base_url}/api/agents"
        async with aiohttp.ClientSession(headers=self.headers) as http, http.get(url) as response:
            return {agent["agent"]: agent for agent in await response.json()}

    async def only_ready(self, *accounts: str) -> None:
        """These agents ready (in this order, so the first is idle longest), every other agent logged out.

        Waits first for calls left over from an earlier test to end.
        """
        async with asyncio.timeout(60):
            while any(a["state"] in ("ringing", "talking") for a in (await self.states()).values()):
                await asyncio.sleep(0.5)
        for account in await self.states():
            if account not in accounts:
                await self.command(account, "logout")
        for account in accounts:
            await self.command(account, "ready")
            await asyncio.sleep(0.05)

    @contextlib.asynccontextmanager
    async def ami(self, system: bool = False) -> AsyncIterator[AmiClient]:
        """An AMI session on the lab's PSTN (phones and callers), or on the system's Asterisk."""
        s = self.settings
        port, user, secret = (
            (s.ami_port, s.ami_user, s.ami_secret) if system else (s.pstn_ami_port, "lab", s.pstn_ami_secret)
        )
        client = AmiClient(s.bind_host, port, user, secret)
        await client.connect()
        try:
            yield client
        finally:
            await client.close()

    def asterisk(self, system: bool = False) -> AsteriskState:
        """Asterisk's own word on its state (through pyst2), on the lab's PSTN or on the system's."""
        return AsteriskState.of_system(self.settings) if system else AsteriskState.of_pstn(self.settings)

    async def phone(
        self, account: str, *, answers: bool = True, talk_seconds: int | None = None, tone: int | None = None
    ) -> None:
        """How a lab phone (an agent's or a supervisor's) behaves: answer or only ring, hang up after a talk
        or never, and speak as a steady tone of ``tone`` Hz."""
        talk = "" if talk_seconds is None else str(talk_seconds)
        async with self.ami() as ami:
            await ami.action(
                "DBPut", {"Family": "lab/noanswer", "Key": account, "Val": "0" if answers else "1"}
            )
            await ami.action("DBPut", {"Family": "lab/talk", "Key": account, "Val": talk})
            await ami.action("DBPut", {"Family": "lab/tone", "Key": account, "Val": str(tone or "")})

    async def hang_up_everything(self) -> None:
        """End calls an earlier test left behind (a fallback queue call, a caller still holding); each
        Asterisk's own word (through pyst2) says when none is left."""
        for system in (False, True):
            async with self.ami(system) as ami:
                await ami.action("Hangup", {"Channel": "/.*/"}, check=False)
            async with asyncio.timeout(15):
                while await self.asterisk(system).channels():
                    await asyncio.sleep(0.2)

    async def dial_feature_code(self, account: str, code: str) -> None:
        """The agent dials a feature code (*71…) from their own phone and listens to the confirmation."""
        async with self.ami() as ami:
            result = await ami.originate(
                {
                    "Channel": f"PJSIP/{code}@phone{account}",
                    "Application": "Wait",
                    "Data": "6",
                    "Timeout": "10000",
                },
                timeout=20,
            )
        assert result.get("Response") == "Success", result


@pytest.fixture
async def agents(lab, controller, settings, supervisor_token) -> AgentDesk:
    desk = AgentDesk(lab, settings, controller.base_url, supervisor_token)
    await desk.hang_up_everything()
    for account in settings.lab_phones:
        await desk.phone(account)
    return desk


def tone_share(
    path: Path, frequency: float, *, last: float | None = None, start: float = 0.0, end: float | None = None
) -> float:
    """The share of the power at one frequency (Goertzel), ~1 for a pure tone: over the audio's ``last``
    seconds, or from ``start`` to ``end`` seconds."""
    with wave.open(str(path), "rb") as audio:
        rate, frames = audio.getframerate(), audio.getnframes()
        first = max(0, frames - int(rate * last)) if last is not None else int(rate * start)
        stop = frames if end is None else min(frames, int(rate * end))
        audio.setpos(min(first, frames))
        samples = array.array("h", audio.readframes(max(0, stop - first)))
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    at_frequency = previous**2 + before**2 - coefficient * previous * before
    total = sum(s * s for s in samples)
    return 2 * at_frequency / (len(samples) * total) if total else 0.0


async def finished_wav(path: Path, measure: Callable[[Path], float]) -> float:
    """Measure a WAV file once its writer has closed it (the header is written at the end of the call)."""
    async with asyncio.timeout(30):
        while True:
            try:
                with wave.open(str(path), "rb") as audio:
                    if audio.getnframes():
                        return measure(path)
            except (OSError, EOFError, wave.Error):
                pass
            await asyncio.sleep(0.1)
