"""A lab whose port is taken never half-starts: `lab up` fails naming the port and its holder,
and stops whatever it had started.

This lab has its own ports and folders, apart from the session's lab, so the
squatted port hurts nothing else.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.lab.blocks import LabBlock
from hotline.lab.lab import Lab, LabError
from hotline.lab.settings import load_lab_settings
from tests.lab.conftest import block_environment


@pytest.fixture
def squat_env(lab, lab_env, block) -> Iterator[dict[str, str]]:
    """The session lab's chroot and menu, this lab's own ports (the spare half of the block); stopped
    whatever happens."""
    env = {**lab_env, **block_environment(LabBlock(block.number, spare=True))}
    yield env
    Lab(load_lab_settings(env)).down()


@pytest.fixture
def squatter(squat_env) -> Iterator[socket.socket]:
    """Some other program holding the PSTN's AMI port, as a client socket did on a fresh machine."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(squat_env["HOTLINE_PSTN_AMI_PORT"])))
    sock.listen()
    yield sock
    sock.close()


def hotline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def running(env: dict[str, str]) -> list[str]:
    status = json.loads(hotline(env, "lab", "status", "--json").stdout)
    return [name for name, process in status["processes"].items() if process["running"]]


def test_lab_up_refuses_a_taken_port_before_starting_anything(squat_env, squatter):
    result = hotline(squat_env, "lab", "up")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"tcp {squat_env['HOTLINE_PSTN_AMI_PORT']} (PSTN AMI)" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert running(squat_env) == []


def test_a_listener_that_failed_to_bind_stops_the_whole_lab(squat_env, squatter, monkeypatch):
    """The port taken after the check (the race a fresh machine lost): Asterisk starts without its
    AMI, and `lab up` notices, names the holder and stops Redis and both Asterisks again."""
    monkeypatch.setattr(Lab, "_check_ports_before_start", lambda self: None)
    lab = Lab(load_lab_settings(squat_env), log=lambda line: None)
    with pytest.raises(
        LabError,
        match=rf"asterisk-pstn \(pid \d+\) is not listening on tcp {squat_env['HOTLINE_PSTN_AMI_PORT']}"
        rf".*pid {os.getpid()}",
    ):
        lab.up()
    assert running(squat_env) == []
    assert not Path(lab.state_dir / "redis.pid").exists()


def wait_healthy(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no healthy controller on {port} after {timeout}s")


def test_a_run_after_a_crash_adopts_the_lab_and_ctrl_c_stops_everything(squat_env):
    """A killed `hotline run` leaves Redis and both Asterisks running; the next run takes them over, so
    its Ctrl-C stops them too instead of leaving them for ever."""
    env = {**os.environ, **squat_env}
    web_port = int(squat_env["HOTLINE_WEB_PORT"])
    first = subprocess.Popen([sys.executable, "-m", "hotline", "run"], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_healthy(web_port)
    finally:
        first.kill()
        first.wait(10)
    assert sorted(running(squat_env)) == ["asterisk-pstn", "asterisk-sut", "redis"], "the crash left them"
    second = subprocess.Popen([sys.executable, "-m", "hotline", "run"], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_healthy(web_port)
        second.send_signal(signal.SIGINT)
        assert second.wait(30) == 0
    finally:
        if second.poll() is None:
            second.kill()
    assert running(squat_env) == []
