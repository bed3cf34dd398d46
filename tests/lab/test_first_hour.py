"""A newcomer's first hour, as the README tells it, against the real lab.

The README's first call is run as written (only the ports, the supervisor's name and the caller's hold
are the test's): it must reach the lab's phone 1001, not the voicemail a fresh start gives when nobody is
signed in; `hotline call` holds until the call ends and prints the call's id as the events name it. A
seat added through the API is in a restarted Asterisk from its first second.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

from hotline.lab.chroot import chroot_path
from hotline.lab.softphone import Softphone
from tests.lab.asterisk_state import AsteriskState
from tests.lab.conftest import api

REPO = Path(__file__).resolve().parents[2]


def readme_first_hour() -> str:
    """The shell blocks of the README's first call and of where to look at it afterwards."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    first = next(i for i, block in enumerate(blocks) if "hotline call " in block)
    return blocks[first] + blocks[first + 1]


def hear_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def of_call(call_id: str, kind: str):
    return lambda event: event.get("call_id") == call_id and event.get("type") == kind


async def test_the_readme_s_first_call_reaches_the_lab_phone_and_shows_where_to_look(
    lab, lab_env, controller, settings, agents
):
    """A fresh start has nobody signed in, and the README's call went to voicemail; its token line caught a
    hint too (a 400 after), and `hotline call` returned at once instead of holding."""
    await agents.only_ready()  # nobody signed in, as on a fresh start
    script = (
        readme_first_hour()
        .replace("localhost:8080", f"{settings.bind_host}:{settings.web_port}")
        .replace("李班长", f"班长{random.randrange(10**6)}")  # the test database is kept between runs
        .replace("--hold 60", "--hold 15")
    )
    assert "| sed" not in script and "/api/agents/1001/ready" in script
    async with agents.floor() as stream:
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-euo",
            "pipefail",
            "-c",
            script,
            cwd=REPO,
            env={**os.environ, **lab_env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output = asyncio.create_task(shell.communicate())
        bridged = await stream.wait_for(lambda e: e.get("type") == "call.bridged", timeout=90)
        held = shell.returncode is None
        out, err = await asyncio.wait_for(output, 90)
        hangup = await stream.wait_for(of_call(bridged["call_id"], "call.hangup"), timeout=15)
    text, errors = out.decode(), err.decode()
    assert shell.returncode == 0, errors
    assert bridged["agent"] == "1001", "the lab's phone, signed in by the README, answers"
    assert held, "`hotline call` still held the line when the caller reached the agent"
    # (curl ends its output without a line break: the id follows on the same line in a script)
    assert f"{bridged['call_id']}\n" in text, "it printed the call's id as the events name it"
    assert hangup["call_id"] == bridged["call_id"], "the command ended with the call"
    assert f'"call_id": "{bridged["call_id"]}"' in text or f'"call_id":"{bridged["call_id"]}"' in text, (
        "the README's look at today's call records shows the call"
    )
    assert "Authorization: Bearer" in errors, "the token's hint went to standard error"


async def test_ctrl_c_hangs_up_the_call_hotline_call_holds(lab, lab_env, controller, settings, agents):
    async with agents.floor() as stream:
        caller = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hotline",
            "call",
            "--from",
            "13800138077",
            "--hold",
            "120",
            # On SIGABRT Python prints where each of its threads waits (faulthandler).
            env={**os.environ, **lab_env, "PYTHONFAULTHANDLER": "1"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # As in a terminal: a test run started in the background (`make test &`, CI runners) passes on
            # SIGINT ignored, and a Python started so never hears Ctrl-C.
            preexec_fn=hear_ctrl_c,
        )
        assert caller.stdout is not None
        call_id = (await asyncio.wait_for(caller.stdout.readline(), 60)).decode().strip()
        await asyncio.sleep(1)
        assert caller.returncode is None, "it holds"
        caller.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(caller.wait(), 15)
        except TimeoutError:
            caller.send_signal(signal.SIGABRT)
            _, stuck = await caller.communicate()
            where = stuck.decode()[-6000:]
            raise AssertionError(f"still running 15 s after Ctrl-C, waiting here:\n{where}") from None
        hangup = await stream.wait_for(of_call(call_id, "call.hangup"), timeout=15)
    assert code == 130 and hangup["call_id"] == call_id


async def test_a_seat_added_through_the_api_is_in_a_restarted_asterisk_before_the_controller_is_back(
    lab, block, controller, settings, supervisor_token, tmp_path
):
    """After a restart the seat was missing until the controller reloaded Asterisk (about 1.8 s after a
    `make run`); a softphone registering in that window got 401 and waited minutes. Now the rendered files
    hold it before Asterisk starts: with no controller running at all, the softphone registers."""
    account = str(random.randrange(30000, 40000))
    status, seat = await api(
        "POST",
        f"{controller.base_url}/api/agents",
        supervisor_token,
        {"account": account, "name": "重启坐席"},
    )
    assert status == 201 and seat["provisioned"], seat
    await asyncio.to_thread(controller.stop)  # nothing reloads Asterisk's files from here on
    phone = Softphone(
        chroot_path(),
        account,
        seat["sip_password"],
        f"{settings.bind_host}:{settings.sip_port}",
        block.softphone_port,
        tmp_path,
    )
    try:
        await asyncio.to_thread(lab.sut.process.stop)
        await asyncio.to_thread(lab.up)
        system = AsteriskState.of_system(settings)
        assert await system.endpoint(account) is not None, f"the restarted Asterisk has no endpoint {account}"
        phone.start()
        started = time.monotonic()
        async with asyncio.timeout(15):  # baresip's contact (sip:<account>-<its id>@…) on the seat's AOR
            while not await system.registered(account):
                await asyncio.sleep(0.2)
        print(f"softphone {account} registered {time.monotonic() - started:.2f} s after it started")
    finally:
        phone.stop()
        await asyncio.to_thread(controller.start)
        await api("PATCH", f"{controller.base_url}/api/agents/{account}", supervisor_token, {"active": False})
