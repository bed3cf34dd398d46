"""Password guessing at the SIP edge, as pure rules: which of Asterisk's security events are failed
attempts, when an address has failed often enough to be banned, and when its ban ends.

Asterisk answers a wrong digest at once and for ever (about 5,500 guesses a second from one source). Its
security events (AMI class ``security``) name each failure and where it came from. An address that fails
``failures`` times within ``window`` seconds is banned for ``ban_seconds``. A carrier trunk's address
never is: a guesser who forges the carrier's address as its UDP source would otherwise cut the carrier off.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Asterisk's security events that are a failed attempt to authenticate (res_pjsip names
#: ChallengeResponseFailed for a wrong answer, InvalidAccountID for a name no endpoint has).
FAILED_ATTEMPTS = frozenset({"ChallengeResponseFailed", "InvalidAccountID", "InvalidPassword"})
#: Only the SIP edge's failures count: AMI's own (a mistyped secret on the operator's host) ban nothing.
SIP_SERVICE = "PJSIP"
#: Addresses followed at once; beyond it the one followed longest is forgotten (a spoofing flood's
#: fresh sources cannot grow the table).
MAX_FOLLOWED = 10_000
#: Bans held at once; beyond it the ban that would end first ends now, so Asterisk's ACL stays short.
MAX_BANNED = 1_000
#: Accounts named in a ban's report: what was tried, not a list an attacker can make long.
MAX_ACCOUNTS_NAMED = 10


@dataclass(frozen=True)
class FailedAttempt:
    address: str
    kind: str
    account: str


def failed_attempt(event: Mapping[str, object]) -> FailedAttempt | None:
    """The failed attempt an AMI event reports, or None. ``RemoteAddress`` reads ``IPV4/UDP/192.0.2.7/5060``;
    only a well-formed address is returned, since it goes into Asterisk's ACL."""
    kind = str(event.get("Event", ""))
    if kind not in FAILED_ATTEMPTS or event.get("Service") != SIP_SERVICE:
        return None
    parts = str(event.get("RemoteAddress", "")).split("/")
    if len(parts) < 4:
        return None
    try:
        address = str(ipaddress.ip_address(parts[2]))
    except ValueError:
        return None
    return FailedAttempt(address, kind, str(event.get("AccountID", "")))


@dataclass(frozen=True)
class BanPolicy:
    failures: int = 10
    window: float = 60.0
    ban_seconds: float = 900.0

    def __post_init__(self) -> None:
        if self.failures < 1 or self.window <= 0 or self.ban_seconds <= 0:
            raise ValueError("a ban needs at least one failure, a window and a length")


@dataclass(frozen=True)
class Verdict:
    """An address crossed the line: ``failures`` within the window, trying ``accounts``; banned until
    ``until``, or ``None`` when it is an address that is never banned."""

    address: str
    failures: int
    accounts: tuple[str, ...]
    until: float | None


class GuessWatch:
    """Counts each address's failed attempts in a sliding window and holds the bans; counts everything."""

    def __init__(self, policy: BanPolicy, spared: Iterable[str] = ()) -> None:
        self.policy = policy
        self.spared = frozenset(spared)
        self.banned: dict[str, float] = {}
        self.failures_total = 0
        self.bans_total = 0
        self._recent: dict[str, deque[float]] = {}
        self._accounts: dict[str, list[str]] = {}

    def failed(self, attempt: FailedAttempt, now: float) -> Verdict | None:
        """Note one failed attempt; a verdict when its address has now failed too often."""
        self.failures_total += 1
        address = attempt.address
        if address in self.banned:  # sent before the ban took hold
            return None
        times = self._recent.get(address)
        if times is None:
            if len(self._recent) >= MAX_FOLLOWED:
                self._forget(next(iter(self._recent)))
            times = self._recent[address] = deque(maxlen=self.policy.failures)
        times.append(now)
        accounts = self._accounts.setdefault(address, [])
        if attempt.account not in accounts and len(accounts) < MAX_ACCOUNTS_NAMED:
            accounts.append(attempt.account)
        if len(times) < self.policy.failures or now - times[0] > self.policy.window:
            return None
        self._forget(address)
        until = None
        if address not in self.spared:
            if len(self.banned) >= MAX_BANNED:
                del self.banned[min(self.banned, key=self.banned.__getitem__)]
            until = self.banned[address] = now + self.policy.ban_seconds
            self.bans_total += 1
        return Verdict(address, len(times), tuple(accounts), until)

    def lift(self, now: float) -> list[str]:
        """End the bans whose time is up, and forget addresses that have not failed within the window."""
        ended = sorted(address for address, until in self.banned.items() if until <= now)
        for address in ended:
            del self.banned[address]
        for address in [a for a, times in self._recent.items() if now - times[-1] > self.policy.window]:
            self._forget(address)
        return ended

    def next_change(self) -> float | None:
        """When the first ban ends, if any is held."""
        return min(self.banned.values(), default=None)

    def _forget(self, address: str) -> None:
        self._recent.pop(address, None)
        self._accounts.pop(address, None)
