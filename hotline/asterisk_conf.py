"""Render Asterisk's configuration from ``asterisk-conf/`` and the settings.

Templates are Jinja2 (``{{ }}`` does not clash with the dialplan's ``${}``),
strict about undefined names, so a missing setting fails the render instead
of writing an empty value into a live config.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from hotline.config import Settings
from trunks.dialling import DiallingPlan
from trunks.numbers import parse_lines

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "asterisk-conf"
# Files that describe an Asterisk process rather than the contact centre:
# the lab's other instance reuses them.
INSTANCE_FILES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "rtp.conf",
    "indications.conf",
    "manager.conf",
    "cdr.conf",
    "cel.conf",
    "musiconhold.conf",
    "confbridge.conf",
)


#: The realm in SIP challenges; it is part of every stored digest, so it never changes.
SIP_REALM = "hotline"


def sip_digest(account: str, password: str) -> str:
    """What Asterisk stores instead of a phone's password: MD5 of ``account:realm:password``
    (RFC 2617's HA1), enough to check a phone's answer, useless to register as it elsewhere."""
    return hashlib.md5(f"{account}:{SIP_REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Account:
    name: str
    digest: str
    context: str
    label: str


def settings_agents(settings: Settings) -> list[Account]:
    """The agents named in the settings: Asterisk's first boot, before the agent table exists."""
    return [
        Account(a, sip_digest(a, settings.password_for(a)), "from-agents", f"坐席{a}")
        for a in settings.agents
    ]


def system_context(settings: Settings, agents: Sequence[Account] | None = None) -> dict[str, object]:
    """Everything the system's templates may name; ``agents`` come from the agent table once it exists."""
    agents = settings_agents(settings) if agents is None else list(agents)
    supervisors = [
        Account(s, sip_digest(s, settings.password_for(s)), "from-agents", f"班长{s}")
        for s in settings.supervisors
    ]
    return {
        "system_name": "hotline",
        "instance_dir": settings.asterisk_instance_dir,
        "bind_host": settings.bind_host,
        "sip_port": settings.sip_port,
        "sip_realm": SIP_REALM,
        "rtp_start": settings.rtp_start,
        "rtp_end": settings.rtp_end,
        "ami_port": settings.ami_port,
        "ami_user": settings.ami_user,
        "ami_secret": settings.ami_secret,
        "ami_permit": settings.ami_permit,
        "carrier_host": settings.carrier_host,
        "carrier_port": settings.carrier_port,
        "controller_host": settings.controller_host,
        "fastagi_port": settings.fastagi_port,
        "agi_key": settings.agi_key,
        "recordings_dir": settings.recordings_dir,
        "prompts_dir": settings.prompts_dir,
        "lines": parse_lines(settings.lines),
        "accounts": agents + supervisors,
        "agents": agents,
        "fallback_queue_seconds": settings.fallback_queue_seconds,
        "outbound_patterns": DiallingPlan.of(
            settings.outbound_area_codes, settings.outbound_numbers
        ).dialplan_patterns(),
        "voicemail_box": "12345",
        "voicemail_pin": settings.voicemail_pin,
    }


def render_tree(
    template_dirs: Iterable[Path], names: Iterable[str], context: Mapping[str, object], out_dir: Path
) -> list[Path]:
    """Render the named templates (the first directory holding a name wins) into ``out_dir``."""
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(set(names)):
        target = out_dir / name
        text = environment.get_template(name).render(**context)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        temporary = target.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        # Secrets (SIP, AMI, the AGI key, the voicemail PIN) are in these files: never world-readable.
        with os.fdopen(
            os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640), "w", encoding="utf-8"
        ) as out:
            out.write(text)
        temporary.chmod(0o640)
        if target.exists():  # a re-render keeps the owner and mode Asterisk reads it with
            old = target.stat()
            os.chown(temporary, old.st_uid, old.st_gid)
            temporary.chmod(stat.S_IMODE(old.st_mode))
        temporary.replace(target)
        written.append(target)
    return written


def render_system(
    settings: Settings,
    out_dir: Path,
    names: Iterable[str] | None = None,
    agents: Sequence[Account] | None = None,
) -> list[Path]:
    """Render the system's configuration (or only ``names``); returns the files whose text changed."""
    names = [p.name for p in CONF_DIR.glob("*.conf")] if names is None else names
    return render_tree([CONF_DIR], names, system_context(settings, agents), out_dir)
