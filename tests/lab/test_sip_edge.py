"""The system's SIP edge against hand-made packets, as an attacker on the network sends them.

A stranger cannot pose as the carrier, cannot tell real accounts from made-up ones by the challenge, and
is banned after a burst of wrong passwords while a phone elsewhere goes on registering. Asterisk's own log
keeps the FastAGI key out and is readable by Asterisk's group alone.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator

import pytest

from hotline.lab.caller import CallPlan, place_call
from hotline.lab.controller import ControllerProcess
from tests.lab.conftest import EventStream, floor_url
from tests.lab.helpers import AmiEvents
from tests.lab.sip_probe import SipProbe

FORGED_CALLER = "13812345678"
#: Sources of the hand-made packets: loopback addresses and ports no lab process uses, below the ephemeral
#: range. The stranger who guesses has an address of its own, so its ban touches nothing else.
STRANGER_ON_THE_CARRIERS_HOST = ("127.0.0.1", 26095)
PROBE = ("127.0.0.1", 26096)
GUESSER = ("127.0.0.77", 26097)
PHONE_ELSEWHERE = ("127.0.0.1", 26098)
#: The office's NAT (a trusted network) and a phone that signed in: their failures ban nothing.
OFFICE = ("127.0.0.88", 26099)
SIGNED_IN_PHONE = ("127.0.0.89", 26100)
GUESSES = 5
BAN_SECONDS = 8


def system_sip(settings) -> tuple[str, int]:
    return settings.bind_host, settings.sip_port


async def test_a_stranger_writing_carrier_in_from_is_challenged_and_nothing_is_dialled(
    lab, controller, settings, agents
):
    """The probe's INVITE from the carrier's host but not its port, claiming From: carrier and a forged
    P-Asserted-Identity, was answered, ran the IVR and had the system dial 110 with the forged number."""
    async with agents.ami(system=True) as system, agents.ami() as pstn, agents.floor() as floor:
        system_events, pstn_events = AmiEvents(system), AmiEvents(pstn)
        async with SipProbe(STRANGER_ON_THE_CARRIERS_HOST, system_sip(settings)) as stranger:
            answer = await stranger.invite(
                "12345",
                from_user="carrier",
                headers=(f"P-Asserted-Identity: <sip:{FORGED_CALLER}@{settings.bind_host}>",),
            )
        # A channel comes before an INVITE's final answer: once that answer is in and both Asterisks'
        # events up to now too, no channel of this INVITE can still come (nor, without one, a floor event
        # or a call out).
        await system_events.caught_up()
        await pstn_events.caught_up()
    assert answer is not None and answer.status in (401, 403, 407), answer
    assert [e for e in floor.events if e.get("caller_number") == FORGED_CALLER] == []
    system_channels = [e for e in system_events.events if e.get("Event") == "Newchannel"]
    assert system_channels == [], "the INVITE became a channel"
    dialled_out = [e for e in pstn_events.events if e.get("Event") == "Newchannel"]
    assert dialled_out == [], "the system dialled out"


async def test_the_challenge_names_one_realm_for_real_and_made_up_accounts(lab, settings):
    """An unknown user got realm="asterisk", a real one realm="hotline": accounts could be listed."""
    realms: dict[tuple[str, str], str] = {}
    async with SipProbe(PROBE, system_sip(settings)) as probe:
        for user in ("1001", "nosuch4711"):
            challenged = await probe.register(user, bind=False)
            assert challenged is not None and challenged.status == 401, challenged
            realms["REGISTER", user] = challenged.challenge()["realm"]
            probe.request("OPTIONS", user, uri=f"sip:{probe.host}")
            challenged = await probe.final()
            assert challenged is not None and challenged.status == 401, challenged
            realms["OPTIONS", user] = challenged.challenge()["realm"]
    assert set(realms.values()) == {"hotline"}, realms


@pytest.fixture
def guarded_controller(lab, lab_env, settings, tmp_path) -> Iterator[ControllerProcess]:
    """A controller that bans after a few guesses, for a few seconds, so the test sees the ban end."""
    env = {
        **lab_env,
        "HOTLINE_SIP_BAN_FAILURES": str(GUESSES),
        "HOTLINE_SIP_BAN_WINDOW_SECONDS": "60",
        "HOTLINE_SIP_BAN_SECONDS": str(BAN_SECONDS),
        "HOTLINE_SIP_TRUSTED_NETWORKS": f"{OFFICE[0]}/32",
    }
    process = ControllerProcess(env, settings, tmp_path / "controller.log")
    process.start()
    yield process
    process.stop()


async def test_a_burst_of_wrong_passwords_bans_the_source_for_a_while_and_a_phone_elsewhere_registers(
    guarded_controller, settings, supervisor_token
):
    """svcrack's 200 guesses reached Asterisk in 1.2 s, with nothing to slow them and nobody told."""
    floor_url_ = floor_url(guarded_controller.base_url, supervisor_token)
    async with (
        EventStream(floor_url_) as floor,
        SipProbe(GUESSER, system_sip(settings)) as guesser,
        SipProbe(PHONE_ELSEWHERE, system_sip(settings)) as phone,
    ):
        guesses = [await guesser.register("1001", f"guess-{n}") for n in range(GUESSES)]
        assert {g.status for g in guesses if g is not None} == {401}, "each guess is refused"
        banned = await floor.wait_for(
            lambda e: e.get("type") == "security.sip_banned" and e.get("address") == GUESSER[0], timeout=10
        )
        refused = await guesser.register("1001", "one-more-guess")
        registered = await phone.register("1002", settings.password_for("1002"), bind=False)
        await floor.wait_for(
            lambda e: e.get("type") == "security.sip_ban_lifted" and e.get("address") == GUESSER[0],
            timeout=BAN_SECONDS + 10,
        )
        after_the_ban = await guesser.register("1001")
    assert refused is None or refused.status == 403, "the banned source gets no hearing"
    assert registered is not None and registered.status == 200, registered
    assert registered.header("contact"), "the phone's own binding is still there"
    assert banned["failures"] >= GUESSES and "1001" in banned["accounts"]
    assert banned["failures_total"] >= GUESSES and banned["bans_total"] >= 1
    assert banned["until"] > banned["at"]
    assert after_the_ban is not None and after_the_ban.status == 401, "the ban ended"


async def test_asterisks_log_keeps_the_agi_key_out_is_640_and_rotates(lab, controller, settings, agents):
    """The key was in messages.log (644, in a 755 folder) on every AGI line: 104 lines held it."""
    log_dir = settings.host_path(f"{settings.asterisk_instance_dir}/log")
    messages = log_dir / "messages.log"
    start = messages.stat().st_size
    plan = CallPlan(caller_number="13700009999", hold=3)
    async with agents.floor() as floor:
        await place_call(lab, plan)
        await floor.wait_for(
            lambda e: e.get("type") == "call.hangup" and e.get("caller_number") == plan.caller_number, 30
        )
    with messages.open("rb") as log:
        log.seek(start)
        written = log.read().decode("utf-8", errors="replace")
    assert "AGI(" in written, "the call's AGI lines were logged"
    assert settings.agi_key not in written
    async with agents.ami(system=True) as system:
        await system.action("LoggerRotate")
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (messages, log_dir / "messages.log.0")}
    assert modes == {"messages.log": 0o640, "messages.log.0": 0o640}, {k: oct(v) for k, v in modes.items()}
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o750


async def test_failures_from_the_office_network_or_a_phone_that_signed_in_are_reported_and_never_refused(
    guarded_controller, settings, supervisor_token
):
    """One phone with an old password behind the office NAT banned every seat behind it."""
    floor_url_ = floor_url(guarded_controller.base_url, supervisor_token)
    async with (
        EventStream(floor_url_) as floor,
        SipProbe(OFFICE, system_sip(settings)) as office,
        SipProbe(SIGNED_IN_PHONE, system_sip(settings)) as phone,
    ):
        signed_in = await phone.register("1003", settings.password_for("1003"), bind=False)
        for n in range(GUESSES):
            await office.register("1002", f"old-password-{n}")
            await phone.register("1003", f"old-password-{n}")
        reports = {
            address: await floor.wait_for(
                lambda e, address=address: (
                    e.get("type") == "security.sip_guessing" and e.get("address") == address
                ),
                timeout=10,
            )
            for address in (OFFICE[0], SIGNED_IN_PHONE[0])
        }
        office_again = await office.register("1002", settings.password_for("1002"), bind=False)
        phone_again = await phone.register("1003", settings.password_for("1003"), bind=False)
    assert signed_in is not None and signed_in.status == 200, signed_in
    assert reports[OFFICE[0]]["reason"] == "trusted network" and "1002" in reports[OFFICE[0]]["accounts"]
    assert reports[SIGNED_IN_PHONE[0]]["reason"] == "signed in"
    assert office_again is not None and office_again.status == 200, "the office is not refused"
    assert phone_again is not None and phone_again.status == 200, "the phone is not refused"
    assert not [e for e in floor.events if e.get("type") == "security.sip_banned"]
