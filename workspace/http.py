"""The agent's own routes at the desk: their state (sign in, ready, break, wrap-up), dial-out, their socket.

An agent changes only their own state and opens only their own socket (their user name is their SIP
account); a supervisor or an administrator may act for anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from hotline.acd.chart import agent_view
from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import BREAK_REASONS, AcdError
from hotline.kernel.api.errors import ApiError, invalid
from hotline.kernel.api.identity import Role
from hotline.kernel.api.routes import PLATFORM, ApiRequest, Route, one_of
from hotline.kernel.api.web import stream_events
from hotline.kernel.runtime.live import agent_stream
from hotline.workspace.commands import COMMANDS, apply_agent_command
from hotline.workspace.dial_out import DialOut

IsAgent = Callable[[str], bool]
DESK_DISPATCHER_KEY = web.AppKey("desk_dispatcher", Dispatcher)
DIAL_OUT_KEY = web.AppKey("dial_out", DialOut)
IS_AGENT_KEY = web.AppKey("is_agent", IsAgent)  # type: ignore[type-abstract]


def _own_seat(call: ApiRequest, account: str) -> None:
    if call.actor.role == Role.AGENT and call.actor.name != account:
        raise ApiError("forbidden", f"话务员只能操作自己的坐席（{call.actor.name}）", 403)


async def change_agent(call: ApiRequest) -> dict[str, Any]:
    account, command = call.match("account"), call.match("command")
    if command not in COMMANDS:
        raise ApiError("bad-command", f"没有坐席操作 {command!r}，可用：{'、'.join(COMMANDS)}", 404)
    _own_seat(call, account)
    reason = str(call.body.get("reason", "")) if isinstance(call.body, dict) else ""
    try:
        agent = await call.request.app[DESK_DISPATCHER_KEY].step(
            lambda engine, now: apply_agent_command(engine, account, command, reason, now)
        )
    except AcdError as error:
        raise ApiError(
            error.error_id, str(error), 404 if error.error_id == "unknown-agent" else 409
        ) from None
    return agent_view(agent)


async def dial(call: ApiRequest) -> dict[str, Any]:
    """The agent's phone rings first; the citizen is dialled once they answer."""
    account = call.match("account")
    _own_seat(call, account)
    body = call.body if isinstance(call.body, dict) else {}
    number, ticket = body.get("number"), body.get("ticket", "")
    if not isinstance(number, str) or not number:
        raise invalid("number", "必填，须为号码")
    if not isinstance(ticket, str):
        raise invalid("ticket", "须为工单编号")
    return await call.request.app[DIAL_OUT_KEY].dial(account, number, ticket, call.actor)


async def agent_events(call: ApiRequest) -> web.WebSocketResponse:
    """The agent workspace's socket: their screen pops, their state and their calls, nobody else's."""
    account = call.match("account")
    _own_seat(call, account)
    if not call.request.app[IS_AGENT_KEY](account):
        raise ApiError("unknown-agent", f"没有坐席 {account}", 404)
    return await stream_events(call.request, agent_stream(account), call.actor.name)


_REASON_BODY = {"type": "object", "properties": {"reason": {"type": "string", "enum": list(BREAK_REASONS)}}}

WORKSPACE_ROUTES = [
    Route(
        "POST",
        "/api/agents/{account}/dial",
        dial,
        PLATFORM,
        "坐席外呼 (回访): the agent's phone, then the citizen, shown as 12345, recorded, noted on the ticket",
        {
            "type": "object",
            "properties": {
                "number": {"type": "string", "pattern": "^[0-9]{3,20}$"},
                "ticket": {"type": "string", "maxLength": 40},
            },
            "required": ["number"],
        },
        status=202,
    ),
    Route(
        "POST",
        "/api/agents/{account}/{command}",
        change_agent,
        PLATFORM,
        "签入/签出/就绪/小休/话后处理: login, logout, ready, break (reason), wrap-up",
        _REASON_BODY,
        path_params={"command": one_of(COMMANDS)},
    ),
    Route(
        "GET",
        "/api/agents/{account}/events",
        agent_events,
        PLATFORM,
        "坐席事件 (websocket): screen pops with the caller's history, the agent's state and calls;"
        " ?access_token= for browsers, ?since= to replay",
        websocket=True,
    ),
]


def add_workspace(app: web.Application, dispatcher: Dispatcher, dial_out: DialOut, is_agent: IsAgent) -> None:
    app[DESK_DISPATCHER_KEY] = dispatcher
    app[DIAL_OUT_KEY] = dial_out
    app[IS_AGENT_KEY] = is_agent
