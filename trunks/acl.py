"""Asterisk refuses banned addresses itself: a PJSIP ACL in a file of its own, rewritten and reloaded.

``pjsip_bans.conf`` (included by ``pjsip.conf``) holds one ``type = acl`` section with a ``deny`` per
banned address. res_pjsip_acl cannot be reloaded on its own (Asterisk 22: "Module does not support
reload"), so res_pjsip is, as for the agents' endpoints (``agents/provisioning.py``): it reads a file
again when the file or one it includes changed, and keeps the calls that are up. Asterisk then answers a
banned source 403 before any endpoint is looked up. It needs no privilege on the host and works where
Asterisk runs on another machine (the files are shared). A missing bans file bans nobody: the SIP edge
never fails closed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.reloads import ReloadedFiles

BANS_FILE = "pjsip_bans.conf"
RELOADED_MODULE = "res_pjsip.so"

#: Renders ``pjsip_bans.conf`` into a folder with these addresses denied; returns the files that changed.
RenderBans = Callable[[Path, Sequence[str]], list[Path]]


class AclBans:
    def __init__(self, render: RenderBans, etc_dir: Path, ami: AmiClient) -> None:
        self.render, self.etc_dir = render, etc_dir
        self.files = ReloadedFiles(ami, (RELOADED_MODULE,), "SIP bans")

    async def refuse(self, addresses: Sequence[str]) -> bool:
        """Asterisk refuses exactly these addresses from now on; True when it has them already."""
        return await self.files.write(functools.partial(self.render, self.etc_dir, sorted(addresses)))

    async def catch_up(self) -> None:
        """After AMI reconnects: reload what was written while Asterisk was away."""
        await self.files.catch_up()
