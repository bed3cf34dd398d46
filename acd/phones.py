"""What the ACD learns from Asterisk's AMI events: an agent's phone turned free, busy or unregistered,
was answered, hung up. Pure, so it is tested against recorded events; the controller only queues what it
returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from hotline.acd.engine import PhoneStatus
from hotline.kernel.asterisk.channels import account_of


class PhoneChange(StrEnum):
    STATUS = "status"  # the device state changed: see ``status``
    ANSWERED = "answered"
    HUNG_UP = "hung_up"


#: Asterisk's device states with no contact to ring; every other state than NOT_INUSE is in use.
NO_CONTACT = frozenset({"UNAVAILABLE", "INVALID"})


@dataclass(frozen=True)
class PhoneNews:
    account: str
    change: PhoneChange
    status: PhoneStatus = PhoneStatus.FREE


def device_status(state: str) -> PhoneStatus:
    if state == "NOT_INUSE":
        return PhoneStatus.FREE
    return PhoneStatus.UNREGISTERED if state in NO_CONTACT else PhoneStatus.IN_USE


def phone_news(event: Mapping[str, object], is_agent: Callable[[str], bool]) -> PhoneNews | None:
    """The news in one AMI event about an agent's phone, or None."""
    if "Device" in event and "State" in event:  # DeviceStateChange, live or listed by DeviceStateList
        technology, _, account = str(event.get("Device", "")).partition("/")
        if technology.upper() != "PJSIP" or not is_agent(account):
            return None
        return PhoneNews(account, PhoneChange.STATUS, device_status(str(event.get("State"))))
    account = account_of(str(event.get("Channel", "")))
    if not is_agent(account):
        return None
    if event.get("Event") == "Newstate" and event.get("ChannelState") == "6":  # Up
        return PhoneNews(account, PhoneChange.ANSWERED)
    if event.get("Event") == "Hangup":
        return PhoneNews(account, PhoneChange.HUNG_UP)
    return None
