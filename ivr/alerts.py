"""A waiting caller's words, heard as they speak: emergency words alert the supervisors before any agent
answers (the words and the number they point to, 110, 119 or 120)."""

from __future__ import annotations

from collections.abc import Callable

from hotline.kernel.asterisk.channels import LiveCall
from hotline.kernel.runtime.events import Publish
from hotline.ticketing.guesses import Keywords, emergency_in


class EmergencyWords:
    def __init__(self, keywords: Keywords, call: Callable[[str], LiveCall | None], publish: Publish) -> None:
        self.keywords, self.call, self.publish = keywords, call, publish

    async def heard(self, call_id: str, text: str) -> None:
        emergency = emergency_in(text, self.keywords)
        if emergency is None:
            return
        call = self.call(call_id)
        about = {"caller_number": call.caller_number, "line": call.line} if call else {}
        await self.publish(
            {
                "type": "speech.emergency",
                "call_id": call_id,
                **about,
                "number": emergency.number,
                "words": list(emergency.words),
            }
        )
