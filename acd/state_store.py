"""The ACD's state in Redis, so a controller restart keeps the queue order, agent states and callbacks.

The engine stays the one writer; after each step the controller hands its
changes here, and they are written in one MULTI/EXEC, so Redis never holds half
a step (a call offered while its agent still shows ready). On start the
controller loads the whole state back into a new engine.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from acd.engine import Changes, Engine, Settings

AGENTS_HASH = "hotline:acd:agents"
CALLS_HASH = "hotline:acd:calls"
LAST_OFFERED_HASH = "hotline:acd:last_offered"


class AcdStateStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def write(self, changes: Changes) -> None:
        left = [call_id for call_id, values in changes.calls.items() if values is None]
        kept = {call_id: values for call_id, values in changes.calls.items() if values is not None}
        if not (changes.agents or changes.calls or changes.last_offered):
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            if changes.agents:
                pipe.hset(AGENTS_HASH, mapping={a: _dumps(v) for a, v in changes.agents.items()})
            if kept:
                pipe.hset(CALLS_HASH, mapping={c: _dumps(v) for c, v in kept.items()})
            if left:
                pipe.hdel(CALLS_HASH, *left)
            if changes.last_offered:
                pipe.hset(LAST_OFFERED_HASH, mapping=changes.last_offered)
            await pipe.execute()

    async def load(self, settings: Settings) -> Engine:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(AGENTS_HASH)
            pipe.hgetall(CALLS_HASH)
            pipe.hgetall(LAST_OFFERED_HASH)
            agents, calls, last_offered = await pipe.execute()
        return Engine.from_json(
            {
                "agents": {_text(k): json.loads(v) for k, v in agents.items()},
                "calls": {_text(k): json.loads(v) for k, v in calls.items()},
                "last_offered": {_text(k): _text(v) for k, v in last_offered.items()},
            },
            settings,
        )


def _dumps(values: object) -> str:
    return json.dumps(values, ensure_ascii=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
