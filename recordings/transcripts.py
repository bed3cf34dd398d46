"""The callers' descriptions as text: transcribed the moment the intake recording ends, while the
caller waits, and read by the screen pop when an agent's phone rings.

Transcripts are personal data: they go to the agent who takes the call, on
that agent's own stream, and are kept here only for the last calls (a
bounded table), never written to a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

from recordings.speech import Recognizer

log = logging.getLogger(__name__)

#: How many calls' transcripts are kept for their screen pops (far more than ever wait at once).
KEPT = 2000


class Transcripts:
    def __init__(
        self,
        recognizer: Recognizer | None,
        host_path: Callable[[str], Path],
        on_text: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.host_path = host_path
        self.on_text = on_text  # told each call's text as soon as it is known (emergency words)
        self._texts: OrderedDict[str, asyncio.Task[str | None]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.recognizer is not None

    def start(self, call_id: str, recording: str) -> None:
        """``recording``: the intake's WAV as Asterisk names it. The text is worked out in the background."""
        if self.recognizer is None:
            return
        work = self._transcribe(call_id, recording)
        self._texts[call_id] = asyncio.create_task(work, name=f"stt-{call_id}")
        while len(self._texts) > KEPT:
            _, oldest = self._texts.popitem(last=False)
            oldest.cancel()

    async def of_file(self, path: Path) -> str:
        """A whole recording's text (a voicemail's), from a speech worker, never in the event loop."""
        if self.recognizer is None:
            return ""
        return (await self.recognizer.transcribe(path)).text

    async def warm(self) -> None:
        if self.recognizer is not None:
            try:
                await self.recognizer.warm()
            except Exception:
                log.exception("speech-to-text could not start; descriptions stay audio only")

    async def text(self, call_id: str, wait: float) -> str | None:
        """The call's transcript if it is ready within ``wait`` seconds; None if not, or if there is none."""
        task = self._texts.get(call_id)
        if task is None or task.cancelled():
            return None
        if task.done():
            return task.result()
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait) if wait > 0 else None
        except TimeoutError:
            return None

    async def _transcribe(self, call_id: str, recording: str) -> str | None:
        assert self.recognizer is not None
        try:
            transcript = await self.recognizer.transcribe(self.host_path(recording))
        except Exception as exc:  # the agent types it instead; the call goes on
            log.warning("no transcript for %s: %s", call_id, type(exc).__name__)
            return None
        log.info(
            "transcribed %s: %.1f s of audio, real-time factor %.2f",
            call_id,
            transcript.audio_seconds,
            transcript.real_time_factor,
        )
        if self.on_text is not None and transcript.text:
            try:
                await self.on_text(call_id, transcript.text)
            except Exception:
                log.exception("the transcript of %s was not passed on", call_id)
        return transcript.text

    async def close(self) -> None:
        for task in self._texts.values():
            task.cancel()
        for task in self._texts.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._texts.clear()
        if self.recognizer is not None:
            await self.recognizer.close()
