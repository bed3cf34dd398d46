"""A real IMAP server for the mailbox tests: Dovecot from the lab's chroot, one user, one Maildir, loopback.

The deployment's mail server is played by Dovecot (Debian 12's host has one
too, but its package would start a system service on every interface; the
chroot's is started only here). Mail is delivered by writing it into the
Maildir, as a local delivery agent does.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.lab.lab import wait_for_port
from hotline.lab.processes import ManagedProcess

#: The chroot's unprivileged user owns the mail (Dovecot refuses to serve mail as root).
MAIL_UID = MAIL_GID = 65534
CONFIG = """\
# Rendered by lab/imap.py for the tests (Dovecot 2.4 syntax): loopback only, plain login on loopback.
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
listen = 127.0.0.1
protocols = imap
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
first_valid_uid = {uid}
mail_driver = maildir
mail_home = {home}/mail/%{{user}}
mail_path = ~/Maildir
namespace inbox {{
  inbox = yes
}}
passdb passwd-file {{
  passwd_file_path = {home}/users
  default_password_scheme = PLAIN
}}
userdb static {{
  fields {{
    uid = {uid}
    gid = {gid}
    home = {home}/mail/%{{user}}
  }}
}}
service imap-login {{
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
_serial = itertools.count()


@dataclass(frozen=True)
class ImapServer:
    root: Path  # the chroot
    home: str  # the server's folder, as the chroot sees it
    port: int
    state_dir: Path  # pid file and log, on the host

    def _host(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def process(self) -> ManagedProcess:
        conf = f"{self.home}/dovecot.conf"
        argv = ("chroot", str(self.root), "/usr/sbin/dovecot", "-F", "-c", conf)
        return ManagedProcess("dovecot", argv, self.state_dir, conf)

    def start(self, user: str, password: str) -> None:
        self.stop()
        home = self._host(self.home)
        shutil.rmtree(home, ignore_errors=True)
        for folder in ("run", "state", f"mail/{user}/Maildir/new", f"mail/{user}/Maildir/cur"):
            (home / folder).mkdir(parents=True)
        (home / f"mail/{user}/Maildir/tmp").mkdir()
        for path in (home / "mail").rglob("*"):
            os.chown(path, MAIL_UID, MAIL_GID)
        os.chown(home / "mail", MAIL_UID, MAIL_GID)
        (home / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
        (home / "dovecot.conf").write_text(
            CONFIG.format(home=self.home, port=self.port, uid=MAIL_UID, gid=MAIL_GID)
        )
        self.process.start()
        wait_for_port("127.0.0.1", self.port, "Dovecot IMAP")

    def deliver(self, user: str, raw: bytes) -> None:
        """Drop a mail into the user's Maildir, as a delivery agent does (written in tmp, moved to new)."""
        maildir = self._host(f"{self.home}/mail/{user}/Maildir")
        name = f"{time.time_ns()}.{next(_serial)}.hotline-lab"
        staged = maildir / "tmp" / name
        staged.write_bytes(raw)
        os.chown(staged, MAIL_UID, MAIL_GID)
        staged.rename(maildir / "new" / name)

    def stop(self) -> None:
        self.process.stop()
