"""The controller's web server: health, and websockets of live events served from the event hub."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web
from redis.exceptions import RedisError

from kernel.api.errors import ApiError
from kernel.api.hub import CLIENT_LEFT, EventHub
from kernel.runtime.events import catalogue_json

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
HEALTH_KEY = web.AppKey("health", HealthCheck)
HUB_KEY = web.AppKey("event_hub", EventHub)
#: A workspace needs one or two sockets; a cap keeps one user from holding hundreds.
MAX_SOCKETS_PER_USER = 8
HTTP_ERROR_IDS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (no such path, wrong method, body too large) answer in the API's shape too."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        body = {"error_id": HTTP_ERROR_IDS.get(exc.status, "bad-request"), "message": exc.reason}
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.json_response(body, status=exc.status, headers=headers)


def create_app(health: HealthCheck, hub: EventHub) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app[HEALTH_KEY] = health
    app[HUB_KEY] = hub
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/events/catalogue.json", event_catalogue)

    async def end_streams(_app: web.Application) -> None:
        """On shutdown every socket closes at once, instead of holding the stop for its handler."""
        await hub.close()

    app.on_shutdown.append(end_streams)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when AMI, Redis and the database all answer; 503 naming what does not."""
    checks = await request.app[HEALTH_KEY]()
    healthy = all(checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503
    )


async def event_catalogue(_request: web.Request) -> web.Response:
    """Every event type the streams carry, with what it means and its fields (kernel/runtime/events.py)."""
    return web.json_response(catalogue_json(), dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def stream_events(request: web.Request, stream: str, owner: str) -> web.WebSocketResponse:
    """A websocket of one event stream, from ``?since=ID`` or from now, until the client or the server goes.

    ``owner`` is the authenticated user: each may hold only a few sockets at once.
    """
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise ApiError("websocket-required", "此地址是 WebSocket，请以 WebSocket 方式连接", 426)
    since = request.query.get("since", "")
    if since and not _is_stream_id(since):
        raise ApiError("bad-since", "since must be a stream id like 1700000000000-0", 400)
    hub = request.app[HUB_KEY]
    if hub.count(owner) >= MAX_SOCKETS_PER_USER:
        raise ApiError("too-many-sockets", f"每个用户最多同时打开 {MAX_SOCKETS_PER_USER} 个事件连接", 429)
    try:
        subscription = await hub.subscribe(stream, owner, since)
    except (RedisError, OSError) as exc:
        log.warning("events: cannot subscribe to %s: %s", stream, exc)
        raise ApiError("events-unavailable", "事件服务暂不可用（Redis 无法连接），请稍后重连", 503) from None
    # A client that never answers a close holds the shutdown for at most a second.
    ws = web.WebSocketResponse(heartbeat=20, timeout=1.0)
    try:
        await ws.prepare(request)
        # The client's close ends the subscription at once, even on a quiet stream.
        closed = asyncio.create_task(_drain(ws))
        closed.add_done_callback(lambda _: subscription.end(CLIENT_LEFT))
        try:
            async for entry_id, event in hub.events(subscription):
                await ws.send_json({"id": entry_id, **event})
        except ConnectionResetError:
            pass
        finally:
            closed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closed
    finally:
        hub.unsubscribe(subscription)
    ended = subscription.ended
    if ended is not None and ended is not CLIENT_LEFT:
        await ws.close(code=ended.code, message=ended.reason.encode())
    else:
        await ws.close()
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the client sends, so its close is noticed."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


def _is_stream_id(value: str) -> bool:
    left, sep, right = value.partition("-")
    return left.isdigit() and (not sep or right.isdigit()) and len(value) <= 41
