"""The controller's web server: health and the live event stream (aiohttp)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from hotline.live import EVENTS_STREAM, LiveState

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
HEALTH_KEY = web.AppKey("health", HealthCheck)
LIVE_KEY = web.AppKey("live", LiveState)


def create_app(health: HealthCheck, live: LiveState) -> web.Application:
    app = web.Application()
    app[HEALTH_KEY] = health
    app[LIVE_KEY] = live
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/events", events)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when AMI, Redis and the database all answer; 503 naming what does not."""
    checks = await request.app[HEALTH_KEY]()
    healthy = all(checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503
    )


async def events(request: web.Request) -> web.WebSocketResponse:
    """Stream call events as JSON; ``?since=ID`` replays from a stream id, default: from now."""
    return await stream_events(request, EVENTS_STREAM)


async def stream_events(request: web.Request, stream: str) -> web.WebSocketResponse:
    """A websocket of one Redis event stream, from ``?since=ID`` or from now, until the client goes."""
    live = request.app[LIVE_KEY]
    since = request.query.get("since", "")
    if since and not _is_stream_id(since):
        raise web.HTTPBadRequest(
            text='{"error_id": "bad-since", "message": "since must be a stream id like 1700000000000-0"}',
            content_type="application/json",
        )
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    after = since or await live.last_event_id(stream)
    closed = asyncio.create_task(_drain(ws))
    try:
        while not closed.done():
            for entry_id, event in await live.read_events(after, block_ms=500, stream=stream):
                await ws.send_json({"id": entry_id, **event})
                after = entry_id
    except ConnectionResetError:
        pass
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed
        await ws.close()
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the client sends, so its close is noticed."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


def _is_stream_id(value: str) -> bool:
    left, sep, right = value.partition("-")
    return left.isdigit() and (not sep or right.isdigit())
