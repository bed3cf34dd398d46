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
        if not (changes.agents or changes.calls or changes.last_offered):
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, changed in ((AGENTS_HASH, changes.agents), (CALLS_HASH, changes.calls)):
                kept = {name: _dumps(values) for name, values in changed.items() if values is not None}
                gone = [name for name, values in changed.items() if values is None]
                if kept:
                    pipe.hset(key, mapping=kept)
                if gone:
                    pipe.hdel(key, *gone)
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
