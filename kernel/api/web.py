"""The controller's web server: health, websockets of live events served from the event hub, and the
headers every answer carries (pages never framed nor sniffed, JSON never cached, no version named)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web, web_response
from redis.exceptions import RedisError

from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.hub import CLIENT_LEFT, EventHub
from hotline.kernel.runtime.events import catalogue_json

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
HEALTH_KEY = web.AppKey("health", HealthCheck)
HUB_KEY = web.AppKey("event_hub", EventHub)
#: A workspace needs one or two sockets; a cap keeps one user from holding hundreds.
MAX_SOCKETS_PER_USER = 8
HTTP_ERROR_IDS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The methods the API's description has for a path, or None for a path it does not describe.
DocumentedMethods = Callable[[str], list[str] | None]
DOCUMENTED_METHODS_KEY = web.AppKey("documented_methods", DocumentedMethods)  # type: ignore[type-abstract]
#: Every page: its own scripts, styles and API only (CSP Level 3's 'self' covers websockets to the same
#: host), never inside another site's frame (the wallboard's 监听/强插 buttons are worth clickjacking).
PAGE_POLICY = (
    "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: What the ``Server`` header says: no library, no version.
SERVER_NAME = "hotline"


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (no such path, wrong method, body too large) answer in the API's shape too."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, headers = exc.status, {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        described = request.app.get(DOCUMENTED_METHODS_KEY)
        if status == 405 and described is not None:
            # aiohttp allows every method of every route the path fits; the description's own say.
            methods = described(request.path)
            if methods is not None:
                headers = {"Allow": ",".join(methods)}
        message = _REASONS.get(status, exc.reason)
        body = {"error_id": HTTP_ERROR_IDS.get(status, "bad-request"), "message": message}
        return web.json_response(body, status=status, headers=headers)


_REASONS = {404: "没有这个地址", 405: "此地址不接受这个方法（见 Allow）"}


async def answer_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """Every answer, however made (a handler, aiohttp's own refusal, a static file, a websocket)."""
    response.headers["Server"] = SERVER_NAME
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.content_type == "text/html":
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers.setdefault("Cache-Control", "no-cache")
    elif response.content_type == "application/json":
        response.headers["Cache-Control"] = "no-store"  # tokens, callers' numbers: no cache keeps them


def create_app(health: HealthCheck, hub: EventHub) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app.on_response_prepare.append(answer_headers)
    # aiohttp answers a malformed request (400) before any app or hook sees it, with this module's name
    # for itself (its version included) as the Server header.
    web_response.SERVER_SOFTWARE = SERVER_NAME
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
