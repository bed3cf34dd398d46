"""Where an agent may send a caller, and the keys Asterisk's transfer listens for. No I/O.

A target is a number (a department hotline such as 12315, or 110), one
colleague (``agent:1002``) or a skill group (``skill:12333``). Numbers are
consulted through Asterisk's attended transfer on the agent's leg: the caller
waits on hold, keeps their own flow and recording, and is never dropped; the
keys below are the ones ``asterisk-conf/features.conf`` gives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hotline.kernel.api.identity import Labelled
from hotline.kernel.asterisk.channels import LiveCall, account_of

#: The dialplan context that dials a consulted number (asterisk-conf/extensions.conf).
TRANSFER_CONTEXT = "hotline-transfer"
#: Received on the agent's leg while consulting: all three in one bridge (features.conf atxferthreeway).
THREE_WAY_KEYS = "*3"
#: Sent by the agent's phone while consulting: back to the caller (features.conf atxferabort).
ABORT_KEYS = "*1"
#: Dialled after ``*8`` from the agent's phone: a colleague's account or a skill follows (00 1002, 00 12333),
#: handed to the ACD like ``agent:``/``skill:``. No number the dialling plan allows begins so.
HANDBACK_PREFIX = "00"
#: What the dialplan tells the controller of such a dial (asterisk-conf/extensions.conf).
HANDBACK_EVENT = "HotlineHandback"
#: 国办发〔2022〕12号: the linkage numbers an agent reaches with one key.
EMERGENCY_NUMBERS = ("110", "119", "120", "122")
NUMBER = re.compile(r"[0-9]{3,20}")
ACCOUNT = re.compile(r"[0-9A-Za-z_.-]{1,32}")


class TransferMode(Labelled):
    BLIND = "blind", "直接转接"
    ATTENDED = "attended", "咨询后转接"


class LinkageMode(Labelled):
    TRANSFER = "transfer", "一键转接"
    THREE_WAY = "three-way", "三方通话"


class TargetError(ValueError):
    """The target is not a number, ``agent:<account>`` or ``skill:<skill>``."""


@dataclass(frozen=True)
class Target:
    number: str = ""
    agent: str = ""
    skill: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        kind, colon, value = text.partition(":")
        if not colon and NUMBER.fullmatch(text):
            return cls(number=text)
        if kind == "agent" and ACCOUNT.fullmatch(value):
            return cls(agent=value)
        if kind == "skill" and ACCOUNT.fullmatch(value):
            return cls(skill=value)
        raise TargetError("须为号码（如 12315）、agent:坐席工号 或 skill:技能组")

    def __str__(self) -> str:
        return self.number or (f"agent:{self.agent}" if self.agent else f"skill:{self.skill}")


@dataclass(frozen=True)
class Leg:
    channel: str
    role: str  # caller, agent, department (a consulted number), or other
    party: str  # the caller's number, the agent's account, the department's number

    def view(self) -> dict[str, str]:
        return {"channel": self.channel, "role": self.role, "party": self.party}


def consulted_number(channel: str) -> str:
    """``Local/12315@hotline-transfer-00000001;2`` -> ``12315``; "" for any other channel."""
    technology, _, rest = channel.partition("/")
    number, at, context = rest.partition("@")
    return number if technology == "Local" and at and context.startswith(f"{TRANSFER_CONTEXT}-") else ""


def legs(call: LiveCall, is_agent: Callable[[str], bool], departments: Mapping[str, str]) -> list[Leg]:
    """The call's channels as people: the caller, the agents, and the departments (``departments`` maps
    the leg dialled to a consulted number to that number). A consult's Local pair is plumbing, not shown."""
    found = []
    for channel in sorted(call.channels):
        account = account_of(channel)
        if channel == call.caller_channel:
            found.append(Leg(channel, "caller", call.caller_number))
        elif channel in departments:
            found.append(Leg(channel, "department", departments[channel]))
        elif consulted_number(channel):
            continue
        elif account and is_agent(account):
            found.append(Leg(channel, "agent", account))
        else:
            found.append(Leg(channel, "other", ""))
    return found
