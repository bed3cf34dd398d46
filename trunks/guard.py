"""The SIP edge's guard: hears Asterisk's security events, has Asterisk refuse an address that guesses
passwords until its ban ends, and tells supervisors of each ban and of its end.

The rules are pure (``trunks/guessing.py``); the ban is Asterisk's own ACL (``trunks/acl.py``). Every
event says how many failed attempts and bans there were since the controller started, for the floor and
for whatever reads the counts later. A controller that starts lifts the bans a stopped one left: it
cannot know when they were to end, and a guesser who is still at it is banned again within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from kernel.runtime.config import ConfigError, Settings
from kernel.runtime.events import Publish
from trunks.acl import AclBans
from trunks.guessing import BanPolicy, GuessWatch, Verdict, failed_attempt

log = logging.getLogger(__name__)


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
        spared: Iterable[str],
        bans: AclBans,
        publish: Publish,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``spared``: addresses never banned (the carrier trunks')."""
        self.watch = GuessWatch(policy, spared)
        self.bans, self.publish, self.clock = bans, publish, clock
        self._verdicts: list[Verdict] = []
        self._changed = asyncio.Event()

    def hear(self, event: Mapping[str, object]) -> None:
        """Every AMI event, in order; only failed attempts at the SIP edge count."""
        attempt = failed_attempt(event)
        if attempt is None:
            return
        verdict = self.watch.failed(attempt, self.clock())
        if verdict is not None:
            self._verdicts.append(verdict)
            self._changed.set()

    async def run(self) -> None:
        """Bans as verdicts come and lifts each ban when it ends, until cancelled."""
        try:
            await self.bans.refuse(())
        except Exception:
            log.exception("SIP bans left by an earlier controller could not be lifted")
        while True:
            await self._next_change()
            try:
                await self._apply(self.clock())
            except Exception:
                log.exception("SIP guard: a change of bans failed; carrying on")

    async def _next_change(self) -> None:
        """A new verdict, the end of the first ban, or a window gone by (to forget quiet addresses)."""
        first = self.watch.next_change()
        wait = (
            self.watch.policy.window if first is None else min(first - self.clock(), self.watch.policy.window)
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, wait)):
                await self._changed.wait()
        self._changed.clear()

    async def _apply(self, now: float) -> None:
        lifted = self.watch.lift(now)
        verdicts, self._verdicts = self._verdicts, []
        if lifted or any(verdict.until is not None for verdict in verdicts):
            await self.bans.refuse(list(self.watch.banned))
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
                else "a trunk's address: not banned",
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
            await self.publish({**told, "until": verdict.until} if banned else told)
        for address in lifted:
            log.info("SIP edge: the ban of %s ended", address)
            await self.publish({"type": "security.sip_ban_lifted", "address": address, "at": now})
