"""Settings: environment over file, secrets generated into the ignored file, clear errors."""

import pytest

from hotline.config import ConfigError, load_settings


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
