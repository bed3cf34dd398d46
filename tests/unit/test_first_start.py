"""A newcomer's first start and the starts after it: what the log says, what `make run` prints, and what
Asterisk is given before it starts.

The controller runs against a fake AMI, an in-process Redis and SQLite, as in test_controller.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import fakeredis

from hotline.adapters import Adapters
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.profiles import AgentProfile
from hotline.cli import main
from hotline.controller import Controller
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.conf import sip_digest
from hotline.kernel.runtime.config import Settings, load_settings
from hotline.kernel.runtime.db import create_engine
from hotline.lab.commands import TRY_A_CALL, print_summary
from hotline.lab.settings import LabSettings, load_lab_settings
from hotline.schema import bring_up_to_date
from tests.fakes.ami_server import FakeAmi
from tests.unit.published import eventually

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_in(tmp_path: Path, **more: str) -> LabSettings:
    """`hotline run`'s first start: the system's settings and the lab's."""
    return load_lab_settings(
        {
            "HOTLINE_CONFIG_FILE": str(tmp_path / "hotline.env"),
            "HOTLINE_HOME": str(tmp_path / "home"),
            "HOTLINE_ASTERISK_ROOT": str(tmp_path / "asterisk"),
            "HOTLINE_AGENTS": "1001,1002",
            **more,
        }
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, redis: fakeredis.FakeServer) -> AsyncIterator[Controller]:
    """A controller started on ``settings``' database and the Redis ``redis``, until AMI is in."""
    ami = FakeAmi(list_events={"CoreShowChannels": [], "DeviceStateList": []})
    settings = dataclasses.replace(
        settings, ami_port=await ami.start(), ami_secret=ami.secret, fastagi_port=0, smtp_port=0
    )
    adapters = Adapters(
        ami=AmiClient("127.0.0.1", settings.ami_port, "hotline", ami.secret, name="fake"),
        redis=fakeredis.FakeAsyncRedis(server=redis),
        web_redis=fakeredis.FakeAsyncRedis(server=redis),
        engine=create_engine(settings.effective_database_url),
    )
    controller = Controller(settings, adapters)
    try:
        await controller.start()
        await eventually(
            fakeredis.FakeAsyncRedis(server=redis), lambda e: e["type"] == "controller.reconciled"
        )
        yield controller
    finally:
        await controller.close()
        await ami.close()


async def add_seat(settings: Settings, account: str, *, active: bool = True) -> AgentRecord:
    """A seat as `POST /api/agents` writes it: in the agent table, with a password of its own."""
    engine = create_engine(settings.effective_database_url)
    try:
        await bring_up_to_date(engine)
        directory = AgentDirectory(engine)
        record, _ = await directory.add(AgentProfile(account, "王芳", {"12345": 5}))
        if not active:
            record = await directory.save(dataclasses.replace(record.profile, active=False))
        return record
    finally:
        await engine.dispose()


async def test_a_first_start_says_nothing_alarming_and_a_redis_that_lost_the_acd_state_still_warns(
    tmp_path, caplog
):
    """A clean first start once logged `WARNING acd.dispatch Redis had lost the ACD state`."""
    settings = settings_in(tmp_path)
    redis = fakeredis.FakeServer()

    def said(level: int) -> list[str]:
        return [
            r.getMessage() for r in caplog.records if r.name == "hotline.acd.dispatch" and r.levelno >= level
        ]

    with caplog.at_level(logging.INFO, logger="hotline.acd.dispatch"):
        async with running(settings, redis):
            pass
        assert said(logging.WARNING) == [] and said(logging.INFO), "a first start: told, not alarmed"
        caplog.clear()
        async with running(settings, redis):
            pass
        assert said(logging.INFO) == [], "the next start finds the state the first one left"
        async with running(settings, fakeredis.FakeServer()):  # Redis came back without its data
            pass
        [lost] = said(logging.WARNING)
    assert "restarted without its data" in lost


async def test_the_run_summary_names_the_wallboard_the_token_the_seats_and_the_readme_s_call(
    tmp_path, capsys
):
    settings = settings_in(tmp_path)
    async with running(settings, fakeredis.FakeServer()):
        pass
    await add_seat(settings, "1010")  # through the API, while no controller ran
    await add_seat(settings, "1011", active=False)
    async with running(settings, fakeredis.FakeServer()) as controller:
        capsys.readouterr()
        print_summary(settings, controller)
    summary = capsys.readouterr().out
    web = f"http://{settings.bind_host}:{settings.web_port}"
    assert f"{web}/wallboard" in summary
    assert "users add 李班长 --role supervisor" in summary and f"{web}/api/agents/1001/ready" in summary
    [agents] = re.findall(r"agent accounts +(.*?) \(", summary)
    assert agents == "1001, 1002, 1010", "the agent table's seats, one stopped left out"
    assert "AudioSocket" not in summary, "it listens only with speech-to-text on"
    assert f"try a call:  {TRY_A_CALL}\n" in summary
    readme = README.read_text(encoding="utf-8").replace("\\\n    ", "")
    assert TRY_A_CALL in readme, "the summary's call is the README's"


async def test_render_conf_gives_asterisk_the_agent_table_s_seats_before_it_starts(
    tmp_path, monkeypatch, capsys
):
    """After a restart a seat added through the API was missing from Asterisk until the controller had
    reloaded it; Asterisk's files now hold every seat before it starts (compose renders them so)."""
    env = {
        "HOTLINE_CONFIG_FILE": str(tmp_path / "hotline.env"),
        "HOTLINE_HOME": str(tmp_path / "home"),
        "HOTLINE_AGENTS": "1001,1002",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()

    assert await asyncio.to_thread(main, ["render-conf", "--out", str(tmp_path / "first")]) == 0
    first = (tmp_path / "first" / "pjsip.conf").read_text()
    assert "[1001](account-template)" in first and "[1002](account-template)" in first
    assert not Path(settings.effective_database_url.split("///")[1]).exists(), "nothing made on a first start"

    engine = create_engine(settings.effective_database_url)
    await bring_up_to_date(engine)
    digest = sip_digest("1001", settings.password_for("1001"))
    await AgentDirectory(engine).seed([AgentRecord(AgentProfile("1001", "", {"12345": 5}), digest)])
    await engine.dispose()
    seat = await add_seat(settings, "1010")
    await add_seat(settings, "1011", active=False)

    assert await asyncio.to_thread(main, ["render-conf", "--out", str(tmp_path / "later")]) == 0
    later = (tmp_path / "later" / "pjsip.conf").read_text()
    assert "[1010](account-template)" in later and f"MD5:{seat.sip_digest}" in later
    assert "[1011](account-template)" not in later, "a stopped seat gets no endpoint"
    assert "[1002](account-template)" in later, "a settings' account the controller has yet to seed"
    assert "1010" in (tmp_path / "later" / "queues.conf").read_text(), "the fallback queue rings it too"
