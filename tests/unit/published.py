"""What the controller published to the floor, read back from its Redis stream."""

from __future__ import annotations

import asyncio
import json

import fakeredis

from hotline.kernel.runtime.live import EVENTS_STREAM


async def published(redis: fakeredis.FakeAsyncRedis) -> list[dict]:
    return [json.loads(fields[b"event"]) for _, fields in await redis.xrange(EVENTS_STREAM)]


async def eventually(redis, matches, seconds: float = 10.0) -> dict:
    """The latest published event that matches, waiting up to ``seconds`` for one."""
    async with asyncio.timeout(seconds):
        while True:
            found = [event for event in await published(redis) if matches(event)]
            if found:
                return found[-1]
            await asyncio.sleep(0.02)
