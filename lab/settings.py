"""The lab's own settings, beside the system's: its second Asterisk, which plays carrier and phones, and its
chroot. Read from the same environment and local file by the kernel's loader (``load_settings``), so the
lab's secrets are generated and kept as the system's are, and its ports meet the same checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from hotline.kernel.runtime.config import ConfigError, Settings, load_settings, setting
from hotline.lab.chroot import DEFAULT_CACHE


@dataclass(frozen=True)
class LabSettings(Settings):
    """The system's settings and the lab's: the lab runs the system too (``hotline run``)."""

    #: The lab's PSTN listens as the carrier (carrier_port) and the phones on this host, beside the system.
    LISTEN_PORTS: ClassVar[tuple[str, ...]] = (
        *Settings.LISTEN_PORTS,
        "carrier_port",
        "pstn_backup_trunk_port",
        "pstn_ami_port",
        "pstn_phone_port",
    )
    PORT_RANGES: ClassVar[tuple[tuple[str, str], ...]] = (
        *Settings.PORT_RANGES,
        ("pstn_rtp_start", "pstn_rtp_end"),
    )

    pstn_ami_port: int = setting(
        25038,
        "The AMI port of the lab's second Asterisk (the PSTN), which plays the carriers and the phones.",
        group="The lab (hotline run, the lab tests, the benchmarks)",
    )
    pstn_ami_secret: str = setting("", "The PSTN's AMI password (its user is lab).", generated="token")
    pstn_phone_port: int = setting(
        25070, "The PSTN's SIP port for the lab's phones, which register to the system."
    )
    pstn_backup_trunk_port: int = setting(
        25062, "The PSTN's SIP port as the second carrier trunk, for outbound failover."
    )
    pstn_rtp_start: int = setting(20000, "The first port of the PSTN's RTP range.")
    pstn_rtp_end: int = setting(20999, "The last port of the PSTN's RTP range.")
    pstn_instance_dir: str = setting(
        "/var/lib/hotline/pstn", "The PSTN's own folder as it sees it: its recordings and sounds."
    )
    lab_phones: tuple[str, ...] = setting(
        ("1001", "1002", "1003", "9001"),
        "The accounts whose phones the PSTN plays; each is an agent or supervisor.",
    )
    chroot_cache: Path = setting(  # noqa: RUF009 (setting() is field(): the default is made once)
        DEFAULT_CACHE, "Where the Debian sid chroot with Asterisk is built and kept."
    )

    def __post_init__(self) -> None:
        """On one host, the lab's two Asterisks, Redis and the controller each need ports of their own: two
        that share one would fail to bind at `lab up`, the second with only a warning in Asterisk's log.
        Port 0 (any free one, as tests ask) clashes with nothing."""
        spans = [span for span in self.listeners() if span[1]]
        for number, (label, first, last) in enumerate(spans):
            for other, low, high in spans[:number]:
                if first <= high and last >= low:
                    raise ConfigError(f"{label} clashes with {other}: the lab runs both on one host")


def load_lab_settings(environ: Mapping[str, str] | None = None) -> LabSettings:
    """The lab's settings, from the environment and the local file (``load_settings``)."""
    return load_settings(environ, kind=LabSettings)
