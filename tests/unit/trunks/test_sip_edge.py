"""The SIP edge as Asterisk is configured for it, and the guard that bans password guessers.

A trunk is its address and port, never a From user; caller identity is believed from trunks alone; every
challenge names one realm; a burst of wrong passwords makes Asterisk refuse the source until the ban ends,
and the floor hears of both.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from hotline.asterisk_system import render_system
from hotline.kernel.asterisk.ami import AmiActionFailed, AmiReply
from hotline.kernel.runtime.config import ConfigError, Settings, load_settings
from hotline.trunks import guard
from hotline.trunks.acl import BANS_FILE, AclBans
from hotline.trunks.guard import SipGuard, ban_policy, trusted_networks
from hotline.trunks.guessing import BanPolicy


def sections(conf: str) -> dict[str, list[str]]:
    """Each ``[name]`` section's body (a name may have several: endpoint, aor, identify...)."""
    found: dict[str, list[str]] = {}
    for name, body in re.findall(r"^\[([^\]]+)\][^\n]*\n(.*?)(?=^\[|\Z)", conf, re.M | re.S):
        found.setdefault(name, []).append(body)
    return found


def endpoint(conf: str, name: str) -> str:
    return next(body for body in sections(conf)[name] if "type = endpoint" in body)


@pytest.fixture
def pjsip(tmp_path) -> str:
    settings = load_settings(
        {
            "HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"),
            "HOTLINE_TRUNKS": "carrier=10.0.0.5:5060,backup=hotline@sip.example.cn:5080",
            "HOTLINE_TRUNK_PASSWORD_BACKUP": "from-the-carrier",
        }
    )
    render_system(settings, tmp_path / "etc")
    return (tmp_path / "etc" / "pjsip.conf").read_text()


def test_a_trunk_is_known_by_its_address_and_port_alone_never_by_a_from_user(pjsip):
    """From 127.0.0.1:40000 with ``From: carrier`` a stranger was the carrier, its forged PAI believed."""
    for trunk, address in (("carrier", "10.0.0.5:5060"), ("backup", "sip.example.cn:5080")):
        assert "identify_by = ip\n" in endpoint(pjsip, trunk), trunk
        assert any(
            f"type = identify\nendpoint = {trunk}\nmatch = {address}\n" in b for b in sections(pjsip)[trunk]
        )


def test_caller_identity_is_believed_from_trunks_alone_and_phones_must_log_in(pjsip):
    found = sections(pjsip)
    believing = {name for name, bodies in found.items() if any("trust_id_inbound = yes" in b for b in bodies)}
    assert believing == {"carrier", "backup"}
    (template,) = found["account-template"]
    assert "identify_by = username\n" in template
    assert "[1001](account-template)\n" in pjsip and any("auth = 1001\n" in b for b in found["1001"])


def test_every_challenge_names_the_realm_of_the_accounts(pjsip):
    """A made-up user got Asterisk's fake challenge with realm="asterisk", a real one realm="hotline"."""
    realms = set(re.findall(r"^realm = (.+)$", pjsip, re.M))
    assert realms == {"hotline"}
    assert re.search(r"^default_realm = hotline$", pjsip, re.M)


def test_the_bans_are_a_file_of_their_own_that_pjsip_includes(tmp_path, pjsip):
    assert "#tryinclude pjsip_bans.conf" in pjsip
    etc = tmp_path / "etc"
    assert "type = acl" not in (etc / BANS_FILE).read_text(), "no ban, no ACL: nothing refused"
    settings = load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env")})
    render_system(settings, etc, [BANS_FILE], banned=["198.51.100.7", "2001:db8::7"])
    bans = (etc / BANS_FILE).read_text()
    assert "type = acl" in bans
    assert re.findall(r"^deny = (.+)$", bans, re.M) == ["198.51.100.7", "2001:db8::7"]
    assert oct((etc / BANS_FILE).stat().st_mode)[-3:] == "640"


class Asterisk:
    """AMI as the guard uses it: every action answered, and remembered."""

    def __init__(self) -> None:
        self.connected = True
        self.actions: list[tuple[str, dict[str, Any]]] = []
        #: Raised by the next actions, one each, before Asterisk answers again.
        self.failures: list[Exception] = []

    async def action(self, name: str, headers: dict[str, Any] | None = None, **_: Any) -> AmiReply:
        if self.failures:
            raise self.failures.pop(0)
        self.actions.append((name, dict(headers or {})))
        return AmiReply({"Response": "Success"})


def failure(address: str, account: str = "1001") -> dict[str, str]:
    return {
        "Event": "ChallengeResponseFailed",
        "Service": "PJSIP",
        "AccountID": account,
        "RemoteAddress": f"IPV4/UDP/{address}/5060",
    }


class World:
    def __init__(
        self,
        tmp_path: Path,
        policy: BanPolicy,
        trunks: tuple[str, ...] = ("10.0.0.5",),
        dns: dict[str, list[str]] | None = None,
    ) -> None:
        self.now = 1_000.0
        self.asterisk = Asterisk()
        self.etc = tmp_path / "etc"
        self.events: list[dict[str, object]] = []
        settings = load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env")})
        render_system(settings, self.etc)

        async def publish(event: dict[str, object]) -> None:
            self.events.append(event)

        bans = AclBans(
            lambda out, banned: render_system(settings, out, [BANS_FILE], banned=banned),
            self.etc,
            self.asterisk,  # type: ignore[arg-type]
        )
        self.looked_up: list[str] = []

        async def resolve(host: str) -> list[str]:
            self.looked_up.append(host)
            if host not in (dns or {}):
                raise OSError("Name or service not known")
            return (dns or {})[host]

        self.guard = SipGuard(policy, trunks, (), bans, publish, lambda: self.now, resolve)

    def denied(self) -> list[str]:
        return re.findall(r"^deny = (.+)$", (self.etc / BANS_FILE).read_text(), re.M)

    async def until(self, predicate, seconds: float = 5) -> None:
        async with asyncio.timeout(seconds):
            while not predicate():
                await asyncio.sleep(0.01)


async def test_a_guesser_is_refused_until_its_ban_ends_and_the_floor_hears_both(tmp_path):
    world = World(tmp_path, BanPolicy(failures=5, window=60, ban_seconds=0.3))
    running = asyncio.create_task(world.guard.run())
    try:
        for n in range(7):
            world.guard.hear(failure("198.51.100.7", account=f"100{n % 2}"))
        world.guard.hear(failure("203.0.113.9"))  # another source, one failure: nothing
        await world.until(lambda: any(e["type"] == "security.sip_banned" for e in world.events))
        assert world.denied() == ["198.51.100.7"]
        assert ("Reload", {"Module": "res_pjsip.so"}) in world.asterisk.actions
        banned = world.events[0]
        assert banned == {
            "type": "security.sip_banned",
            "address": "198.51.100.7",
            "failures": 5,
            "accounts": ["1000", "1001"],
            "until": 1_000.3,
            "at": 1_000.0,
            "failures_total": 8,
            "bans_total": 1,
        }
        world.now += 0.3
        await world.until(lambda: any(e["type"] == "security.sip_ban_lifted" for e in world.events))
        assert world.denied() == []
        assert world.events[-1] == {
            "type": "security.sip_ban_lifted",
            "address": "198.51.100.7",
            "at": 1_000.3,
        }
    finally:
        running.cancel()


async def test_a_trunks_address_is_reported_and_never_refused(tmp_path):
    world = World(tmp_path, BanPolicy(failures=3, window=60, ban_seconds=60))
    running = asyncio.create_task(world.guard.run())
    try:
        for _ in range(3):
            world.guard.hear(failure("10.0.0.5", account="carrier"))
        await world.until(lambda: bool(world.events))
    finally:
        running.cancel()
    assert [(e["type"], e["address"], e["reason"]) for e in world.events] == [
        ("security.sip_guessing", "10.0.0.5", "trunk")
    ]
    assert world.denied() == []


async def test_a_trunk_named_by_its_host_is_spared_by_the_addresses_the_name_resolves_to(tmp_path):
    """``backup=hotline@sip.example.cn:5080``: the name was compared with IP addresses, so never matched."""
    world = World(
        tmp_path,
        BanPolicy(failures=3, window=60, ban_seconds=60),
        trunks=("sip.example.cn",),
        dns={"sip.example.cn": ["198.51.100.1", "2001:db8::1"]},
    )
    running = asyncio.create_task(world.guard.run())
    try:
        await world.until(lambda: "198.51.100.1" in world.guard.watch.trunks)
        for address in ("198.51.100.1", "2001:db8::1", "203.0.113.9"):
            for _ in range(3):
                world.guard.hear(failure(address, account="backup"))
        await world.until(lambda: len(world.events) == 3)
    finally:
        running.cancel()
    assert world.looked_up == ["sip.example.cn"]
    assert sorted((e["type"], e["address"]) for e in world.events) == [
        ("security.sip_banned", "203.0.113.9"),
        ("security.sip_guessing", "198.51.100.1"),
        ("security.sip_guessing", "2001:db8::1"),
    ]
    assert world.denied() == ["203.0.113.9"]


async def test_the_real_resolver_answers_addresses_for_a_name():
    assert "127.0.0.1" in await guard.resolve_host("localhost")


async def test_a_guesser_from_an_address_that_signed_in_is_reported_not_refused(tmp_path):
    world = World(tmp_path, BanPolicy(failures=3, window=60, ban_seconds=60))
    running = asyncio.create_task(world.guard.run())
    try:
        world.guard.hear({**failure("192.0.2.10"), "Event": "SuccessfulAuth"})
        for _ in range(3):
            world.guard.hear(failure("192.0.2.10", account="1002"))
        await world.until(lambda: bool(world.events))
    finally:
        running.cancel()
    assert [(e["type"], e["reason"]) for e in world.events] == [("security.sip_guessing", "signed in")]
    assert world.denied() == []


@pytest.mark.parametrize(
    "failure_of_the_reload",
    [AmiActionFailed("Reload", AmiReply({"Response": "Error"})), RuntimeError("connection reset")],
)
async def test_a_change_of_bans_asterisk_did_not_take_is_tried_again(
    tmp_path, monkeypatch, failure_of_the_reload
):
    """A lifted ban whose reload failed stayed in Asterisk's ACL until some other ban changed."""
    monkeypatch.setattr(guard, "RETRY_SECONDS", 0.05)
    world = World(tmp_path, BanPolicy(failures=3, window=60, ban_seconds=60))
    world.asterisk.failures += [failure_of_the_reload] * 2  # at the start and for the ban
    for _ in range(3):
        world.guard.hear(failure("198.51.100.7"))
    running = asyncio.create_task(world.guard.run())
    try:
        await world.until(lambda: bool(world.events))
        assert world.events[0]["type"] == "security.sip_banned", "told even when the reload failed"
        assert world.asterisk.actions == [] and not world.asterisk.failures
        world.now += 1  # past the back-off
        await world.until(lambda: bool(world.asterisk.actions))
    finally:
        running.cancel()
    assert world.denied() == ["198.51.100.7"]


def test_trusted_networks_are_read_from_the_settings_and_a_typo_stops_the_start(tmp_path):
    settings = load_settings(
        {
            "HOTLINE_CONFIG_FILE": str(tmp_path / "h.env"),
            "HOTLINE_SIP_TRUSTED_NETWORKS": "10.8.0.0/16, 192.0.2.7",
        }
    )
    assert trusted_networks(settings) == ("10.8.0.0/16", "192.0.2.7")
    with pytest.raises(ConfigError, match=r"HOTLINE_SIP_TRUSTED_NETWORKS.*10\.8\.0\.0/33"):
        trusted_networks(Settings(sip_trusted_networks=("10.8.0.0/33",)))


async def test_a_controller_that_starts_lifts_the_bans_a_stopped_one_left(tmp_path):
    world = World(tmp_path, BanPolicy())
    settings = load_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "h.env")})
    render_system(settings, world.etc, [BANS_FILE], banned=["198.51.100.7"])
    running = asyncio.create_task(world.guard.run())
    try:
        await world.until(lambda: world.denied() == [])
        await world.until(lambda: bool(world.asterisk.actions))
    finally:
        running.cancel()
    assert world.asterisk.actions == [("Reload", {"Module": "res_pjsip.so"})]


async def test_bans_written_while_asterisk_is_away_are_loaded_when_it_is_back(tmp_path):
    world = World(tmp_path, BanPolicy())
    world.asterisk.connected = False
    assert await world.guard.bans.refuse(["198.51.100.7"]) is False
    assert world.denied() == ["198.51.100.7"] and world.asterisk.actions == []
    world.asterisk.connected = True
    await world.guard.bans.catch_up()
    assert world.asterisk.actions == [("Reload", {"Module": "res_pjsip.so"})]


def test_a_policy_that_cannot_ban_stops_the_start_naming_the_settings():
    with pytest.raises(ConfigError, match="HOTLINE_SIP_BAN_FAILURES"):
        ban_policy(Settings(sip_ban_failures=0))


async def test_a_named_trunk_banned_before_its_name_was_resolved_is_lifted_once_it_is(tmp_path):
    world = World(
        tmp_path,
        BanPolicy(failures=3, window=60, ban_seconds=60),
        trunks=("sip.example.cn",),
        dns={"sip.example.cn": ["198.51.100.1"]},
    )
    for _ in range(3):  # heard before the guard started
        world.guard.hear(failure("198.51.100.1", account="backup"))
    running = asyncio.create_task(world.guard.run())
    try:
        await world.until(lambda: any(e["type"] == "security.sip_ban_lifted" for e in world.events))
    finally:
        running.cancel()
    assert world.denied() == [] and world.guard.watch.banned == {}
