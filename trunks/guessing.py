"""Password guessing at the SIP edge, as pure rules: which of Asterisk's security events are failed
attempts, when an address has failed often enough to be banned, and when its ban ends.

Asterisk answers a wrong digest at once and for ever (about 5,500 guesses a second from one source). Its
security events (AMI class ``security``) name each failure and where it came from. An address that fails
``failures`` times within ``window`` seconds is banned for ``ban_seconds``. Some addresses never are, since
a ban can be turned against whoever uses them: a carrier trunk's (a guesser who forges the carrier's address
as its UDP source would cut the carrier off), a trusted network's (the office NAT all agents share: one
phone with an old password would ban every seat), and one that signed in within the window. Asterisk raises
InvalidAccountID for any request it cannot place, without a round trip, so a forged source makes one with a
single packet: those count ``unknown_account_factor`` times less than a wrong password.

A spared address that keeps failing is told once per window, the failures in between folded into the
next report: a flood makes a few reports whose counts add up, not one per ``failures``.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
#: Characters kept of an account's name (the guesser chooses it): printable ones only.
MAX_ACCOUNT_CHARS = 64
#: The security event of a correct answer: its address is vouched for over the window.
SUCCESSFUL_AUTH = "SuccessfulAuth"
UNKNOWN_ACCOUNT = "InvalidAccountID"
#: Spared addresses whose reports are folded at once; further ones are folded together under ``OTHERS``.
MAX_FOLDED = 100
OTHERS = "*"
#: Why a verdict bans nobody.
TRUNK, TRUSTED, SIGNED_IN = "trunk", "trusted network", "signed in"


@dataclass(frozen=True)
class FailedAttempt:
    address: str
    kind: str
    account: str


def failed_attempt(event: Mapping[str, object]) -> FailedAttempt | None:
    """The failed attempt an AMI event reports, or None. ``RemoteAddress`` reads ``IPV4/UDP/192.0.2.7/5060``;
    only a well-formed address is returned, since it goes into Asterisk's ACL. The account is cut to
    ``MAX_ACCOUNT_CHARS`` printable characters: it goes into events and the log."""
    kind = str(event.get("Event", ""))
    if kind not in FAILED_ATTEMPTS:
        return None
    address = sip_source(event)
    if address is None:
        return None
    account = "".join(c for c in str(event.get("AccountID", "")) if c.isprintable())[:MAX_ACCOUNT_CHARS]
    return FailedAttempt(address, kind, account)


def signed_in(event: Mapping[str, object]) -> str | None:
    """The address an AMI event says answered a SIP challenge correctly, or None."""
    return sip_source(event) if event.get("Event") == SUCCESSFUL_AUTH else None


def sip_source(event: Mapping[str, object]) -> str | None:
    if event.get("Service") != SIP_SERVICE:
        return None
    parts = str(event.get("RemoteAddress", "")).split("/")
    if len(parts) < 4:
        return None
    try:
        return str(ipaddress.ip_address(parts[2]))
    except ValueError:
        return None


def networks(entries: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``10.1.0.0/16`` or ``192.0.2.7`` as networks; ValueError names the entry that is neither."""
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {entry!r}") from None
    return tuple(found)


@dataclass(frozen=True)
class BanPolicy:
    failures: int = 10
    window: float = 60.0
    ban_seconds: float = 900.0
    #: An unknown account bans after ``failures`` times this many (one forged packet makes one).
    unknown_account_factor: int = 5

    def __post_init__(self) -> None:
        if self.failures < 1 or self.window <= 0 or self.ban_seconds <= 0 or self.unknown_account_factor < 1:
            raise ValueError("a ban needs at least one failure, a window and a length")

    def limit(self, kind: str) -> int:
        """Failures of this kind within the window that make a verdict."""
        return self.failures * (self.unknown_account_factor if kind == UNKNOWN_ACCOUNT else 1)


@dataclass(frozen=True)
class Verdict:
    """An address crossed the line: ``failures`` within the window (or folded since its last report),
    trying ``accounts``; banned until ``until``, or ``None`` with the ``spared`` reason (``TRUNK``,
    ``TRUSTED``, ``SIGNED_IN``) when it is not banned."""

    address: str
    failures: int
    accounts: tuple[str, ...]
    until: float | None
    spared: str | None = None


@dataclass
class _Fold:
    """A spared address's failures since its last report."""

    start: float
    spared: str
    failures: int = 0
    accounts: list[str] = field(default_factory=list)


class GuessWatch:
    """Counts each address's failed attempts in a sliding window, holds the bans and folds the reports of
    spared addresses; counts everything."""

    def __init__(self, policy: BanPolicy, trunks: Iterable[str] = (), trusted: Iterable[str] = ()) -> None:
        """``trunks``: the carrier trunks' addresses; ``trusted``: networks (CIDR) or addresses."""
        self.policy = policy
        self.trunks = frozenset(trunks)
        self.trusted = networks(trusted)
        self.banned: dict[str, float] = {}
        self.failures_total = 0
        self.bans_total = 0
        self._recent: dict[tuple[str, bool], deque[float]] = {}  # (address, unknown account) -> times
        self._accounts: dict[str, list[str]] = {}
        self._signed_in: dict[str, float] = {}
        self._folds: dict[str, _Fold] = {}

    def succeeded(self, address: str, now: float) -> None:
        """An address answered a challenge correctly: its failures ban nothing for a window."""
        self._signed_in.pop(address, None)
        if len(self._signed_in) >= MAX_FOLLOWED:
            del self._signed_in[next(iter(self._signed_in))]
        self._signed_in[address] = now

    def spared(self, address: str, now: float) -> str | None:
        """Why this address is never banned now, or None."""
        if address in self.trunks:
            return TRUNK
        ip = ipaddress.ip_address(address)
        if any(ip in network for network in self.trusted):
            return TRUSTED
        vouched = self._signed_in.get(address)
        if vouched is not None and now - vouched <= self.policy.window:
            return SIGNED_IN
        return None

    def failed(self, attempt: FailedAttempt, now: float) -> Verdict | None:
        """Note one failed attempt; a verdict when its address has now failed too often."""
        self.failures_total += 1
        address = attempt.address
        if address in self.banned:  # sent before the ban took hold
            return None
        if address in self._folds and self.spared(address, now):  # told within the window: folded
            self._fold(address, 1, [attempt.account])
            return None
        key = (address, attempt.kind == UNKNOWN_ACCOUNT)
        limit = self.policy.limit(attempt.kind)
        times = self._recent.get(key)
        if times is None:
            if len(self._recent) >= MAX_FOLLOWED:
                self._forget(next(iter(self._recent))[0])
            times = self._recent[key] = deque(maxlen=limit)
        times.append(now)
        accounts = self._accounts.setdefault(address, [])
        if attempt.account not in accounts and len(accounts) < MAX_ACCOUNTS_NAMED:
            accounts.append(attempt.account)
        if len(times) < limit or now - times[0] > self.policy.window:
            return None
        failures = len(times)
        self._forget(address)
        spared = self.spared(address, now)
        if spared is None:
            if len(self.banned) >= MAX_BANNED:
                del self.banned[min(self.banned, key=self.banned.__getitem__)]
            until = self.banned[address] = now + self.policy.ban_seconds
            self.bans_total += 1
            return Verdict(address, failures, tuple(accounts), until)
        fold_key = address if len(self._folds) < MAX_FOLDED else OTHERS
        if fold_key in self._folds:  # many spared addresses at once: one report for the rest
            self._fold(fold_key, failures, accounts)
            return None
        self._folds[fold_key] = _Fold(now, spared)
        return Verdict(address, failures, tuple(accounts), None, spared)

    def due(self, now: float) -> list[Verdict]:
        """The folded reports of spared addresses whose window has ended; a window with failures folded in
        starts the next one, a quiet one closes."""
        reports = []
        for address, fold in list(self._folds.items()):
            if now - fold.start < self.policy.window:
                continue
            if fold.failures:
                reports.append(Verdict(address, fold.failures, tuple(fold.accounts), None, fold.spared))
                self._folds[address] = _Fold(now, fold.spared)
            else:
                del self._folds[address]
        return reports

    def lift(self, now: float) -> list[str]:
        """End the bans whose time is up, and forget addresses that have not failed within the window."""
        ended = sorted(address for address, until in self.banned.items() if until <= now)
        for address in ended:
            del self.banned[address]
        for address in {a for (a, _), times in self._recent.items() if now - times[-1] > self.policy.window}:
            self._forget(address)
        for address in [a for a, at in self._signed_in.items() if now - at > self.policy.window]:
            del self._signed_in[address]
        return ended

    def set_trunks(self, addresses: Iterable[str]) -> list[str]:
        """The trunks' addresses from now on (a named trunk resolved again); bans on them end now."""
        self.trunks = frozenset(addresses)
        ended = sorted(self.trunks & self.banned.keys())
        for address in ended:
            del self.banned[address]
        return ended

    def next_change(self) -> float | None:
        """When the first ban ends or the first folded report is due, if any."""
        ends = [*self.banned.values(), *(fold.start + self.policy.window for fold in self._folds.values())]
        return min(ends, default=None)

    def _fold(self, key: str, failures: int, accounts: Iterable[str]) -> None:
        fold = self._folds[key]
        fold.failures += failures
        for account in accounts:
            if account not in fold.accounts and len(fold.accounts) < MAX_ACCOUNTS_NAMED:
                fold.accounts.append(account)

    def _forget(self, address: str) -> None:
        self._recent.pop((address, False), None)
        self._recent.pop((address, True), None)
        self._accounts.pop(address, None)
