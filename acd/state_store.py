"""The ACD's state in Redis, so a controller restart keeps the queue order, agent states and callbacks.

The engine stays the one writer; after each step the controller hands its
changes here, and they are written in one MULTI/EXEC, so Redis never holds half
a step (a call offered while its agent still shows ready). On start the
controller loads the whole state back into a new engine.

Writing only changes means a Redis that restarted without its data (no
persistence, or a lost disk) would silently hold a fragment. Every write sets a
marker and first asks whether it was there: when it was not, the caller writes
the whole state back at once.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from hotline.acd.engine import Changes, Engine, Settings

AGENTS_HASH = "hotline:acd:agents"
CALLS_HASH = "hotline:acd:calls"
LAST_OFFERED_HASH = "hotline:acd:last_offered"
#: Set by every write; gone only if Redis lost its data since the last one.
MARKER = "hotline:acd:kept"


class AcdStateStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def write(self, changes: Changes) -> bool:
        """Write one step's changes; False when Redis had lost the state before it (then call ``write_all``).

        A step that changed nothing still asks, so a loss is noticed within the controller's next tick.
        """
        if not (changes.agents or changes.calls or changes.last_offered):
            return bool(await self.redis.exists(MARKER))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(MARKER)
            for key, changed in ((AGENTS_HASH, changes.agents), (CALLS_HASH, changes.calls)):
                kept = {name: _dumps(values) for name, values in changed.items() if values is not None}
                gone = [name for name, values in changed.items() if values is None]
                if kept:
                    pipe.hset(key, mapping=kept)
                if gone:
                    pipe.hdel(key, *gone)
            if changes.last_offered:
                pipe.hset(LAST_OFFERED_HASH, mapping=changes.last_offered)
            pipe.set(MARKER, "1")
            return bool((await pipe.execute())[0])

    async def kept(self) -> bool:
        """Whether Redis holds a state some controller wrote (its marker): none on a first start, nor after
        Redis lost its data."""
        return bool(await self.redis.exists(MARKER))

    async def write_all(self, engine: Engine) -> None:
        """Replace what Redis holds with the whole of ``engine``, in one transaction."""
        state = engine.to_json()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(AGENTS_HASH, CALLS_HASH, LAST_OFFERED_HASH)
            for key, records in ((AGENTS_HASH, state["agents"]), (CALLS_HASH, state["calls"])):
                if records:
                    pipe.hset(key, mapping={name: _dumps(values) for name, values in records.items()})
            if state["last_offered"]:
                pipe.hset(LAST_OFFERED_HASH, mapping=state["last_offered"])
            pipe.set(MARKER, "1")
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
