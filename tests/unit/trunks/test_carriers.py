"""Several carrier trunks: the list a deployment writes, the configuration Asterisk gets from it, and what
supervisors hear when a trunk stops answering or cannot carry a call."""

from __future__ import annotations

import dataclasses
import re

import pytest

from hotline.asterisk_system import render_system
from hotline.kernel.runtime.config import ConfigError, Settings, load_settings
from hotline.plans import Plans, carrier_trunks
from hotline.trunks.carriers import Trunk, TrunkSpecError, parse_trunks
from hotline.trunks.status import TrunkWatch

DEFAULT = Trunk("carrier", "127.0.0.1", 25060)
PASSWORD = {"HOTLINE_TRUNK_PASSWORD_UNICOM": "s3cret-from-the-carrier"}


def test_trunks_are_tried_in_the_order_written_and_one_with_a_user_name_registers():
    trunks = parse_trunks(" telecom=10.0.0.5:5060, unicom=hotline@sip.example.cn:5080 ,", PASSWORD, DEFAULT)
    assert [(t.name, t.address, t.registers) for t in trunks] == [
        ("telecom", "10.0.0.5:5060", False),
        ("unicom", "sip.example.cn:5080", True),
    ]
    assert trunks[1].username == "hotline" and trunks[1].password == "s3cret-from-the-carrier"
    assert parse_trunks("", {}, DEFAULT) == (DEFAULT,), "without a list, the one carrier of the settings"


def test_a_new_password_gets_credentials_of_another_name_so_asterisk_logs_in_again_at_once():
    (before,) = parse_trunks("unicom=hotline@sip.example.cn:5080", PASSWORD, DEFAULT)
    (after,) = parse_trunks(
        "unicom=hotline@sip.example.cn:5080", {"HOTLINE_TRUNK_PASSWORD_UNICOM": "changed"}, DEFAULT
    )
    assert (
        before.auth_name == parse_trunks("unicom=hotline@sip.example.cn:5080", PASSWORD, DEFAULT)[0].auth_name
    )
    assert before.auth_name != after.auth_name and before.auth_name.startswith("unicom-auth-")
    assert "s3cret" not in before.auth_name


@pytest.mark.parametrize(
    "spec",
    [
        "telecom",
        "telecom=10.0.0.5",
        "telecom=10.0.0.5:65536",
        "telecom=10.0.0.5:５０６０",
        "Telecom=10.0.0.5:5060",
        "1001=10.0.0.5:5060",  # an agent's account name
        "global=10.0.0.5:5060",
        "a=10.0.0.5:5060,a=10.0.0.6:5060",
        "unicom=hot line@sip.example.cn:5060",
        "unicom=hotline@sip.example.cn:5060",  # registers, but its password is not given
    ],
)
def test_a_malformed_trunk_list_is_refused_naming_the_entry(spec: str):
    with pytest.raises(TrunkSpecError):
        parse_trunks(spec, {}, DEFAULT)


def test_a_bad_trunk_list_stops_the_start_naming_the_setting():
    with pytest.raises(ConfigError, match="HOTLINE_TRUNKS"):
        Plans.of(dataclasses.replace(Settings(), trunks="telecom=10.0.0.5"))


def test_the_password_comes_from_its_own_setting_and_never_from_the_list(tmp_path):
    settings = load_settings(
        {
            "HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"),
            "HOTLINE_TRUNKS": "telecom=10.0.0.5:5060,unicom=hotline@sip.example.cn:5080",
            **PASSWORD,
        }
    )
    assert [t.password for t in carrier_trunks(settings)] == ["", "s3cret-from-the-carrier"]


def test_asterisk_qualifies_each_trunk_and_dials_them_in_order_moving_on_only_when_one_cannot_carry(
    tmp_path,
):
    settings = load_settings(
        {
            "HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"),
            "HOTLINE_TRUNKS": "telecom=10.0.0.5:5060,unicom=hotline@sip.example.cn:5080",
            **PASSWORD,
        }
    )
    written = {p.name: p.read_text() for p in render_system(settings, tmp_path / "etc")}
    pjsip, dialplan = written["pjsip.conf"], written["extensions.conf"]
    assert "match = 10.0.0.5:5060" in pjsip and "match = sip.example.cn:5080" in pjsip
    for address in ("10.0.0.5:5060", "sip.example.cn:5080"):
        assert f"contact = sip:{address}\nqualify_frequency = 5\n" in pjsip, address
    registrations = re.findall(r"type = registration\n(?:.+\n)*?client_uri = (.+)", pjsip)
    assert registrations == ["sip:hotline@sip.example.cn:5080"], "only the trunk with a user name registers"
    assert "password = s3cret-from-the-carrier" in pjsip
    outbound = dialplan[dialplan.index("[hotline-outbound]") :].split("\n[")[0]
    dials = re.findall(r"Dial\(PJSIP/\$\{EXTEN\}@(\w+),", outbound)
    assert dials == ["telecom", "unicom"]
    assert '"${DIALSTATUS}" != "CHANUNAVAIL" & "${DIALSTATUS}" != "CONGESTION"' in outbound
    assert "@carrier" not in dialplan, "every call out goes through the trunks in order"
    for context in ("hotline-callback", "hotline-dial-out", "hotline-transfer", "hotline-emergency"):
        section = dialplan[dialplan.index(f"[{context}]") :].split("\n[")[0]
        assert "Gosub(hotline-outbound,${EXTEN},1)" in section, context


def test_supervisors_hear_a_trunk_that_stops_answering_once_and_each_call_it_could_not_carry():
    watch = TrunkWatch(("telecom", "unicom"))

    def contact(aor: str, status: str) -> dict[str, str]:
        return {"Event": "ContactStatus", "AOR": aor, "ContactStatus": status}

    assert watch.hear(contact("telecom", "Reachable")) == {
        "type": "trunk.status",
        "trunk": "telecom",
        "status": "reachable",
    }
    assert watch.hear(contact("telecom", "Reachable")) is None, "no news"
    assert watch.hear(contact("1001", "Unreachable")) is None, "a phone is not a trunk"
    assert watch.hear(contact("telecom", "Unreachable"))["status"] == "unreachable"
    failed = {
        "UserEvent": "HotlineTrunkFailed",
        "Trunk": "telecom",
        "Number": "110",
        "DialStatus": "CHANUNAVAIL",
    }
    assert watch.hear(failed) == {
        "type": "trunk.failover",
        "trunk": "telecom",
        "number": "110",
        "dial_status": "CHANUNAVAIL",
        "next": "unicom",
    }
    assert watch.hear({**failed, "Trunk": "unicom"})["next"] == "", "the last trunk: nothing left to try"
