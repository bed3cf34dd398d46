"""AudioSocket server: a channel's audio, live, from Asterisk's ``AudioSocket/host:port/uuid`` channels.

Asterisk connects, names itself with a UUID, then sends 20 ms frames of 8 kHz
16-bit signed linear audio until the channel hangs up. Only a UUID handed out by
``expect`` is served: it is random, used once and forgotten after a while, so it
is the connection's key; any other connection is closed and counted. Closing
the connection (``Listening.stop``) hangs the AudioSocket channel up.

Frames: one byte of kind, two bytes of length (big-endian), then the payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.kernel.asterisk.refusals import RefusalReports, Tell

log = logging.getLogger(__name__)

HANGUP, UUID, DTMF, AUDIO, ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
#: A connection must name itself within this many seconds, with a frame no longer than a second of audio.
GREETING_SECONDS = 5.0
MAX_PAYLOAD = 16000
#: An expected connection that never came is forgotten after this many seconds.
EXPECT_SECONDS = 30.0
#: ChanSpy, quietly (q), ending with the spied channel (E). Not ``o`` (what the channel says alone): with
#: nothing played to the channel, Asterisk's audiohook then drops and pads its audio (measured: the words
#: came out changed), while both directions mixed are the channel's audio sample for sample.
TAP_OPTIONS = "qE"

Audio = Callable[[bytes], None]


@dataclass
class Listening:
    """One expected stream: its key, what its audio is handed to, and its connection once Asterisk made it."""

    key: str
    on_audio: Audio
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _writer: asyncio.StreamWriter | None = None

    def stop(self) -> None:
        """Close the connection (Asterisk hangs the channel up), or refuse it if it has not come yet."""
        self.ended.set()
        if self._writer is not None:
            self._writer.close()


class AudioSocketServer:
    def __init__(self, host: str, port: int, on_refused: Tell | None = None) -> None:
        self.host, self.port = host, port
        # connections without an expected key, folded per peer (kernel/asterisk/refusals.py)
        self.refusals = RefusalReports("audiosocket", on_refused)
        self._expected: dict[str, Listening] = {}
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # the one bound, when 0 asked for any

    async def close(self) -> None:
        for listening in list(self._expected.values()):
            listening.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.refusals.close()

    def expect(self, on_audio: Audio) -> Listening:
        """A new key for one AudioSocket channel; its audio goes to ``on_audio`` as raw 8 kHz slin."""
        listening = Listening(str(uuid.uuid4()), on_audio)
        self._expected[listening.key] = listening
        asyncio.get_running_loop().call_later(EXPECT_SECONDS, self._forget_unused, listening)
        return listening

    def _forget_unused(self, listening: Listening) -> None:
        if not listening.connected.is_set():
            self._expected.pop(listening.key, None)
            listening.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str((writer.get_extra_info("peername") or ("?",))[0])  # the address: a flood uses many ports
        listening = None
        try:
            async with asyncio.timeout(GREETING_SECONDS):
                kind, payload = await read_frame(reader)
            key = str(uuid.UUID(bytes=payload)) if kind == UUID and len(payload) == 16 else ""
            listening = self._expected.pop(key, None)
            if listening is None or listening.ended.is_set():
                self.refusals.refused(peer, "unknown key" if key else "no key")
                return
            listening._writer = writer
            listening.connected.set()
            while True:
                kind, payload = await read_frame(reader)
                if kind == AUDIO:
                    listening.on_audio(payload)
                elif kind in (HANGUP, ERROR):
                    return
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            if listening is None:
                self.refusals.refused(peer, type(exc).__name__)
        finally:
            if listening is not None:
                listening.ended.set()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class ChannelTaps:
    """What a channel says, live and beside whatever it is doing (a recording, a prompt): an AudioSocket
    channel, originated over AMI, runs ChanSpy on it and carries its audio to the server."""

    def __init__(self, ami: AmiClient, server: AudioSocketServer, address: str) -> None:
        self.ami, self.server = ami, server
        self.address = address  # host:port of the server as Asterisk reaches it

    async def tap(self, channel: str, on_audio: Audio) -> Listening | None:
        listening = self.server.expect(on_audio)
        try:
            await self.ami.action(
                "Originate",
                {
                    "Channel": f"AudioSocket/{self.address}/{listening.key}",
                    "Application": "ChanSpy",
                    "Data": f"{channel},{TAP_OPTIONS}",
                    "Async": "true",
                },
            )
        except AmiError as exc:
            log.warning("%s not tapped: %s", channel, exc)
            listening.stop()
            return None
        return listening


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(3)
    kind, length = header[0], int.from_bytes(header[1:3], "big")
    if length > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket frame of {length} bytes")
    return kind, await reader.readexactly(length)
