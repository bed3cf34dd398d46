"""Labs side by side on one host: lab number N has its own block of ports, its own Asterisk folders in the one
cached chroot and its own home (SQLite, Redis's data, logs, pid files), so N test workers each bring one up.

The blocks lie between the defaults of `hotline run` (2525 to 25070) and the ephemeral range (32768 up), where
a client socket may hold any port. Each block has two halves: the lab itself, and a spare lab a test may
start beside it (one whose port is taken, say).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIRST_PORT = 27000
BLOCK_PORTS = 400
HALF_PORTS = BLOCK_PORTS // 2
EPHEMERAL_FROM = 32768
#: How many labs fit below the ephemeral range.
MOST_LABS = (EPHEMERAL_FROM - FIRST_PORT) // BLOCK_PORTS

#: Each listener's place in a half block; the two RTP ranges take the rest of it.
LISTENERS = {
    "WEB_PORT": 0,
    "FASTAGI_PORT": 1,
    "AUDIOSOCKET_PORT": 2,
    "SMTP_PORT": 3,
    "REDIS_PORT": 4,
    "AMI_PORT": 5,
    "SIP_PORT": 6,
    "CARRIER_PORT": 7,
    "PSTN_BACKUP_TRUNK_PORT": 8,
    "PSTN_AMI_PORT": 9,
    "PSTN_PHONE_PORT": 10,
}
SOFTPHONE, IMAP, MAIL_RELAY, POSTGRES, LONE_REDIS = 11, 12, 13, 14, 15
RTP_FROM, PSTN_RTP_FROM, RTP_PORTS = 40, 120, 80


class BlockError(ValueError):
    """A lab number with no block below the ephemeral range."""


@dataclass(frozen=True)
class LabBlock:
    """Lab number ``number``'s ports and folders; ``spare`` is the second half of its block."""

    number: int
    spare: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.number < MOST_LABS:
            raise BlockError(
                f"lab {self.number}: only labs 0 to {MOST_LABS - 1} fit below port {EPHEMERAL_FROM}"
            )

    @property
    def name(self) -> str:
        return f"lab{self.number}{'-spare' if self.spare else ''}"

    def port(self, place: int) -> int:
        return FIRST_PORT + self.number * BLOCK_PORTS + (HALF_PORTS if self.spare else 0) + place

    @property
    def softphone_port(self) -> int:
        return self.port(SOFTPHONE)

    @property
    def imap_port(self) -> int:
        return self.port(IMAP)

    @property
    def mail_relay_port(self) -> int:
        """The deployment's mail relay, which a test plays to catch the notices sent."""
        return self.port(MAIL_RELAY)

    @property
    def postgres_port(self) -> int:
        return self.port(POSTGRES)

    @property
    def lone_redis_port(self) -> int:
        """A Redis of a test's own, apart from the lab's."""
        return self.port(LONE_REDIS)

    @property
    def instance_root(self) -> str:
        """The lab's folders inside the chroot (its Asterisks', its IMAP server's)."""
        return f"/var/lib/hotline-test/{self.name}"

    @property
    def scratch(self) -> str:
        """Where a test makes audio inside the chroot, apart from other labs'."""
        return f"{self.instance_root}/scratch"

    def environment(self, home: Path) -> dict[str, str]:
        """The HOTLINE_* settings that place this lab: its ports and folders (``home`` on the host)."""
        ports = {f"HOTLINE_{key}": str(self.port(place)) for key, place in LISTENERS.items()}
        carrier, backup = ports["HOTLINE_CARRIER_PORT"], ports["HOTLINE_PSTN_BACKUP_TRUNK_PORT"]
        return {
            **ports,
            "HOTLINE_RTP_START": str(self.port(RTP_FROM)),
            "HOTLINE_RTP_END": str(self.port(RTP_FROM + RTP_PORTS - 1)),
            "HOTLINE_PSTN_RTP_START": str(self.port(PSTN_RTP_FROM)),
            "HOTLINE_PSTN_RTP_END": str(self.port(PSTN_RTP_FROM + RTP_PORTS - 1)),
            # Two carrier trunks, tried in this order for outbound calls (the PSTN plays both carriers); the
            # second registers.
            "HOTLINE_TRUNKS": f"carrier=127.0.0.1:{carrier},backup=hotline@127.0.0.1:{backup}",
            "HOTLINE_ASTERISK_INSTANCE_DIR": f"{self.instance_root}/sut",
            "HOTLINE_PSTN_INSTANCE_DIR": f"{self.instance_root}/pstn",
            "HOTLINE_HOME": str(home / "var"),
            "HOTLINE_CONFIG_FILE": str(home / "hotline.env"),
        }
