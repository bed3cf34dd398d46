"""Files attached to tickets (photos of the pothole, the receipt, the contract), stored by content.

A file is written to a temporary name, flushed to disk and renamed to its
SHA-256 before the ticket records it, so an accepted attachment is never lost
and the same file sent twice is stored once. Only a short list of document,
image, audio and video types is taken: an attachment is evidence, not a way to
ship programs to the units.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import unquote

from hotline.ticketing.errors import TicketError, invalid

MAX_BYTES = 20 * 1024 * 1024
NAME_LIMIT = 120
#: Extension → the content type the file is served with.
ALLOWED_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".amr": "audio/amr",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class IntakeFile:
    """A file that came with a citizen's message (a mail's attachment, a voicemail's recording)."""

    name: str
    content: bytes


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    name: str
    size: int
    content_type: str


def clean_name(raw: str) -> tuple[str, str]:
    """The file's base name (no folders, no control characters) and the type its extension allows.

    Some clients percent-encode a non-ASCII name in the multipart header; it is decoded here.
    """
    name = "".join(ch for ch in PurePath(unquote(raw).replace("\\", "/")).name if ch.isprintable()).strip()
    if not name:
        raise invalid("file", "文件名为空")
    content_type = ALLOWED_TYPES.get(Path(name).suffix.lower())
    if content_type is None:
        allowed = " ".join(sorted(ALLOWED_TYPES))
        raise TicketError(
            "attachment-type-refused",
            f"不接受此类文件：{name}；可上传 {allowed}",
            415,
            field="file",
            allowed=allowed,
        )
    return name[-NAME_LIMIT:], content_type


class AttachmentStore:
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise invalid("sha256", "must be 64 hexadecimal characters")
        return self.root / sha256[:2] / sha256

    async def save(self, raw_name: str, chunks: AsyncIterator[bytes]) -> StoredFile:
        """Store the file durably under its hash; a file over the limit is refused and leaves nothing."""
        name, content_type = clean_name(raw_name)
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle = tempfile.NamedTemporaryFile(dir=self.root, prefix=".upload-", delete=False)  # noqa: SIM115
        try:
            with handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise TicketError(
                            "attachment-too-large",
                            f"文件超过 {self.max_bytes // (1024 * 1024)} MB 上限",
                            413,
                            max_bytes=self.max_bytes,
                        )
                    digest.update(chunk)
                    await asyncio.to_thread(handle.write, chunk)
                await asyncio.to_thread(_flush, handle)
            if size == 0:
                raise invalid("file", "文件为空")
            target = self.path(digest.hexdigest())
            target.parent.mkdir(exist_ok=True)
            os.replace(handle.name, target)
        finally:
            Path(handle.name).unlink(missing_ok=True)
        return StoredFile(digest.hexdigest(), name, size, content_type)


def _flush(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())
