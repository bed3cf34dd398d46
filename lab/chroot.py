"""Build or reuse the Debian sid chroot that holds Asterisk 22 for the lab.

Asterisk is not in Debian 12, and adding sid to the host's apt sources breaks
glibc, so sid packages live only inside this chroot. It is cached outside the
repository, keyed by its package list, and rebuilt only when that list changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SUITE = "sid"
PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-core-sounds-en-wav",
    # Music on hold: a waiting caller otherwise hears silence between the announcements.
    "asterisk-moh-opsound-wav",
    "espeak-ng",
    "sox",
    "baresip",
    # The deployment's mail server for the IMAP mailbox test (started only by that test, on loopback).
    "dovecot-imapd",
)
HOST_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
LEGACY_SOURCES = Path("/etc/apt/sources.list")
DEFAULT_CACHE = Path("/var/cache/hotline-lab")
READY_MARK = ".hotline-chroot-ready"
HOST_ETC = Path("/etc")
#: Where the search for ids unused on the host and in the chroot starts (above login users' 1000s).
OWN_ID_START = 2900


class ChrootError(RuntimeError):
    """The chroot could not be built; the message says what to do."""


def cache_key(packages: tuple[str, ...] = PACKAGES, suite: str = SUITE) -> str:
    """A short digest of what the chroot holds: a change rebuilds it."""
    text = "\n".join([suite, *sorted(packages)])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def chroot_path(cache_dir: Path = DEFAULT_CACHE) -> Path:
    return cache_dir / f"sid-{cache_key()}"


def is_ready(root: Path) -> bool:
    return (root / READY_MARK).exists()


def host_mirror() -> str:
    """The Debian mirror the host already uses; never a host written in the repo."""
    if HOST_SOURCES.exists():
        for line in HOST_SOURCES.read_text().splitlines():
            if line.strip().startswith("URIs:"):
                for uri in line.split()[1:]:
                    if "security" not in uri:
                        return uri
    if LEGACY_SOURCES.exists():
        for line in LEGACY_SOURCES.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1]
    raise ChrootError("no Debian mirror found in the host's apt sources")


def ensure_chroot(cache_dir: Path = DEFAULT_CACHE, log=print) -> Path:
    """Return a ready chroot, building it by debootstrap when it is missing."""
    root = chroot_path(cache_dir)
    if is_ready(root):
        give_own_ids(root, "asterisk", HOST_ETC, log)
        return root
    if shutil.which("debootstrap") is None:
        raise ChrootError("debootstrap is not installed (apt-get install debootstrap)")
    building = root.with_name(root.name + ".building")
    if building.exists():
        shutil.rmtree(building)
    cache_dir.mkdir(parents=True, exist_ok=True)
    mirror = host_mirror()
    log(f"building the Asterisk chroot in {root} (about a minute)")
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(building),
        mirror,
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(
                ("I: Retrieving", "I: Validating", "I: Extracting", "I: Unpacking", "I: Configuring")
            ):
                continue
            log("  " + line.rstrip())
        if proc.wait() != 0:
            raise ChrootError(f"debootstrap failed with exit code {proc.returncode}")
    give_own_ids(building, "asterisk", HOST_ETC, log)
    (building / READY_MARK).write_text(cache_key() + "\n")
    os.replace(building, root)
    for stale in cache_dir.glob("sid-*"):
        if stale != root and not stale.name.endswith(".building"):
            shutil.rmtree(stale, ignore_errors=True)
    return root


def _ids(file: Path) -> dict[str, int]:
    """Names to ids in a passwd or group file."""
    ids = {}
    for line in file.read_text().splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[2].isdigit():
            ids[fields[0]] = int(fields[2])
    return ids


def give_own_ids(root: Path, user: str, host_etc: Path, log=print) -> None:
    """Move the chroot's ``user`` to a uid and gid that no host account has.

    Files in a chroot carry bare numbers: Debian gives the chroot's asterisk
    uid 101, which on a host may be postgres, so a lab Asterisk could touch the
    host's PostgreSQL files. The check runs on every start, because the host may
    gain accounts after the chroot was built.
    """
    users, groups = _ids(root / "etc/passwd"), _ids(root / "etc/group")
    host_users, host_groups = set(_ids(host_etc / "passwd").values()), set(_ids(host_etc / "group").values())
    old_uid, old_gid = users[user], groups[user]
    if old_uid not in host_users and old_gid not in host_groups:
        return
    taken = host_users | host_groups | set(users.values()) | set(groups.values())
    new_id = next(n for n in range(OWN_ID_START, 65000) if n not in taken)
    log(f"chroot: {user} uid {old_uid} gid {old_gid} are used on the host; moving it to {new_id}")
    _rewrite_id(root / "etc/passwd", user, {2: new_id, 3: new_id})
    _rewrite_id(root / "etc/group", user, {2: new_id})
    for path in [root, *root.rglob("*")]:
        stat = path.lstat()
        if stat.st_uid == old_uid or stat.st_gid == old_gid:
            uid = new_id if stat.st_uid == old_uid else -1
            gid = new_id if stat.st_gid == old_gid else -1
            os.lchown(path, uid, gid)


def _rewrite_id(file: Path, name: str, columns: dict[int, int]) -> None:
    lines = []
    for line in file.read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            for column, value in columns.items():
                fields[column] = str(value)
        lines.append(":".join(fields))
    file.write_text("\n".join(lines) + "\n")
