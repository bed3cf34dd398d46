"""The carrier trunks, in the order outbound calls try them.

A centre buys lines from two carriers (or two SBCs of one) so that a carrier's
outage does not silence 12345's callbacks, transfers and the 110 linkage. Each
trunk is identified by address (IP authentication) or registers with a user
name and password the carrier gave. Outbound calls go out through the first
trunk that can carry them; the dialplan tries the next one only when a trunk
cannot (unreachable by its qualify, or it refused the call), never after the
callee was busy or did not answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hotline.kernel.runtime.config import TRUNK_PASSWORD_PREFIX

TRUNK_NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")
HOST = re.compile(r"[A-Za-z0-9.-]+")
#: Names the system's own SIP accounts and sections use; a trunk may not take one.
RESERVED_NAMES = frozenset({"global", "transport-udp", "account-template"})


class TrunkSpecError(ValueError):
    """The trunk list is malformed; the message names the entry."""


@dataclass(frozen=True)
class Trunk:
    name: str
    host: str
    port: int
    #: The user name a registering trunk logs in with; empty: identified by its address.
    username: str = ""
    password: str = ""

    @property
    def registers(self) -> bool:
        return bool(self.username)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def auth_name(self) -> str:
        """Its credentials' name in pjsip.conf, which changes with the password: Asterisk re-creates a
        registration whose settings changed when it reloads, so a new password logs in at once, not at
        the next refresh (a changed auth section alone would wait for it)."""
        return f"{self.name}-auth-{hashlib.sha256(self.password.encode()).hexdigest()[:8]}"


def password_key(name: str) -> str:
    """The setting that holds a registering trunk's password (never in the trunk list itself)."""
    return f"{TRUNK_PASSWORD_PREFIX}{name.upper().replace('-', '_')}"


def parse_trunks(spec: str, passwords: Mapping[str, str], default: Trunk) -> tuple[Trunk, ...]:
    """``"carrier=10.0.0.5:5060, backup=hotline@sip.example.cn:5060"`` -> trunks in order; an empty
    list is the one ``default`` trunk. A registering trunk needs its password in ``passwords``."""
    trunks: dict[str, Trunk] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, equals, target = (part.strip() for part in item.partition("="))
        user, at, address = target.rpartition("@")
        host, colon, port = address.rpartition(":")
        if not (equals and colon and TRUNK_NAME.fullmatch(name) and HOST.fullmatch(host)):
            raise TrunkSpecError(f"trunk {item!r} must be NAME=HOST:PORT or NAME=USER@HOST:PORT")
        if not (port.isascii() and port.isdigit() and 0 < int(port) <= 65535):
            raise TrunkSpecError(f"trunk {name}: {port!r} is not a port")
        if at and not re.fullmatch(r"[A-Za-z0-9._+-]+", user):
            raise TrunkSpecError(f"trunk {name}: user name {user!r} has characters SIP would mangle")
        if name in trunks or name in RESERVED_NAMES:
            raise TrunkSpecError(f"trunk {name} is named twice, or takes a name the system uses")
        password = passwords.get(password_key(name), "")
        if at and not password:
            raise TrunkSpecError(
                f"trunk {name} registers as {user}: set its password in {password_key(name)}"
            )
        trunks[name] = Trunk(name, host, int(port), user, password)
    return tuple(trunks.values()) or (default,)
