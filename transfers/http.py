"""The in-call routes: live calls, transfers, three-way calls and the 110 linkage.

An agent acts on the call they answered; a supervisor or an administrator on any.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.kernel.api.errors import invalid
from hotline.kernel.api.routes import PLATFORM, ApiRequest, Route
from hotline.transfers.control import CallControl
from hotline.transfers.targets import EMERGENCY_NUMBERS, LinkageMode, Target, TargetError, TransferMode

CONTROL_KEY = web.AppKey("call_control", CallControl)
TARGET_PATTERN = r"^([0-9]{3,20}|(agent|skill):[0-9A-Za-z_.-]{1,32})$"


def _control(call: ApiRequest) -> CallControl:
    return call.request.app[CONTROL_KEY]


def _text(call: ApiRequest, name: str, default: str | None = None) -> str:
    value = call.body.get(name, default) if isinstance(call.body, dict) else default
    if not isinstance(value, str):
        raise invalid(name, "必填，须为文本")
    return value


def _target(call: ApiRequest) -> Target:
    try:
        return Target.parse(_text(call, "to"))
    except TargetError as error:
        raise invalid("to", str(error)) from None


def _choice(call: ApiRequest, name: str, kind: Any, default: str) -> Any:
    try:
        return kind.parse(_text(call, name, default))
    except ValueError:
        raise invalid(name, "须为 " + "、".join(f"{m.value}（{m.label}）" for m in kind)) from None


async def list_calls(call: ApiRequest) -> list[dict[str, Any]]:
    control = _control(call)
    return [control.view(live) for live in control.visible(call.actor)]


async def show_call(call: ApiRequest) -> dict[str, Any]:
    control = _control(call)
    return control.view(control.get(call.match("call_id"), call.actor))


async def transfer(call: ApiRequest) -> dict[str, Any]:
    target, mode = _target(call), _choice(call, "mode", TransferMode, TransferMode.BLIND.value)
    return await _control(call).transfer(call.match("call_id"), target, mode, call.actor)


async def conference(call: ApiRequest) -> dict[str, Any]:
    return await _control(call).conference(call.match("call_id"), _target(call), call.actor)


async def leave_conference(call: ApiRequest) -> dict[str, Any]:
    return await _control(call).leave(call.match("call_id"), call.actor)


async def cancel_consult(call: ApiRequest) -> dict[str, Any]:
    return await _control(call).cancel(call.match("call_id"), call.actor)


async def emergency(call: ApiRequest) -> dict[str, Any]:
    number, mode = _text(call, "to"), _choice(call, "mode", LinkageMode, LinkageMode.TRANSFER.value)
    return await _control(call).emergency(call.match("call_id"), number, mode, call.actor)


_TO = {"type": "string", "pattern": TARGET_PATTERN}

CALL_ROUTES = [
    Route("GET", "/api/calls", list_calls, PLATFORM, "进行中的通话: live calls (an agent sees their own)"),
    Route("GET", "/api/calls/{call_id}", show_call, PLATFORM, "一通进行中的通话: caller, line, agent, legs"),
    Route(
        "POST",
        "/api/calls/{call_id}/transfer",
        transfer,
        PLATFORM,
        "转接: to a number (blind or attended), agent:<account> or skill:<skill> (blind, keeping the place)",
        {
            "type": "object",
            "properties": {"to": _TO, "mode": {"type": "string", "enum": [m.value for m in TransferMode]}},
            "required": ["to"],
        },
    ),
    Route(
        "POST",
        "/api/calls/{call_id}/conference",
        conference,
        PLATFORM,
        "三方通话: caller, agent and a department (12315, 12333, ...) together",
        {"type": "object", "properties": {"to": _TO}, "required": ["to"]},
    ),
    Route(
        "POST",
        "/api/calls/{call_id}/conference/leave",
        leave_conference,
        PLATFORM,
        "坐席退出三方通话: caller and department stay connected",
    ),
    Route(
        "POST",
        "/api/calls/{call_id}/consult/cancel",
        cancel_consult,
        PLATFORM,
        "撤回转接或三方通话: the department stops ringing or is dropped; caller and agent together again",
    ),
    Route(
        "POST",
        "/api/calls/{call_id}/emergency",
        emergency,
        PLATFORM,
        "110/119/120/122 联动: one-key transfer showing the caller's number, or a three-way call",
        {
            "type": "object",
            "properties": {
                "to": {"type": "string", "enum": list(EMERGENCY_NUMBERS)},
                "mode": {"type": "string", "enum": [m.value for m in LinkageMode]},
            },
            "required": ["to"],
        },
    ),
]


def add_calls(app: web.Application, control: CallControl) -> None:
    app[CONTROL_KEY] = control
