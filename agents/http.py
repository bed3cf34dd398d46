"""The agents' routes: seats added, changed and stopped; every agent's state; the floor's socket and queue.

They share the ticket API's bearer tokens, roles, error shape and OpenAPI
document. An agent changes only their own state and opens only their own
socket (their user name is their SIP account); a supervisor or an
administrator may act for anyone, and alone adds, changes or stops seats.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.acd.chart import agent_view
from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AcdError, Agent
from hotline.agents.directory import AgentExists, AgentRecord
from hotline.agents.profiles import NAME_FORBIDDEN, NAME_MAX, AgentProfile, ProfileError
from hotline.agents.roster import NameTaken, Roster, UnknownAgent
from hotline.kernel.api.errors import ApiError, invalid
from hotline.kernel.api.identity import Role
from hotline.kernel.api.routes import MANAGERS, PLATFORM, USERS_KEY, ApiRequest, Route
from hotline.kernel.api.web import HUB_KEY, stream_events
from hotline.kernel.runtime.live import EVENTS_STREAM

DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)
ROSTER_KEY = web.AppKey("roster", Roster)


def _dispatcher(call: ApiRequest) -> Dispatcher:
    return call.request.app[DISPATCHER_KEY]


def _view(call: ApiRequest, agent: Agent) -> dict[str, Any]:
    profile = call.request.app[ROSTER_KEY].profiles.get(agent.account)
    return {**agent_view(agent), "name": profile.label if profile else ""}


async def list_agents(call: ApiRequest) -> list[dict[str, Any]]:
    return [_view(call, agent) for agent in _dispatcher(call).agents()]


async def show_agent(call: ApiRequest) -> dict[str, Any]:
    agent = _dispatcher(call).agent(call.match("account"))
    if agent is None:
        raise ApiError("unknown-agent", f"没有坐席 {call.match('account')}", 404)
    return _view(call, agent)


async def add_agent(call: ApiRequest) -> dict[str, Any]:
    """A new seat: stored, its SIP endpoint provisioned, and an API token for the agent's workspace."""
    users = call.request.app[USERS_KEY]
    try:
        record, password, provisioned = await call.request.app[ROSTER_KEY].add(call.body, users.exists)
    except AgentExists as error:
        raise ApiError("agent-exists", str(error), 409, field=error.field) from None
    except NameTaken as error:
        raise ApiError("user-exists", str(error), 409, field=error.field) from None
    except ProfileError as error:
        raise invalid(error.field, str(error)) from None
    # The seat's account is also the user the agent works tickets as: one identity, never another's.
    token = await users.add(record.profile.account, Role.AGENT.value)
    return {**_record_view(record, provisioned), "sip_password": password, "api_token": token}


async def change_profile(call: ApiRequest) -> dict[str, Any]:
    """Rename, re-skill, stop or bring back a seat; a stopped agent's phone and token stop working."""
    account = call.match("account")
    try:
        record, provisioned = await call.request.app[ROSTER_KEY].change(account, call.body)
    except UnknownAgent as error:
        raise ApiError("unknown-agent", str(error), 404) from None
    except ProfileError as error:
        raise invalid(error.field, str(error)) from None
    except AcdError as error:
        raise ApiError(error.error_id, str(error), 409) from None
    await call.request.app[USERS_KEY].set_active(account, record.profile.active)
    if not record.profile.active:
        call.request.app[HUB_KEY].end_owner(account)
    return _record_view(record, provisioned)


def profile_view(profile: AgentProfile) -> dict[str, Any]:
    return {
        "account": profile.account,
        "name": profile.name,
        "label": profile.label,
        "skills": profile.skills,
        "active": profile.active,
    }


def _record_view(record: AgentRecord, provisioned: bool) -> dict[str, Any]:
    return {**profile_view(record.profile), "provisioned": provisioned}


async def floor_events(call: ApiRequest) -> web.WebSocketResponse:
    """Every call and agent event of the floor, for supervisors: callers' numbers are on it."""
    return await stream_events(call.request, EVENTS_STREAM, call.actor.name)


async def show_queue(call: ApiRequest) -> list[dict[str, Any]]:
    """Waiting calls in the order they will be answered, callbacks included."""
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
        for c in _dispatcher(call).waiting()
    ]


_UNNAMED = NAME_FORBIDDEN.pattern[1:-1]  # the characters a name may not hold, as a class's inside
#: check_name: trimmed, 1 to NAME_MAX characters, none of NAME_FORBIDDEN.
_NAME = rf"^\s*[^\s{_UNNAMED}](?:[^{_UNNAMED}]{{0,{NAME_MAX - 2}}}[^\s{_UNNAMED}])?\s*$"
_PROFILE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "pattern": _NAME},
    "skills": {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": r"^[^\s,;:=\u0000]+$"},
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 9},
    },
}
_NEW_PROFILE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"account": {"type": "string", "pattern": "^[1-9][0-9]{3,7}$"}, **_PROFILE_FIELDS},
    "required": ["account", "name"],
}
_PROFILE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {**_PROFILE_FIELDS, "active": {"type": "boolean"}},
}
AGENT_ROUTES = [
    Route("GET", "/api/agents", list_agents, PLATFORM, "坐席状态: every agent's state"),
    Route("GET", "/api/agents/{account}", show_agent, PLATFORM, "坐席状态: one agent"),
    Route(
        "GET",
        "/api/events",
        floor_events,
        MANAGERS,
        "话务事件 (websocket): every call, queue and agent event of the floor;"
        " ?access_token= for browsers, ?since= to replay",
        websocket=True,
    ),
    Route("GET", "/api/acd/queue", show_queue, PLATFORM, "排队: waiting calls and callbacks in answer order"),
    Route(
        "POST",
        "/api/agents",
        add_agent,
        MANAGERS,
        "新增坐席: a seat with its SIP account (password and API token shown once)",
        _NEW_PROFILE,
        status=201,
        creates=("account", "/account"),
    ),
    Route(
        "PATCH",
        "/api/agents/{account}",
        change_profile,
        MANAGERS,
        "修改/停用坐席: rename, change skills, stop (active=false) or bring back",
        _PROFILE_CHANGE,
    ),
]


def add_agent_state(app: web.Application, dispatcher: Dispatcher, roster: Roster) -> None:
    app[DISPATCHER_KEY] = dispatcher
    app[ROSTER_KEY] = roster
