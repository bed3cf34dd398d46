"""Settings: environment over file, secrets generated into the ignored file, clear errors."""

import pytest

from hotline.kernel.runtime.config import ConfigError, load_settings


def test_secrets_are_generated_once_into_the_local_file(tmp_path):
    env = {"HOTLINE_CONFIG_FILE": str(tmp_path / "hotline.env")}
    first = load_settings(env)
    second = load_settings(env)
    assert first.ami_secret and first.ami_secret == second.ami_secret
    assert first.password_for("1001") == second.password_for("1001")
    assert first.password_for("1001") != first.password_for("1002")
    text = (tmp_path / "hotline.env").read_text()
    assert f"HOTLINE_AMI_SECRET={first.ami_secret}" in text
    assert oct((tmp_path / "hotline.env").stat().st_mode)[-3:] == "600"


def test_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "hotline.env"
    path.write_text("HOTLINE_WEB_PORT=9000\nHOTLINE_AGENTS=2001,2002\n")
    settings = load_settings({"HOTLINE_CONFIG_FILE": str(path), "HOTLINE_WEB_PORT": "9100"})
    assert settings.web_port == 9100
    assert settings.agents == ("2001", "2002")


def test_malformed_values_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="HOTLINE_WEB_PORT"):
        load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "x.env"), "HOTLINE_WEB_PORT": "eighty"})
    bad = tmp_path / "bad.env"
    bad.write_text("no equals sign here\n")
    with pytest.raises(ConfigError, match=r"bad\.env:1"):
        load_settings({"HOTLINE_CONFIG_FILE": str(bad)})


def test_listeners_default_to_loopback(tmp_path):
    assert load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env")}).bind_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("name", "value"),
    [("HOTLINE_WEB_PORT", "60999"), ("HOTLINE_RTP_END", "33000")],
)
def test_a_listening_port_in_the_ephemeral_range_is_refused(tmp_path, monkeypatch, name, value):
    """A client socket may hold such a port; Asterisk would then run without that listener."""
    monkeypatch.setattr("hotline.kernel.runtime.config.ephemeral_port_range", lambda: (32768, 60999))
    with pytest.raises(ConfigError, match=f"{name}.*ephemeral port range 32768-60999"):
        load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"), name: value})


def test_ports_below_the_ephemeral_range_are_accepted(tmp_path, monkeypatch):
    monkeypatch.setattr("hotline.kernel.runtime.config.ephemeral_port_range", lambda: (32768, 60999))
    env = {"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"), "HOTLINE_WEB_PORT": "32767"}
    assert load_settings(env).web_port == 32767


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path):
    from hotline.kernel.runtime.config import ephemeral_port_range

    file = tmp_path / "range"
    file.write_text("40000\t50000\n")
    assert ephemeral_port_range(file) == (40000, 50000)
    assert ephemeral_port_range(tmp_path / "missing") == (32768, 60999)
