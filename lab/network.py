"""A carrier that stops answering, as its SBC does when it fails: nftables drops every packet the
system sends to one of the lab's trunk ports, so no reply and no ICMP error comes back. Lab only; each
silence is undone on leaving, and ``Lab.up`` clears any a killed run left behind."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

NFT = "/usr/sbin/nft"
TABLE_PREFIX = "hotline_lab_silence_"


def _nft(*argv: str) -> str:
    return subprocess.run([NFT, *argv], check=True, capture_output=True, text=True, timeout=10).stdout


@contextmanager
def silenced(host: str, port: int) -> Iterator[None]:
    """UDP to ``host:port`` vanishes while inside."""
    table = f"{TABLE_PREFIX}{port}"
    _nft("add", "table", "inet", table)
    try:
        _nft("add", "chain", "inet", table, "out", "{ type filter hook output priority 0 ; policy accept ; }")
        _nft("add", "rule", "inet", table, "out", "ip", "daddr", host, "udp", "dport", str(port), "drop")
        yield
    finally:
        _nft("delete", "table", "inet", table)


def clear_silences(ports: Iterable[int]) -> list[str]:
    """Remove the silences a killed run left on ``ports``; returns their tables."""
    tables = {line.split()[-1] for line in _nft("list", "tables", "inet").splitlines()}
    left = sorted(tables & {f"{TABLE_PREFIX}{port}" for port in ports})
    for table in left:
        _nft("delete", "table", "inet", table)
    return left
