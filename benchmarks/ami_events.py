"""AMI event intake: our client's reader against panoramisk's protocol, same bytes, same run.

The hardened reader cuts frames on bytes and decodes each whole (so Chinese
names survive any TCP split); this measures what that costs against the
baseline that decodes chunk by chunk. Ratio > 1 means ours is faster.
"""

from __future__ import annotations

import asyncio
import time

from panoramisk.ami_protocol import AMIProtocol

from hotline.kernel.asterisk.ami import AmiClient

EVENTS = 50_000
CHUNK = 4096
ROUNDS = 3


def event_stream(count: int) -> bytes:
    frame = (
        "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/carrier-{n:08x}\r\n"
        "ChannelState: 0\r\nChannelStateDesc: Down\r\nCallerIDNum: 13800138000\r\n"
        "CallerIDName: 张三客服\r\nExten: 12345\r\nContext: from-carrier\r\n"
        "Uniqueid: hotline-1700000000.{n}\r\nLinkedid: hotline-1700000000.{n}\r\n\r\n"
    )
    return "".join(frame.format(n=n) for n in range(count)).encode("utf-8")


def chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


NAME = "张三客服"


async def ours(data: bytes) -> tuple[float, int]:
    client = AmiClient("127.0.0.1", 0, "bench", "bench")
    seen = damaged = 0

    def count(event) -> None:
        nonlocal seen, damaged
        seen += 1
        damaged += event.get("CallerIDName") != NAME

    client.on_event(count)
    reader = asyncio.StreamReader(limit=1 << 20)
    start = time.perf_counter()
    for piece in chunks(data):
        reader.feed_data(piece)
    reader.feed_eof()
    await client._read_loop(reader, None)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert seen == EVENTS, seen
    return elapsed, damaged


class _Factory:
    def __init__(self) -> None:
        self.seen = self.damaged = 0
        self.forgetable_actions = ()
        self.awaiting_actions = []

    def dispatch(self, message) -> None:
        self.seen += 1
        self.damaged += message.get("CallerIDName") != NAME


def baseline(data: bytes) -> tuple[float, int]:
    protocol = AMIProtocol()
    protocol.connection_made(transport=None)
    factory = _Factory()
    protocol.factory = factory
    protocol.encoding = "utf-8"
    start = time.perf_counter()
    for piece in chunks(data):
        protocol.data_received(piece)
    elapsed = time.perf_counter() - start
    assert factory.seen >= EVENTS - 1, factory.seen
    return elapsed, factory.damaged


def main() -> None:
    data = event_stream(EVENTS)
    ours_runs = [asyncio.run(ours(data)) for _ in range(ROUNDS)]
    base_runs = [baseline(data) for _ in range(ROUNDS)]
    ours_best, ours_damaged = min(ours_runs)
    base_best, base_damaged = min(base_runs)
    print(f"ami_events: {EVENTS} events, {len(data) / 1e6:.1f} MB in {CHUNK}-byte reads (best of {ROUNDS})")
    print(
        f"  panoramisk AMIProtocol  {EVENTS / base_best:10.0f} events/s  (baseline)"
        f"  caller names damaged: {base_damaged}"
    )
    print(
        f"  hotline AmiClient       {EVENTS / ours_best:10.0f} events/s  ratio {base_best / ours_best:.2f}x"
        f"  caller names damaged: {ours_damaged}"
    )
