"""Who holds a port: the kernel's socket tables and each process's open files, as ``ss -p`` reads them.

Asterisk treats a failed AMI or SIP bind as a warning and runs on without that
listener, so the lab checks every port before it starts a process and every
listener after, and names what holds a port when it is not ours.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class Port:
    """A port the lab promises: what it is for, its protocol and number."""

    label: str
    proto: str  # "tcp" or "udp"
    number: int

    def __str__(self) -> str:
        return f"{self.proto} {self.number} ({self.label})"


def _socket_inodes(port: int, proto: str, listening_only: bool) -> set[int]:
    inodes: set[int] = set()
    for table in (PROC / "net" / proto, PROC / "net" / f"{proto}6"):
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port != port or (listening_only and proto == "tcp" and fields[3] != TCP_LISTEN):
                    continue
                inodes.add(int(fields[9]))
    inodes.discard(0)  # a TIME_WAIT socket belongs to nobody
    return inodes


def holders(port: int, proto: str, *, listening_only: bool = False) -> dict[int, str]:
    """The processes with a socket on ``port`` (pid to command name); TCP client sockets included
    unless ``listening_only``."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes(port, proto, listening_only)}
    found: dict[int, str] = {}
    if not wanted:
        return found
    for process in PROC.iterdir():
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (process / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        found[int(process.name)] = (process / "comm").read_text().strip()
                        break
    return found


def describe_holders(port: int, proto: str) -> str:
    found = holders(port, proto)
    if found:
        return ", ".join(f"pid {pid} ({name})" for pid, name in sorted(found.items()))
    return "a socket of no visible process" if _socket_inodes(port, proto, False) else "nothing"


def is_free(host: str, port: Port) -> bool:
    """Whether a server could bind ``port`` on ``host`` now (as a server binds: SO_REUSEADDR)."""
    kind = socket.SOCK_STREAM if port.proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if port.proto == "tcp":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port.number))
        except OSError:
            return False
    return True


def is_listening(pid: int, port: Port) -> bool:
    return pid in holders(port.number, port.proto, listening_only=True)
