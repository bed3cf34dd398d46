"""Stands in for hotline's AmiClient where a test needs only what was asked of Asterisk."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.kernel.asterisk.ami import AmiReply


class RecordingAmi:
    """Answers every action with success and remembers it; an Originate is answered when told."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, dict[str, Any]]] = []
        self.originated: list[dict[str, Any]] = []
        self.answer: asyncio.Future[str] | None = None

    async def action(self, name: str, headers: dict[str, Any], **_: Any) -> AmiReply:
        self.actions.append((name, headers))
        return AmiReply({"Response": "Success"})

    async def originate(self, headers: dict[str, Any], **_: Any) -> dict[str, str]:
        self.originated.append(headers)
        self.answer = asyncio.get_running_loop().create_future()
        return {"Response": await self.answer}
