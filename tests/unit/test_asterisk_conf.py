"""The rendered configuration: complete, strict, secrets only from settings."""

import hashlib
import subprocess

import jinja2
import pytest

from hotline.asterisk_system import CONF_DIR, render_system
from kernel.asterisk.conf import render_tree, sip_digest
from kernel.runtime.config import load_settings
from trunks.numbers import LineSpecError, parse_lines


def test_render_carries_accounts_lines_and_secrets(tmp_path):
    settings = load_settings(
        {"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"), "HOTLINE_LINES": "12345,12315=市场监管"}
    )
    written = {p.name: p.read_text() for p in render_system(settings, tmp_path / "etc")}
    assert (
        f"password_digest = MD5:{sip_digest('1001', settings.password_for('1001'))}" in written["pjsip.conf"]
    )
    assert settings.password_for("1001") not in written["pjsip.conf"]
    assert f"HOTLINE_AGI_KEY = {settings.agi_key}" in written["extensions.conf"]
    agi_calls = [line for line in written["extensions.conf"].splitlines() if "AGI(" in line]
    assert agi_calls and all("key=${HOTLINE_AGI_KEY}" in line for line in agi_calls)
    modes = {name: oct((tmp_path / "etc" / name).stat().st_mode)[-3:] for name in written}
    assert set(modes.values()) == {"640"}, "secrets are in these files from the first write"
    assert f"secret = {settings.ami_secret}" in written["manager.conf"]
    assert "exten => 12315,1" in written["extensions.conf"]
    assert "member => PJSIP/1001,0,坐席1001" in written["queues.conf"]
    assert "PJSIP/9001" not in written["queues.conf"]  # supervisors take no queue calls
    assert "{{" not in "".join(written.values())


def test_templates_hold_no_secrets():
    scan = subprocess.run(
        ["git", "grep", "-lE", "(secret|password) *= *[A-Za-z0-9]{6,}", "--", str(CONF_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert scan.returncode in (0, 1), f"git grep could not scan: {scan.stderr}"  # 1 means no match
    assert scan.stdout == ""


def test_a_missing_value_fails_the_render(tmp_path):
    (tmp_path / "t.conf").write_text("port = {{ nope }}\n")
    with pytest.raises(jinja2.UndefinedError):
        render_tree([tmp_path], ["t.conf"], {}, tmp_path / "out")


def test_lines_spec():
    lines = parse_lines("12315=市场监管, 12333")
    assert [(line.number, line.kept) for line in lines] == [
        ("12345", False),
        ("12315", True),
        ("12333", True),
    ]
    with pytest.raises(LineSpecError):
        parse_lines("12a45")


def test_the_digest_is_rfc_2617s_ha1_over_the_realm():
    """The value a phone's answer is checked against: MD5 of account:realm:password."""
    assert sip_digest("fred", "mypass") == hashlib.md5(b"fred:hotline:mypass").hexdigest()
