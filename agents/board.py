"""What each agent's phone is doing, from Asterisk's device states.

One writer: the controller's event loop applies AMI events and offers calls
here, with no ``await`` between choosing an agent and reserving them, so two
calls are never offered to one agent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from acd.routing import AgentView, longest_idle

AVAILABLE_STATES = frozenset({"NOT_INUSE"})


@dataclass
class AgentPhone:
    account: str
    device_state: str = "UNAVAILABLE"
    idle_since: float = 0.0
    offered_call: str = ""

    @property
    def available(self) -> bool:
        return self.device_state in AVAILABLE_STATES and not self.offered_call


class AgentBoard:
    def __init__(self, accounts: Iterable[str], clock: Callable[[], float]) -> None:
        self._clock = clock
        self.phones = {account: AgentPhone(account) for account in accounts}

    def apply_device_state(self, event: Mapping[str, object]) -> None:
        """Apply a ``DeviceStateChange`` (live or from ``DeviceStateList``)."""
        device = str(event.get("Device", ""))
        technology, _, account = device.partition("/")
        phone = self.phones.get(account) if technology.upper() == "PJSIP" else None
        if phone is None:
            return
        state = str(event.get("State", "UNKNOWN"))
        if state in AVAILABLE_STATES and phone.device_state not in AVAILABLE_STATES:
            phone.idle_since = self._clock()
        phone.device_state = state

    def offer(self, call_id: str, exclude: Iterable[str] = ()) -> str | None:
        """Choose and reserve an agent for ``call_id``; None when nobody can take it."""
        skip = set(exclude)
        views = [
            AgentView(phone.account, phone.available, phone.idle_since)
            for phone in self.phones.values()
            if phone.account not in skip
        ]
        account = longest_idle(views)
        if account is not None:
            self.phones[account].offered_call = call_id
        return account

    def release(self, account: str) -> None:
        """The offer ended (answered and finished, or not answered)."""
        phone = self.phones.get(account)
        if phone is not None:
            phone.offered_call = ""
            phone.idle_since = self._clock()
