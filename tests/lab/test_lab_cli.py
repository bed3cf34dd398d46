"""`hotline lab status --json` tells what runs and where, from the running lab."""

import json
import os
import subprocess
import sys
from pathlib import Path


def test_status_json_lists_processes_and_ports(lab, lab_env, settings):
    result = subprocess.run(
        [sys.executable, "-m", "hotline", "lab", "status", "--json"],
        env={**os.environ, **lab_env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    status = json.loads(result.stdout)
    assert all(p["running"] for p in status["processes"].values())
    ports = status["ports"]
    assert ports["sut_ami"] == {"port": settings.ami_port, "proto": "tcp", "listening": True}
    assert ports["pstn_ami"]["listening"] and ports["redis"]["listening"]
    assert (
        ports["sut_sip"]["port"] == settings.sip_port
        and ports["pstn_trunk_sip"]["port"] == settings.carrier_port
    )
    assert status["host"] == "127.0.0.1"


def test_the_lab_asterisks_run_as_ids_no_host_account_has(lab):
    """Inside the chroot asterisk once had uid 101, which on a host was postgres."""
    host_uids = {int(line.split(":")[2]) for line in Path("/etc/passwd").read_text().splitlines()}
    host_gids = {int(line.split(":")[2]) for line in Path("/etc/group").read_text().splitlines()}
    for instance in (lab.sut, lab.pstn):
        status = Path(f"/proc/{instance.process.pid()}/status").read_text().splitlines()
        uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
        gid = int(next(line for line in status if line.startswith("Gid:")).split()[1])
        assert uid != 0 and uid not in host_uids and gid not in host_gids
