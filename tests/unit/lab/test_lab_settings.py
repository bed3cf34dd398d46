"""The lab's settings live in the lab: read from the same file as the system's, their secret kept there,
their ports checked against the ephemeral range and against each other."""

import dataclasses
import os

import pytest

from hotline.kernel.runtime.config import ConfigError, Settings, load_settings
from hotline.lab.settings import LabSettings, load_lab_settings


def test_the_kernels_settings_know_no_lab(tmp_path):
    names = {spec.name for spec in dataclasses.fields(Settings)}
    lab = {spec.name for spec in dataclasses.fields(LabSettings)} - names
    assert lab >= {"pstn_ami_port", "pstn_ami_secret", "lab_phones", "chroot_cache"}
    assert not any(name.startswith(("pstn_", "lab_", "chroot_")) for name in names)
    load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env")})
    assert "HOTLINE_PSTN_AMI_SECRET" not in (tmp_path / "h.env").read_text()


def test_the_lab_reads_the_systems_file_and_keeps_its_secret_there(tmp_path):
    path = tmp_path / "hotline.env"
    path.write_text("HOTLINE_WEB_PORT=9000\nHOTLINE_PSTN_PHONE_PORT=26070\n")
    env = {"HOTLINE_CONFIG_FILE": str(path), "HOTLINE_LAB_PHONES": "1001,9001"}
    first, second = load_lab_settings(env), load_lab_settings(env)
    assert (first.web_port, first.pstn_phone_port, first.lab_phones) == (9000, 26070, ("1001", "9001"))
    assert first.pstn_ami_secret and first.pstn_ami_secret == second.pstn_ami_secret
    assert first.ami_secret == load_settings(env).ami_secret
    assert f"HOTLINE_PSTN_AMI_SECRET={first.pstn_ami_secret}" in path.read_text()
    assert oct(os.stat(path).st_mode)[-3:] == "600"


#: A stand-in for the kernel's ephemeral range, holding none of the defaults: the ports the tests put in it
#: stay below the real range, where no configuration of this project may name a port.
STAND_IN_RANGE = (12000, 14999)


def test_a_lab_port_in_the_ephemeral_range_is_refused(tmp_path, monkeypatch):
    """A client socket may hold such a port; the lab's Asterisk would then run without that listener."""
    monkeypatch.setattr("hotline.kernel.runtime.config.ephemeral_port_range", lambda: STAND_IN_RANGE)
    with pytest.raises(ConfigError, match=r"HOTLINE_PSTN_AMI_PORT.*ephemeral port range 12000-14999"):
        load_lab_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"), "HOTLINE_PSTN_AMI_PORT": "13038"})


def test_the_carriers_port_is_the_labs_to_bind_not_a_deployments(tmp_path, monkeypatch):
    """A deployment's carrier sends from its own host, from whatever port it likes; in the lab the PSTN
    listens there as the carrier, on this host."""
    monkeypatch.setattr("hotline.kernel.runtime.config.ephemeral_port_range", lambda: STAND_IN_RANGE)
    env = {"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"), "HOTLINE_CARRIER_PORT": "14000"}
    assert load_settings(env).carrier_port == 14000
    with pytest.raises(ConfigError, match="HOTLINE_CARRIER_PORT=14000 lies in the kernel's ephemeral"):
        load_lab_settings(env)


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (
            {"HOTLINE_PSTN_PHONE_PORT": "5060"},
            "HOTLINE_PSTN_PHONE_PORT=5060 clashes with HOTLINE_SIP_PORT=5060",
        ),
        (
            {"HOTLINE_PSTN_RTP_START": "10500", "HOTLINE_PSTN_RTP_END": "11500"},
            "HOTLINE_PSTN_RTP_START/HOTLINE_PSTN_RTP_END=10500-11500 clashes with "
            "HOTLINE_RTP_START/HOTLINE_RTP_END=10000-10999",
        ),
        (
            {"HOTLINE_PSTN_AMI_PORT": "10010"},
            "HOTLINE_RTP_START/HOTLINE_RTP_END=10000-10999 clashes with HOTLINE_PSTN_AMI_PORT=10010",
        ),
    ],
)
def test_the_lab_refuses_two_listeners_on_one_port(tmp_path, more, message):
    """Both Asterisks, Redis and the controller run on one host: a shared port would fail one bind."""
    with pytest.raises(ConfigError, match=message):
        load_lab_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"), **more})
