"""Files the controller writes for Asterisk, loaded by a module reload once AMI is there to ask.

Rendered files plus a reload rather than realtime: no ODBC in the image, the files stay readable by an
operator, and a reload of res_pjsip keeps the calls that are up. A change made while Asterisk is away is
written at once and reloaded when AMI is back (an Asterisk that restarts in between reads the files anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from hotline.kernel.asterisk.ami import AmiActionFailed, AmiClient, AmiError

log = logging.getLogger(__name__)


class ReloadedFiles:
    """One set of rendered files and the modules that read them; ``what`` names them in the log."""

    def __init__(self, ami: AmiClient, modules: Sequence[str], what: str) -> None:
        self.ami, self.modules, self.what = ami, tuple(modules), what
        self._lock = asyncio.Lock()
        self._reload_due = False

    async def write(self, render: Callable[[], list[Path]]) -> bool:
        """Render (off the event loop: it writes files); reload if a file changed. True when Asterisk has
        the files now."""
        async with self._lock:
            changed = await asyncio.to_thread(render)
            self._reload_due = self._reload_due or bool(changed)
            return await self._reload()

    async def catch_up(self) -> None:
        """After AMI reconnects: reload what was written while Asterisk was away."""
        async with self._lock:
            await self._reload()

    async def _reload(self) -> bool:
        if not self._reload_due:
            return True
        if not self.ami.connected:
            log.warning("%s written; Asterisk will load them when AMI is back", self.what)
            return False
        try:
            for module in self.modules:
                await self.ami.action("Reload", {"Module": module})
        except AmiActionFailed as exc:
            log.error("%s written but Asterisk refused to reload them: %s", self.what, exc)
            return False
        except AmiError as exc:
            log.warning("%s written but not reloaded (tried again when AMI is back): %s", self.what, exc)
            return False
        self._reload_due = False
        log.info("%s reloaded into asterisk", self.what)
        return True
