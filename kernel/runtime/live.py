"""Live state and the event stream, in Redis, so the controller can restart.

Events go to a capped Redis stream: the websocket reads from it, a restarted
controller or a second one sees the same history, and a slow reader loses
nothing newer than the cap. Live calls are one hash, rewritten whole on
reconcile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from redis.asyncio import Redis

from hotline.kernel.runtime.events import require_catalogued

EVENTS_STREAM = "hotline:events"
CALLS_HASH = "hotline:calls"
CALLER_PREFIX = "hotline:caller:"
CALLER_HISTORY = 20  # calls kept per caller for the screen pop
AGENT_STREAM_MAXLEN = 1000  # an agent's own events: screen pops, their state, their calls


def agent_stream(account: str) -> str:
    return f"hotline:agent:{account}"


class LiveState:
    def __init__(self, redis: Redis, *, stream_maxlen: int = 100_000) -> None:
        self.redis = redis
        self.stream_maxlen = stream_maxlen

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def publish(self, event: Mapping[str, object]) -> str:
        """To the shared stream and, when the event names an agent, to that agent's own stream too."""
        require_catalogued(event)
        fields = {"event": json.dumps(event, ensure_ascii=False)}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(EVENTS_STREAM, fields, maxlen=self.stream_maxlen, approximate=True)
            if event.get("agent"):
                pipe.xadd(
                    agent_stream(str(event["agent"])), fields, maxlen=AGENT_STREAM_MAXLEN, approximate=True
                )
            entry_id = (await pipe.execute())[0]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def publish_to_agent(self, account: str, event: Mapping[str, object]) -> str:
        """Only to the agent's stream: what their screen shows of a caller is not for every listener."""
        require_catalogued(event)
        entry_id = await self.redis.xadd(
            agent_stream(account),
            {"event": json.dumps(event, ensure_ascii=False)},
            maxlen=AGENT_STREAM_MAXLEN,
            approximate=True,
        )
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def put_call(self, call_id: str, summary: Mapping[str, object]) -> None:
        await self.redis.hset(CALLS_HASH, call_id, json.dumps(summary, ensure_ascii=False))

    async def calls(self) -> dict[str, dict[str, object]]:
        """The live-call table as the last controller left it."""
        return {
            (k.decode() if isinstance(k, bytes) else k): json.loads(v)
            for k, v in (await self.redis.hgetall(CALLS_HASH)).items()
        }

    async def remove_call(self, call_id: str) -> None:
        await self.redis.hdel(CALLS_HASH, call_id)

    async def replace_calls(self, calls: Mapping[str, Mapping[str, object]]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(CALLS_HASH)
            if calls:
                pipe.hset(
                    CALLS_HASH, mapping={k: json.dumps(v, ensure_ascii=False) for k, v in calls.items()}
                )
            await pipe.execute()

    async def note_caller_call(self, number: str, call: Mapping[str, object], day: str) -> int:
        """Remember a caller's call for the screen pop; returns how many times they called on ``day``."""
        history, today = f"{CALLER_PREFIX}{number}:calls", f"{CALLER_PREFIX}{number}:{day}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(history, json.dumps(call, ensure_ascii=False))
            pipe.ltrim(history, 0, CALLER_HISTORY - 1)
            pipe.incr(today)
            pipe.expire(today, 2 * 86400)
            replies = await pipe.execute()
        return int(replies[2])

    async def caller_calls(self, number: str) -> list[dict[str, object]]:
        """The caller's recent calls, newest first."""
        return [json.loads(raw) for raw in await self.redis.lrange(f"{CALLER_PREFIX}{number}:calls", 0, -1)]
