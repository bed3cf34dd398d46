"""One Asterisk instance in the chroot: its own tree, ports, process and CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.lab.processes import ManagedProcess

SUBDIRS = ("etc", "lib", "keys", "spool", "run", "log", "cache", "recordings", "sounds/hotline")
#: Asterisk's files are its group's alone, as the rendered configuration is: its log names callers and
#: accounts. Asterisk sets no mode of its own; it takes its parent's umask (deploy/asterisk/entrypoint.sh).
ASTERISK_UMASK = 0o027


class InstanceError(RuntimeError):
    """An instance did not come up; the message points at its log."""


def chroot_user_ids(root: Path, user: str = "asterisk") -> tuple[int, int]:
    """The uid and gid of ``user`` inside the chroot (not the host's)."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise InstanceError(f"no {user} user in {root}")


def run_in_chroot(root: Path, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root), *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass(frozen=True)
class AsteriskInstance:
    name: str
    root: Path
    instance_dir: str
    state_dir: Path

    @property
    def host_dir(self) -> Path:
        return self.root / self.instance_dir.lstrip("/")

    @property
    def conf(self) -> str:
        return f"{self.instance_dir}/etc/asterisk.conf"

    @property
    def process(self) -> ManagedProcess:
        argv = (
            "chroot",
            str(self.root),
            "/usr/sbin/asterisk",
            "-f",
            "-U",
            "asterisk",
            "-G",
            "asterisk",
            "-C",
            self.conf,
        )
        return ManagedProcess(f"asterisk-{self.name}", argv, self.state_dir, self.conf, umask=ASTERISK_UMASK)

    def prepare(self, render: Callable[[Path], object], fresh: bool, keep_contacts: bool = False) -> None:
        """Render the config; on a fresh start also wipe astdb (it remembers old contacts), unless the
        phones whose contacts it holds run on."""
        if fresh:
            if not keep_contacts:
                shutil.rmtree(self.host_dir / "lib", ignore_errors=True)
            shutil.rmtree(self.host_dir / "run", ignore_errors=True)
        for sub in SUBDIRS:
            (self.host_dir / sub).mkdir(parents=True, exist_ok=True)
        render(self.host_dir / "etc")
        uid, gid = chroot_user_ids(self.root)
        for path in [self.host_dir, *self.host_dir.rglob("*")]:
            os.lchown(path, uid, gid)
        # Logs an earlier Asterisk wrote with a looser umask are tightened too (Asterisk appends to them).
        logs = self.host_dir / "log"
        logs.chmod(0o750)
        for path in logs.iterdir():
            if path.is_file():
                path.chmod(0o640)

    def cli(self, command: str, timeout: float = 15) -> str:
        result = run_in_chroot(self.root, ["/usr/sbin/asterisk", "-C", self.conf, "-rx", command], timeout)
        if result.returncode != 0:
            raise InstanceError(
                f"asterisk {self.name}: {command!r} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
        return result.stdout

    def wait_booted(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.pid() is None:
                raise InstanceError(
                    f"asterisk {self.name} exited; see {self.process.log_file} and {self.host_dir}/log"
                )
            try:
                self.cli("core waitfullybooted", timeout=5)
                return
            except (InstanceError, subprocess.TimeoutExpired):
                time.sleep(0.1)
        raise InstanceError(
            f"asterisk {self.name} did not boot in {timeout}s; see {self.host_dir}/log/messages.log"
        )
