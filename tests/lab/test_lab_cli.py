"""`hotline lab status --json` tells what runs and where, from the running lab."""

import json
import os
import subprocess
import sys


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
