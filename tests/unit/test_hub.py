"""The event hub when Redis fails under a replay: the socket ends cleanly, saying where to resume."""

from __future__ import annotations

import json

import fakeredis
from redis.exceptions import ConnectionError as RedisConnectionError

from hotline.kernel.api.hub import UNAVAILABLE, EventHub


async def test_a_replay_redis_cannot_serve_ends_the_subscription_with_1013_after_what_was_sent():
    redis = fakeredis.FakeAsyncRedis()
    ids = [await redis.xadd("s", {"event": json.dumps({"type": "call.ringing", "n": n})}) for n in range(3)]
    hub = EventHub(redis, page=2)
    subscription = await hub.subscribe("s", "值班长", since="0-0")
    pages = 0
    real_xrange = redis.xrange

    async def first_page_then_gone(*args, **kwargs):
        nonlocal pages
        pages += 1
        if pages > 1:
            raise RedisConnectionError("Redis went away")
        return await real_xrange(*args, **kwargs)

    redis.xrange = first_page_then_gone  # type: ignore[method-assign]
    sent = [entry_id async for entry_id, _ in hub.events(subscription)]
    assert sent == [i.decode() for i in ids[:2]], "the first page was sent; the client resumes after it"
    assert subscription.ended is UNAVAILABLE and subscription.ended.code == 1013
    await hub.close()
