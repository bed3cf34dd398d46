"""The callers' descriptions as text, for the screen pop: heard live while the caller speaks (their audio
tapped from Asterisk and streamed to a speech worker), so the text grows on the screen of an agent already
offered the call and is final the moment the caller stops; from the recording once it ends when the audio
cannot be tapped.

Transcripts are personal data: they go to the agent who takes the call, on
that agent's own stream, and are kept here only for the last calls (a
bounded table), never written to a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hotline.speech.workers import STREAM_RATE, Recognizer, SpeechStream, Transcript

log = logging.getLogger(__name__)

#: How many calls' transcripts are kept for their screen pops (far more than ever wait at once).
KEPT = 2000
#: Less live audio than this and the recording is transcribed instead (the tap came too late, or broke).
ENOUGH_LIVE_SECONDS = 0.5
#: The tap hears a channel this much later than Asterisk plays to it (ChanSpy's buffer, measured: 20 ms).
TAP_DELAY_SECONDS = 0.1


class Stoppable(Protocol):
    def stop(self) -> None: ...


#: Taps a channel: what it says goes to the callable as 8 kHz signed linear audio, until stopped; None
#: when the channel cannot be tapped.
Tap = Callable[[str, Callable[[bytes], None]], Awaitable[Stoppable | None]]


@dataclass
class _Heard:
    """One caller's description: the text so far, and the final text once the description ended."""

    partial: str = ""
    final: asyncio.Task[str | None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def tell(self) -> None:
        """Wake whoever follows the text (each waits on the event current when they looked)."""
        self.changed.set()
        self.changed = asyncio.Event()


class Transcripts:
    def __init__(
        self,
        recognizer: Recognizer | None,
        host_path: Callable[[str], Path],
        on_text: Callable[[str, str], Awaitable[None]] | None = None,
        tap: Tap | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.host_path = host_path
        self.on_text = on_text  # told each call's final text as soon as it is known (emergency words)
        self.tap = tap
        self._calls: OrderedDict[str, _Heard] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.recognizer is not None

    async def listen(self, call_id: str, channel: str) -> Description:
        """The caller on ``channel`` is about to describe their matter: their words become text as they
        speak, when the channel can be tapped."""
        heard = self._calls[call_id] = _Heard()
        while len(self._calls) > KEPT:
            _, oldest = self._calls.popitem(last=False)
            if oldest.final is not None:
                oldest.final.cancel()
        if self.recognizer is None:
            return Description(self, call_id)

        def said(text: str) -> None:
            heard.partial = text
            heard.tell()

        description = Description(self, call_id, self.recognizer.stream(said))
        tapped = await self.tap(channel, description.hear) if self.tap is not None else None
        if tapped is None:
            description.abandon_stream()
        description.tapped = tapped
        return description

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
        heard = self._calls.get(call_id)
        if heard is None:
            return None
        if heard.final is None:  # still speaking: the description's end starts the final text
            if wait <= 0:
                return None
            try:
                async with asyncio.timeout(wait):
                    while heard.final is None:
                        await heard.changed.wait()
            except TimeoutError:
                return None
        task = heard.final
        if task.cancelled():
            return None
        if task.done():
            return task.result()
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait) if wait > 0 else None
        except TimeoutError:
            return None

    async def follow(self, call_id: str) -> AsyncIterator[str]:
        """The text so far each time it grows, while the caller still speaks (and the last words are
        worked out); ends once the final text is known."""
        heard = self._calls.get(call_id)
        said = ""
        while heard is not None:
            changed = heard.changed
            if heard.partial != said:
                said = heard.partial
                yield said
            if heard.final is not None and heard.final.done():
                return
            await changed.wait()

    def _finish(self, call_id: str, work: Coroutine[Any, Any, Transcript] | None) -> None:
        heard = self._calls.get(call_id)
        if heard is None or heard.final is not None:
            if work is not None:
                work.close()
            return
        heard.final = asyncio.create_task(self._final(call_id, work), name=f"stt-{call_id}")
        heard.final.add_done_callback(lambda _: heard.tell())
        heard.tell()

    async def _final(self, call_id: str, work: Coroutine[Any, Any, Transcript] | None) -> str | None:
        if work is None:
            return None
        try:
            transcript = await work
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
        tasks = [heard.final for heard in self._calls.values() if heard.final is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._calls.clear()
        if self.recognizer is not None:
            await self.recognizer.close()


class Description:
    """One caller describing their matter: heard live (``stream``, fed by the channel's tap from the moment
    the recording begins), or not at all until the recording exists."""

    def __init__(self, transcripts: Transcripts, call_id: str, stream: SpeechStream | None = None) -> None:
        self.transcripts, self.call_id, self.stream = transcripts, call_id, stream
        self.tapped: Stoppable | None = None
        self.recording = False
        self.settling = 0  # bytes of audio still to let pass after the beep

    @property
    def live(self) -> bool:
        return self.stream is not None

    def hear(self, audio: bytes) -> None:
        """The channel's audio, as the tap delivers it: the prompt before the recording, and the tap's last
        moment of the beep, are no description (a beep's tail throws the recognizer off the whole text)."""
        if not self.recording or self.stream is None:
            return
        if self.settling > 0:
            self.settling -= len(audio)
            return
        self.stream.feed(audio)

    def begins(self) -> None:
        """The beep is over: what the tap hears from now on (past its own delay) is the description."""
        self.recording = True
        self.settling = int(TAP_DELAY_SECONDS * STREAM_RATE * 2)

    def abandon_stream(self) -> None:
        if self.stream is not None:
            self.stream.cancel()
            self.stream = None

    def recorded(self, recording: str) -> None:
        """The caller finished (recorded as ``recording``, as Asterisk names it): the live text gets its
        last words now; without enough live audio, the recording is transcribed instead."""
        if self.tapped is not None:
            self.tapped.stop()
        recognizer = self.transcripts.recognizer
        if self.stream is not None and self.stream.audio_seconds >= ENOUGH_LIVE_SECONDS:
            work = self.stream.finish()
        else:
            self.abandon_stream()
            work = recognizer.transcribe(self.transcripts.host_path(recording)) if recognizer else None
        self.transcripts._finish(self.call_id, work)

    def abandoned(self) -> None:
        """The caller hung up before the description was recorded: nothing to transcribe."""
        if self.tapped is not None:
            self.tapped.stop()
        self.abandon_stream()
        self.transcripts._finish(self.call_id, None)
