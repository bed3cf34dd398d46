"""The agents' REST routes: their states, and login, ready, break and wrap-up from the web page.

They share the ticket API's bearer tokens, roles, error shape and OpenAPI
document. An agent changes only their own state (their user name is their SIP
account); a supervisor or an administrator may change anyone's.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acd.dispatch import Dispatcher
from acd.engine import BREAK_REASONS, AcdError
from agents.commands import COMMANDS, agent_view, apply_agent_command
from ticketing.errors import TicketError
from ticketing.http import PLATFORM, Call, Route
from ticketing.vocabulary import Role

DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)


def _dispatcher(call: Call) -> Dispatcher:
    return call.request.app[DISPATCHER_KEY]


async def list_agents(call: Call) -> list[dict[str, Any]]:
    engine = _dispatcher(call).engine
    return [agent_view(engine.agents[a]) for a in sorted(engine.agents)]


async def show_agent(call: Call) -> dict[str, Any]:
    agent = _dispatcher(call).engine.agents.get(call.match("account"))
    if agent is None:
        raise TicketError("unknown-agent", f"没有坐席 {call.match('account')}", 404)
    return agent_view(agent)


async def change_agent(call: Call) -> dict[str, Any]:
    account, command = call.match("account"), call.match("command")
    if command not in COMMANDS:
        raise TicketError("bad-command", f"没有坐席操作 {command!r}，可用：{'、'.join(COMMANDS)}", 404)
    if call.actor.role == Role.AGENT and call.actor.name != account:
        raise TicketError("forbidden", f"话务员只能操作自己的坐席（{call.actor.name}）", 403)
    reason = str(call.body.get("reason", "")) if isinstance(call.body, dict) else ""
    try:
        agent = await _dispatcher(call).step(
            lambda engine, now: apply_agent_command(engine, account, command, reason, now)
        )
    except AcdError as error:
        raise TicketError(
            error.error_id, str(error), 404 if error.error_id == "unknown-agent" else 409
        ) from None
    return agent_view(agent)


async def show_queue(call: Call) -> list[dict[str, Any]]:
    """Waiting calls in the order they will be answered, callbacks included."""
    engine = _dispatcher(call).engine
    return [
        {
            "call_id": c.call_id,
            "line": c.line,
            "skill": c.skill,
            "priority": c.priority.name.lower(),
            "arrived_at": c.arrived_at,
            "callback_number": c.callback_number,
            "offered_to": c.offered_to,
        }
        for c in engine.waiting()
    ]


_REASON_BODY = {"type": "object", "properties": {"reason": {"type": "string", "enum": list(BREAK_REASONS)}}}

AGENT_ROUTES = [
    Route("GET", "/api/agents", list_agents, PLATFORM, "坐席状态: every agent's state"),
    Route("GET", "/api/agents/{account}", show_agent, PLATFORM, "坐席状态: one agent"),
    Route(
        "POST",
        "/api/agents/{account}/{command}",
        change_agent,
        PLATFORM,
        "签入/签出/就绪/小休/话后处理: login, logout, ready, break (reason), wrap-up",
        _REASON_BODY,
    ),
    Route("GET", "/api/acd/queue", show_queue, PLATFORM, "排队: waiting calls and callbacks in answer order"),
]


def add_agent_state(app: web.Application, dispatcher: Dispatcher) -> None:
    app[DISPATCHER_KEY] = dispatcher
