"""Render Asterisk's configuration from the templates in ``asterisk-conf/``.

Templates are Jinja2 (``{{ }}`` does not clash with the dialplan's ``${}``),
strict about undefined names, so a missing setting fails the render instead
of writing an empty value into a live config.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

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
