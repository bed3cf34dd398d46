"""Where a notice's attached file lies: a ticket's file in the attachment store, or a recording the
register keeps (a voicemail mailed to the people on duty); each mailing of a recording is in its trail."""

from __future__ import annotations

import errno
from pathlib import Path

from hotline.recordings.access import REASON_LIMIT
from hotline.recordings.shelf import RecordingShelf
from hotline.ticketing.attachments import AttachmentStore


class NoticeFiles:
    def __init__(self, attachments: AttachmentStore, recordings: RecordingShelf) -> None:
        self.attachments = attachments
        self.recordings = recordings

    async def __call__(self, sha256: str, recipient: str) -> Path:
        path = self.attachments.path(sha256)
        if path.exists():
            return path
        found = await self.recordings.file_of(sha256)
        if found is None:
            raise FileNotFoundError(errno.ENOENT, "no such file", sha256)
        recording_id, path = found
        await self.recordings.audit(
            actor="system",
            role="system",
            action="mail",
            allowed=True,
            recording_id=recording_id,
            reason=f"邮件发送给值班邮箱 {recipient}"[:REASON_LIMIT],
        )
        return path
