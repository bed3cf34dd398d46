"""Who is acting: the roles of the platform and of the units, and the actor a request runs as.

Every capability names people this way (tickets, seats, supervision, the API's
authentication), so it lives in the kernel. ``Labelled`` gives an enum the
Chinese word users see beside its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Labelled(StrEnum):
    """An enum whose members carry the Chinese word users see."""

    label: str

    def __new__(cls, code: str, label: str) -> Labelled:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def parse(cls, text: str) -> Labelled:
        """Accept the code (``complaint``) or the Chinese label (``投诉``)."""
        for member in cls:
            if text in (member.value, member.label):
                return member
        choices = ", ".join(f"{m.value}/{m.label}" for m in cls)
        raise ValueError(f"unknown {cls.__name__} {text!r}; expected one of {choices}")


class Role(Labelled):
    AGENT = "agent", "话务员"
    SUPERVISOR = "supervisor", "班长"
    UNIT = "unit", "承办单位"
    ADMIN = "admin", "管理员"
    #: Quality staff: hear and search the recordings, read tickets; change nothing.
    QUALITY = "quality", "质检员"


PLATFORM_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    unit: str | None = None

    def __post_init__(self) -> None:
        if (self.role == Role.UNIT) != bool(self.unit):
            raise ValueError("a unit user belongs to exactly one unit; platform users to none")
