"""The SIP edge's guard: hears Asterisk's security events, has Asterisk refuse an address that guesses
passwords until its ban ends, and tells supervisors of each ban and of its end.

The rules are pure (``trunks/guessing.py``); the ban is Asterisk's own ACL (``trunks/acl.py``). Every
event says how many failed attempts and bans there were since the controller started, for the floor and
for whatever reads the counts later. A controller that starts lifts the bans a stopped one left: it
cannot know when they were to end, and a guesser who is still at it is banned again within seconds.

A trunk named by its host name is spared by the addresses that name resolves to, looked up (off the event
loop) when the guard starts and again every ``RESOLVE_SECONDS``. A change of bans that Asterisk did not
take is tried again after a back-off, so a lifted ban does not stay in its ACL until the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from hotline.kernel.runtime.config import ConfigError, Settings
from hotline.kernel.runtime.events import Publish
from hotline.trunks.acl import AclBans
from hotline.trunks.guessing import BanPolicy, GuessWatch, Verdict, failed_attempt, networks, signed_in

log = logging.getLogger(__name__)

#: A named trunk's addresses are looked up again this often (a carrier may move).
RESOLVE_SECONDS = 300.0
#: A change of bans Asterisk did not take is tried again after this, doubling up to the most.
RETRY_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0

#: A host name's addresses (raises OSError when it has none).
Resolve = Callable[[str], Awaitable[list[str]]]


async def resolve_host(host: str) -> list[str]:
    """The addresses a host name has, looked up by the loop's resolver thread."""
    found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    return sorted({str(ipaddress.ip_address(str(info[4][0]).split("%")[0])) for info in found})


def trusted_networks(settings: Settings) -> tuple[str, ...]:
    """HOTLINE_SIP_TRUSTED_NETWORKS, checked: a typo stops the start rather than trusting nobody."""
    try:
        networks(settings.sip_trusted_networks)
    except ValueError as exc:
        raise ConfigError(f"HOTLINE_SIP_TRUSTED_NETWORKS: {exc}") from None
    return settings.sip_trusted_networks


def ban_policy(settings: Settings) -> BanPolicy:
    try:
        return BanPolicy(settings.sip_ban_failures, settings.sip_ban_window_seconds, settings.sip_ban_seconds)
    except ValueError:
        raise ConfigError(
            "HOTLINE_SIP_BAN_FAILURES, HOTLINE_SIP_BAN_WINDOW_SECONDS and HOTLINE_SIP_BAN_SECONDS must be "
            "positive"
        ) from None


class SipGuard:
    def __init__(
        self,
        policy: BanPolicy,
        trunk_hosts: Iterable[str],
        trusted: Iterable[str],
        bans: AclBans,
        publish: Publish,
        clock: Callable[[], float] = time.time,
        resolve: Resolve = resolve_host,
    ) -> None:
        """``trunk_hosts``: the trunks' addresses or host names; ``trusted``: networks never banned."""
        self.trunk_hosts = tuple(dict.fromkeys(trunk_hosts))
        self.watch = GuessWatch(policy, [host for host in self.trunk_hosts if _is_address(host)], trusted)
        self.bans, self.publish, self.clock, self.resolve = bans, publish, clock, resolve
        self._verdicts: list[Verdict] = []
        self._changed = asyncio.Event()
        self._resolved: dict[str, list[str]] = {}
        self._resolve_at = 0.0
        self._refuse_due = False
        self._trunks_unbanned: list[str] = []
        self._retry_at: float | None = None
        self._retry_seconds = RETRY_SECONDS

    def hear(self, event: Mapping[str, object]) -> None:
        """Every AMI event, in order; only failed and successful attempts at the SIP edge count."""
        attempt = failed_attempt(event)
        if attempt is None:
            address = signed_in(event)
            if address is not None:
                self.watch.succeeded(address, self.clock())
            return
        verdict = self.watch.failed(attempt, self.clock())
        if verdict is not None:
            self._verdicts.append(verdict)
            self._changed.set()

    async def run(self) -> None:
        """Bans as verdicts come and lifts each ban when it ends, until cancelled."""
        await self.resolve_trunks()
        self._refuse_due = True  # lift the bans an earlier controller left
        await self._refuse()
        while True:
            await self._next_change()
            try:
                if self.clock() >= self._resolve_at:
                    await self.resolve_trunks()
                await self._apply(self.clock())
            except Exception:
                log.exception("SIP guard: a change of bans failed; carrying on")

    async def resolve_trunks(self) -> None:
        """Spare the addresses each named trunk has now; a name that fails keeps the addresses it had."""
        for host in self.trunk_hosts:
            if _is_address(host):
                continue
            try:
                self._resolved[host] = await self.resolve(host)
            except (OSError, ValueError) as exc:
                log.warning(
                    "SIP guard: trunk host %s not resolved (%s); its last addresses stay spared", host, exc
                )
        addresses = [host for host in self.trunk_hosts if _is_address(host)]
        addresses += [address for found in self._resolved.values() for address in found]
        self._trunks_unbanned += self.watch.set_trunks(addresses)  # banned before the name was resolved
        self._resolve_at = self.clock() + RESOLVE_SECONDS

    async def _next_change(self) -> None:
        """A new verdict, the end of the first ban or folded report, a retry, a look-up of the trunks, or a
        window gone by (to forget quiet addresses)."""
        wait = min(self.watch.policy.window, self._resolve_at - self.clock())
        for at in (self.watch.next_change(), self._retry_at):
            if at is not None:
                wait = min(wait, at - self.clock())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, wait)):
                await self._changed.wait()
        self._changed.clear()

    async def _apply(self, now: float) -> None:
        lifted = [*self._trunks_unbanned, *self.watch.lift(now)]
        self._trunks_unbanned = []
        verdicts, self._verdicts = [*self._verdicts, *self.watch.due(now)], []
        changed = bool(lifted) or any(verdict.until is not None for verdict in verdicts)
        if changed or (self._refuse_due and now >= (self._retry_at or 0.0)):
            await self._refuse()
        counts = {"failures_total": self.watch.failures_total, "bans_total": self.watch.bans_total}
        for verdict in verdicts:
            banned = verdict.until is not None
            log.warning(
                "SIP edge: %s failed %d times within %g s (%s)",
                verdict.address,
                verdict.failures,
                self.watch.policy.window,
                f"banned for {self.watch.policy.ban_seconds:g} s"
                if banned
                else f"not banned: {verdict.spared}",
                extra={"security": True},
            )
            told: dict[str, object] = {
                "type": "security.sip_banned" if banned else "security.sip_guessing",
                "address": verdict.address,
                "failures": verdict.failures,
                "accounts": list(verdict.accounts),
                "at": now,
                **counts,
            }
            await self.publish(
                {**told, "until": verdict.until} if banned else {**told, "reason": verdict.spared}
            )
        for address in lifted:
            log.info("SIP edge: the ban of %s ended", address)
            await self.publish({"type": "security.sip_ban_lifted", "address": address, "at": now})

    async def _refuse(self) -> None:
        """Have Asterisk refuse exactly the banned addresses; if it did not take them, try again later."""
        try:
            taken = await self.bans.refuse(list(self.watch.banned))
        except Exception:
            log.exception("SIP guard: the bans could not be written or reloaded; trying again")
            taken = False
        if taken:
            self._refuse_due, self._retry_at, self._retry_seconds = False, None, RETRY_SECONDS
            return
        self._refuse_due, self._retry_at = True, self.clock() + self._retry_seconds
        self._retry_seconds = min(self._retry_seconds * 2, RETRY_MAX_SECONDS)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
