"""The AudioSocket server: a channel's audio reaches whoever expected it, and no one else's connection
is served. The client here plays Asterisk's chan_audiosocket, frame for frame."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from hotline.kernel.asterisk.ami import AmiError
from hotline.kernel.asterisk.audiosocket import AUDIO, HANGUP, UUID, AudioSocketServer, ChannelTaps
from hotline.kernel.asterisk.refusals import Refusal
from tests.fakes.ami_client import RecordingAmi


def frame(kind: int, payload: bytes = b"") -> bytes:
    return bytes([kind]) + len(payload).to_bytes(2, "big") + payload


@pytest.fixture
async def server():
    refused: list[Refusal] = []
    audio = AudioSocketServer("127.0.0.1", 0, on_refused=refused.append)
    audio.refused = refused  # type: ignore[attr-defined]
    await audio.start()
    yield audio
    await audio.close()


async def asterisk(server: AudioSocketServer, key: str, *frames: bytes):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(frame(UUID, uuid.UUID(key).bytes) + b"".join(frames))
    await writer.drain()
    return reader, writer


async def test_the_expected_channels_audio_arrives_in_order_and_stopping_hangs_it_up(server):
    heard: list[bytes] = []
    listening = server.expect(heard.append)
    speech = [bytes([n]) * 320 for n in range(3)]  # three 20 ms frames of 8 kHz signed linear
    reader, writer = await asterisk(server, listening.key, *(frame(AUDIO, f) for f in speech))
    async with asyncio.timeout(5):
        await listening.connected.wait()
        while len(heard) < 3:
            await asyncio.sleep(0.01)
    assert heard == speech
    listening.stop()
    async with asyncio.timeout(5):
        assert await reader.read() == b"", "the connection is closed: Asterisk hangs the channel up"
    writer.close()
    assert server.refused == []


async def test_a_connection_naming_no_expected_stream_is_refused_and_a_key_serves_once(server):
    listening = server.expect(lambda audio: None)
    _, first = await asterisk(server, listening.key)
    await asyncio.wait_for(listening.connected.wait(), 5)
    for key in (str(uuid.uuid4()), listening.key):  # a guess, then the same key again
        reader, writer = await asterisk(server, key, frame(AUDIO, b"\0" * 320))
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()
    first.write(frame(HANGUP))
    await first.drain()
    await asyncio.wait_for(listening.ended.wait(), 5)
    first.close()
    await server.close()  # the second refusal, folded into the peer's window, is told at the stop
    assert [(r.peer, r.reason, r.count) for r in server.refused] == [("127.0.0.1", "unknown key", 1)] * 2


async def test_a_flood_of_connections_without_a_key_is_told_once_per_window_counting_each(server):
    for _ in range(100):
        reader, writer = await asterisk(server, str(uuid.uuid4()))
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()
    await server.close()
    assert [(r.reason, r.count, r.total) for r in server.refused] == [
        ("unknown key", 1, 1),
        ("unknown key", 99, 100),
    ]


async def test_a_connection_that_does_not_name_itself_first_is_refused(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(frame(AUDIO, b"\0" * 320))
    async with asyncio.timeout(5):
        assert await reader.read() == b""
    writer.close()
    assert [r.reason for r in server.refused] == ["no key"]


async def test_a_tap_asks_asterisk_for_an_audiosocket_channel_spying_on_what_the_caller_says(server):
    ami = RecordingAmi()
    taps = ChannelTaps(ami, server, "127.0.0.1:4575")  # type: ignore[arg-type]
    listening = await taps.tap("PJSIP/carrier-00000001", lambda audio: None)
    assert listening is not None
    assert ami.actions == [
        (
            "Originate",
            {
                "Channel": f"AudioSocket/127.0.0.1:4575/{listening.key}",
                "Application": "ChanSpy",
                "Data": "PJSIP/carrier-00000001,qE",
                "Async": "true",
            },
        )
    ]


async def test_a_channel_asterisk_cannot_tap_is_not_waited_for(server):
    class Refusing(RecordingAmi):
        async def action(self, name, headers, **_):
            raise AmiError("Originate failed")

    taps = ChannelTaps(Refusing(), server, "127.0.0.1:4575")  # type: ignore[arg-type]
    assert await taps.tap("PJSIP/carrier-00000001", lambda audio: None) is None
