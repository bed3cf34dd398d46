"""Asterisk's own log files, bounded in size.

Asterisk rotates its files only when told (``logger rotate``), never by size, and under a flood every
refused packet adds a line (about 1 MB/s while passwords were guessed). So the controller looks at the
files' sizes in rounds, has Asterisk rotate them once one has passed the bound (``logger.conf``:
``rotatestrategy = rotate``, so ``messages.log.0`` is always the newest old file) and removes the old
files beyond ``keep``. The folder then holds at most ``keep + 1`` times the bound, plus what one round
lets grow. The files' modes are Asterisk's own umask (0640: see deploy/asterisk/entrypoint.sh).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from hotline.kernel.asterisk.ami import AmiClient

log = logging.getLogger(__name__)

#: The files Asterisk writes in its log folder (logger.conf's, and app_queue's own).
LOG_FILES = ("messages.log", "queue_log")
#: Old files kept of each, after a rotation.
KEEP = 4
#: How often the sizes are looked at.
CHECK_SECONDS = 30.0


class LogBound:
    def __init__(self, log_dir: Path, ami: AmiClient, max_bytes: int, keep: int = KEEP) -> None:
        self.log_dir, self.ami, self.max_bytes, self.keep = log_dir, ami, max_bytes, keep

    async def check(self) -> None:
        """One round: rotate when a file passed the bound (if Asterisk can be told), then prune."""
        largest = max(await asyncio.to_thread(self._sizes), default=0)
        if largest > self.max_bytes and self.ami.connected:
            await self.ami.action("LoggerRotate", {})
            log.info("asterisk's log passed %d MB: rotated", self.max_bytes >> 20)
        await asyncio.to_thread(self._prune)

    def _sizes(self) -> list[int]:
        sizes = []
        for name in LOG_FILES:
            try:
                sizes.append((self.log_dir / name).stat().st_size)
            except FileNotFoundError:
                continue
        return sizes

    def _prune(self) -> None:
        for name in LOG_FILES:
            for old in self.log_dir.glob(f"{name}.*"):
                number = old.name[len(name) + 1 :].split(".")[0]  # messages.log.7, or .7.gz if compressed
                if number.isdigit() and int(number) >= self.keep:
                    old.unlink(missing_ok=True)
