"""The rendered configuration: complete, strict, secrets only from settings."""

import dataclasses
import hashlib
import subprocess

import jinja2
import pytest

from hotline.asterisk_system import CONF_DIR, render_system
from hotline.kernel.asterisk.conf import render_tree, sip_digest
from hotline.kernel.runtime.config import ConfigError, Settings, load_settings
from hotline.plans import Plans
from hotline.trunks.numbers import LineSpecError, MappedNumber, parse_lines, parse_number_map


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
    agi_calls = [line for line in written["extensions.conf"].splitlines() if ",AGI(" in line]
    # Asterisk logs every AGI() line with its arguments: the controller asks the channel for the key instead.
    assert agi_calls and not any("KEY" in line or settings.agi_key in line for line in agi_calls)
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


def test_the_number_map_names_each_number_a_line_and_the_service_handing_callers_over():
    lines = parse_lines("12315=市场监管")
    assert parse_number_map(" 88001234=12315, 96110=12345:110 ,", lines) == (
        MappedNumber("88001234", "12315"),
        MappedNumber("96110", "12345", "110"),
    )
    for spec, says in [
        ("88001234", "NUMBER=LINE"),
        ("8800a=12315", "NUMBER=LINE"),
        ("８８=12315", "NUMBER=LINE"),  # full-width digits are not what a carrier sends
        ("88001234=12333", "not a line (12345, 12315)"),
        ("12315=12345", "given twice"),
        ("96110=12345,96110=12315", "given twice"),
        ("96110=12345:999", "not one of 110, 119, 120, 122"),
    ]:
        with pytest.raises(LineSpecError, match=says.replace("(", r"\(").replace(")", r"\)")):
            parse_number_map(spec, lines)


def test_mapped_numbers_enter_as_their_line_and_a_handover_number_tells_the_ivr_who_hands_over(tmp_path):
    settings = load_settings(
        {
            "HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"),
            "HOTLINE_LINES": "12345,12315=市场监管",
            "HOTLINE_NUMBER_MAP": "88001234=12315,96110=12345:110",
        }
    )
    [extensions] = render_system(settings, tmp_path / "etc", names=["extensions.conf"])
    text = extensions.read_text()
    plan = "\n".join(line for line in text.splitlines() if line.strip())
    old = plan[plan.index("exten => 88001234,1") :].splitlines()[:2]
    assert old[1].strip() == "same => n,Goto(hotline-entry,12315,1)"
    handover = plan[plan.index("exten => 96110,1") :].splitlines()[:3]
    assert [line.strip() for line in handover[1:]] == [
        "same => n,Set(HOTLINE_HANDED_OVER_BY=110)",
        "same => n,Goto(hotline-entry,12345,1)",
    ]


def test_the_digest_is_rfc_2617s_ha1_over_the_realm():
    """The value a phone's answer is checked against: MD5 of account:realm:password."""
    assert sip_digest("fred", "mypass") == hashlib.md5(b"fred:hotline:mypass").hexdigest()


@pytest.mark.parametrize(
    ("lines", "number_map"), [("12a45", ""), ("12345", "88001234=12315"), ("12345", "96110=12345:911")]
)
def test_a_bad_line_or_number_map_stops_the_start_naming_the_setting(lines: str, number_map: str):
    with pytest.raises(ConfigError, match="HOTLINE_LINES / HOTLINE_NUMBER_MAP"):
        Plans.of(dataclasses.replace(Settings(), lines=lines, number_map=number_map))


def test_an_unknown_acd_strategy_stops_the_start_naming_the_setting():
    with pytest.raises(ConfigError, match="HOTLINE_ACD_STRATEGY must be one of longest-idle"):
        Plans.of(dataclasses.replace(Settings(), acd_strategy="random"))
