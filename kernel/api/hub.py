"""One Redis reader for every websocket: events fanned out in process.

A websocket per client holding its own blocking Redis read once exhausted the
connection pool that the call path shares, and callers suffered for web
clients. Here one task reads every stream that has subscribers (a single
``XREAD`` over all of them) on the web's own small connection budget, and
hands each event to the subscribers' bounded queues. A subscriber too slow to
keep up is ended, not waited for. A replay (``?since=``) pages through the
stream's history on its own, then joins the live feed exactly where the hub
took over, so nothing is missed or sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hotline.kernel.runtime.backoff import backoff_delays

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Ended:
    """Why a subscription ended: a websocket close code and a reason the client is shown."""

    code: int
    reason: str


GOING_AWAY = Ended(1001, "服务器正在停止")
TOO_SLOW = Ended(1013, "客户端读取过慢，请带 since 参数重新连接")
DEACTIVATED = Ended(1008, "账号已停用")
UNAVAILABLE = Ended(1013, "事件服务暂不可用，请稍后带 since 参数重新连接")
CLIENT_LEFT = Ended(1000, "")


@dataclass(eq=False)
class Subscription:
    stream: str
    owner: str
    since: str  # replay history after this id, up to ``joined``
    joined: str  # the hub delivers everything after this id
    queue: asyncio.Queue[Event | Ended] = field(default_factory=lambda: asyncio.Queue(1000))
    ended: Ended | None = None

    def end(self, why: Ended) -> None:
        if self.ended is None:
            self.ended = why
            with contextlib.suppress(asyncio.QueueFull):  # a full queue wakes its reader anyway
                self.queue.put_nowait(why)


class EventHub:
    def __init__(self, redis: Redis, *, block_ms: int = 250, batch: int = 500, page: int = 500) -> None:
        self.redis = redis
        self.block_ms, self.batch, self.page = block_ms, batch, page
        self._cursors: dict[str, str] = {}
        self._subscribers: dict[str, set[Subscription]] = {}
        self._wake = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    def count(self, owner: str) -> int:
        return sum(1 for subs in self._subscribers.values() for s in subs if s.owner == owner)

    async def subscribe(self, stream: str, owner: str, since: str = "") -> Subscription:
        """Events after ``since`` (an entry id), or from now when it is empty."""
        if self._closed:
            raise ConnectionError("the event hub is closed")
        if stream not in self._cursors:
            last = await self._last_id(stream)
            self._cursors.setdefault(stream, last)
        joined = self._cursors[stream]
        subscription = Subscription(stream, owner, since or joined, joined)
        self._subscribers.setdefault(stream, set()).add(subscription)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="event-hub")
        self._wake.set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subs = self._subscribers.get(subscription.stream)
        if subs is None:
            return
        subs.discard(subscription)
        if not subs:
            del self._subscribers[subscription.stream]
            del self._cursors[subscription.stream]

    def end_owner(self, owner: str, why: Ended = DEACTIVATED) -> int:
        """End every subscription of ``owner`` (a stopped agent's open sockets); returns how many."""
        ended = [s for subs in self._subscribers.values() for s in subs if s.owner == owner]
        for subscription in ended:
            subscription.end(why)
        return len(ended)

    async def events(self, subscription: Subscription) -> AsyncIterator[Event]:
        """The replay, then live events, until the subscription ends.

        A replay that Redis cannot serve ends the subscription (close 1013) with the last id sent, so
        the client resumes from it; live events wait out a Redis outage instead.
        """
        after = subscription.since
        while _before(after, subscription.joined):
            try:
                entries = await self.redis.xrange(
                    subscription.stream, f"({after}", subscription.joined, self.page
                )
            except (RedisError, OSError) as exc:
                log.warning("event hub: replay of %s failed: %s", subscription.stream, exc)
                subscription.end(UNAVAILABLE)
                return
            if not entries:
                break
            for entry_id, fields in entries:
                after = _text(entry_id)
                yield after, _event(fields)
        while subscription.ended is None:
            item = await subscription.queue.get()
            if isinstance(item, Ended):
                return
            yield item

    async def close(self) -> None:
        """End every subscription (their sockets close at once) and stop reading."""
        self._closed = True
        for subs in list(self._subscribers.values()):
            for subscription in list(subs):
                subscription.end(GOING_AWAY)
        if self._reader is not None:
            self._reader.cancel()
            # Never wait on the reader for ever: a Redis client that turns the cancellation into an
            # error of its own must not hold the controller's stop.
            done, _ = await asyncio.wait({self._reader}, timeout=1.0)
            if not done:
                log.error("event hub: the Redis reader did not stop within 1 s; leaving it")

    async def _last_id(self, stream: str) -> str:
        entries = await self.redis.xrevrange(stream, count=1)
        return _text(entries[0][0]) if entries else "0-0"

    async def _read(self) -> None:
        delays = backoff_delays(0.2, 5.0)
        while not self._closed:
            if not self._cursors:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                reply = await self.redis.xread(dict(self._cursors), block=self.block_ms, count=self.batch)
            except Exception as exc:  # Redis away: subscribers keep their sockets and resume from the cursor
                if self._closed:
                    return
                log.warning("event hub: reading Redis failed, retrying: %s", exc)
                await asyncio.sleep(next(delays))
                continue
            delays = backoff_delays(0.2, 5.0)
            for raw_stream, entries in reply or []:
                self._deliver(_text(raw_stream), entries)

    def _deliver(self, stream: str, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        subscribers = self._subscribers.get(stream)
        if subscribers is None:  # everyone left while the read was under way
            return
        for entry_id, fields in entries:
            item = (_text(entry_id), _event(fields))
            for subscription in list(subscribers):
                if subscription.ended is not None:
                    continue
                try:
                    subscription.queue.put_nowait(item)
                except asyncio.QueueFull:
                    subscription.end(TOO_SLOW)
            self._cursors[stream] = item[0]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _event(fields: dict[Any, Any]) -> dict[str, Any]:
    return json.loads(fields.get(b"event") or fields.get("event"))


def _before(a: str, b: str) -> bool:
    """Stream ids compare as (milliseconds, sequence)."""

    def key(entry_id: str) -> tuple[int, int]:
        ms, _, seq = entry_id.partition("-")
        return int(ms), int(seq or 0)

    return key(a) < key(b)
