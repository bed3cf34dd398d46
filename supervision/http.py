"""The supervisors' routes: listen to, whisper into or barge into an agent's call, switch, end, and read
who did so (the audit trail). Supervisors and administrators only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.kernel.api.errors import invalid
from hotline.kernel.api.routes import MANAGERS, SAID, ApiRequest, Param, Route, text
from hotline.supervision.messages import EVERYONE, TEXT_MAX, Messenger
from hotline.supervision.monitors import Monitors
from hotline.supervision.spying import MonitorMode

MONITORS_KEY = web.AppKey("monitors", Monitors)
MESSENGER_KEY = web.AppKey("messenger", Messenger)
MODES = [mode.value for mode in MonitorMode]


def _monitors(call: ApiRequest) -> Monitors:
    return call.request.app[MONITORS_KEY]


def _field(call: ApiRequest, name: str) -> str:
    value = call.body.get(name) if isinstance(call.body, dict) else None
    if not isinstance(value, str):
        raise invalid(name, "必填，须为文本")
    return value


def _mode(call: ApiRequest) -> MonitorMode:
    try:
        return MonitorMode.parse(_field(call, "mode"))  # the code or the Chinese word
    except ValueError:
        choices = "、".join(f"{m.value}（{m.label}）" for m in MonitorMode)
        raise invalid("mode", f"须为 {choices}") from None


async def start_monitor(call: ApiRequest) -> dict[str, Any]:
    mode, phone = _mode(call), _field(call, "phone")
    return (await _monitors(call).start(call.match("call_id"), mode, phone, call.actor)).view()


async def switch_monitor(call: ApiRequest) -> dict[str, Any]:
    mode = _mode(call)
    return (await _monitors(call).switch(call.match("monitor_id"), mode, call.actor)).view()


async def end_monitor(call: ApiRequest) -> dict[str, Any]:
    return (await _monitors(call).end(call.match("monitor_id"), call.actor)).view()


async def list_monitors(call: ApiRequest) -> list[dict[str, Any]]:
    return [monitor.view() for monitor in _monitors(call).active()]


async def monitor_audit(call: ApiRequest) -> list[dict[str, Any]]:
    return await _monitors(call).audit.entries(call.request.query.get("call_id", ""))


async def send_message(call: ApiRequest) -> dict[str, Any]:
    body = call.body if isinstance(call.body, dict) else {}
    to = body.get("to")
    sent = await call.request.app[MESSENGER_KEY].send(to, _field(call, "text"), call.actor)
    return {"to": sent}


_MODE = {"type": "string", "enum": MODES}
#: A monitor's id as ``Monitors.start`` makes it (and no other word, such as ``audit``, beside it).
_MONITOR_ID = {"monitor_id": Param({"type": "string", "pattern": "^[0-9a-f]{12}$"})}

SUPERVISION_ROUTES = [
    Route(
        "POST",
        "/api/calls/{call_id}/monitor",
        start_monitor,
        MANAGERS,
        "监听/密语/强插: ring the supervisor's phone and attach it to the agent's call",
        {
            "type": "object",
            "properties": {"mode": _MODE, "phone": {"type": "string", "pattern": "^[0-9]{3,8}$"}},
            "required": ["mode", "phone"],
        },
        status=201,
        creates=("monitor_id", "/monitor_id"),
    ),
    Route("GET", "/api/monitors", list_monitors, MANAGERS, "进行中的监听: monitors running now"),
    Route(
        "GET",
        "/api/monitors/audit",
        monitor_audit,
        MANAGERS,
        "监听记录: every monitor started, switched, ended, newest first (?call_id= for one call)",
        query={"call_id": text()},
    ),
    Route(
        "PATCH",
        "/api/monitors/{monitor_id}",
        switch_monitor,
        MANAGERS,
        "切换监听方式: listen, whisper or barge, as keys 4, 5, 6 on the supervisor's phone do",
        {"type": "object", "properties": {"mode": _MODE}, "required": ["mode"]},
        path_params=_MONITOR_ID,
    ),
    Route(
        "DELETE",
        "/api/monitors/{monitor_id}",
        end_monitor,
        MANAGERS,
        "结束监听: hang up the monitor",
        path_params=_MONITOR_ID,
    ),
    Route(
        "POST",
        "/api/messages",
        send_message,
        MANAGERS,
        f"班长消息: a short message to agents' screens; to is a list of accounts, or {EVERYONE} (signed in)",
        {
            "type": "object",
            "properties": {
                "to": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        {"type": "string", "enum": [EVERYONE]},
                    ]
                },
                "text": {"type": "string", "pattern": SAID, "maxLength": TEXT_MAX},
            },
            "required": ["to", "text"],
        },
    ),
]


#: The wallboard's files: static, no build step; the data comes from the API with the user's own token.
#: Every page, by either address, gets the kernel's page headers (kernel/api/web.py: ``answer_headers``).
WEB = Path(__file__).with_name("web")


async def wallboard_page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB / "wallboard.html")


def add_supervision(app: web.Application, monitors: Monitors, messenger: Messenger) -> None:
    app[MONITORS_KEY] = monitors
    app[MESSENGER_KEY] = messenger
    app.router.add_get("/wallboard", wallboard_page)
    app.router.add_static("/static/supervision/", WEB)
