"""The only way to a recording: listed by call or ticket, played by id with a reason, every access audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.kernel.api.errors import ApiError, invalid, not_found
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.api.routes import (
    EVERYONE,
    MANAGERS,
    PLATFORM,
    SAID,
    ApiRequest,
    Param,
    Route,
    said,
    text,
    whole,
    whole_number,
)
from hotline.recordings.access import (
    REASON_LIMIT,
    REASON_MAX,
    REVIEWERS,
    SNIPPET_CONTEXT,
    SNIPPETS_MAX,
    WORDS_MAX,
    may_hear,
    may_hear_confidential,
    may_list,
    search_reason,
)
from hotline.recordings.shelf import RecordingShelf, UnknownUnit

#: The calls a ticket was taken on, as this person may see the ticket (the root asks the ticket desk).
CallsOfTicket = Callable[[str, Actor], Awaitable[list[str]]]
SHELF_KEY = web.AppKey("recording_shelf", RecordingShelf)
CALLS_OF_TICKET_KEY = web.AppKey("calls_of_ticket", CallsOfTicket)  # type: ignore[type-abstract]
AGENT_WINDOW_KEY = web.AppKey("agent_window", timedelta)
ID_MAX = 2**31 - 1  # the register's integer ids
UNIT_MAX = 40  # a unit's code, as the directory keeps it


def _shelf(call: ApiRequest) -> RecordingShelf:
    return call.request.app[SHELF_KEY]


def _id(call: ApiRequest) -> int:
    return whole_number("recording_id", call.match("recording_id"), 0, 1, ID_MAX)


def _entry(actor: Actor, action: str, allowed: bool, reason: str, **more: Any) -> dict[str, Any]:
    return {
        "actor": actor.name,
        "role": actor.role.value,
        "unit_code": actor.unit,
        "action": action,
        "allowed": allowed,
        "reason": reason[:REASON_LIMIT],
        **more,
    }


def _reason(call: ApiRequest, required: str = "") -> str:
    """The reason given, at most ``REASON_MAX`` characters (the trail keeps it whole); ``required`` says why
    one is needed where it is."""
    reason = call.request.query.get("reason", "")
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"事由不能超过 {REASON_MAX} 个字")
    if required and not reason.strip():
        raise invalid("reason", required)
    return reason.strip()


def _at_most(param: Param, limit: int) -> Param:
    return Param({**param.schema, "maxLength": limit}, param.required)


async def list_recordings(call: ApiRequest) -> list[dict[str, Any]]:
    query, actor, shelf = call.request.query, call.actor, _shelf(call)
    verdict = may_list(actor)
    if not verdict.allowed:
        await shelf.audit(**_entry(actor, "list", False, verdict.message))
        raise ApiError(verdict.error_id, verdict.message, 403)
    if "text" in query:
        return await _search(call, query["text"])
    reason = _reason(call)
    if "call" in query:
        calls = [query["call"][:64]]
    elif "ticket" in query:
        calls = await call.request.app[CALLS_OF_TICKET_KEY](query["ticket"], actor)
        reason = f"{reason}（工单：{query['ticket']}）"  # a ticket's number: at most 32 characters
    else:
        raise invalid("call", "须给出 call（通话编号）或 ticket（工单编号）")
    found = await shelf.of_calls(calls, confidential=may_hear_confidential(actor, shelf.confidential_roles))
    if actor.role == Role.AGENT:  # an agent lists only the calls they answered
        found = [r for r in found if r["agent"] == actor.name]
    await shelf.audit_each(
        [_entry(actor, "list", True, reason, recording_id=r["id"], call_id=r["call_id"]) for r in found]
        # nothing shown: the listing itself is still on record
        or [_entry(actor, "list", True, reason, call_id=calls[0] if "call" in query else "")]
    )
    return found


async def _search(call: ApiRequest, words: str) -> list[dict[str, Any]]:
    """Quality review: the recordings whose words hold these, for reviewers with a reason, each shown by the
    snippets around the matches; the search is on the trail of every recording it found. A refusal is on
    the trail too, whatever else was wrong with the request."""
    actor, shelf = call.actor, _shelf(call)
    if actor.role not in REVIEWERS:
        tried = search_reason(
            call.request.query.get("reason", "").strip()[:REASON_MAX], words.strip()[:WORDS_MAX]
        )
        await shelf.audit(**_entry(actor, "search", False, tried))
        raise ApiError("reviewers-only", "按通话内容检索录音仅限班长、质检员和管理员", 403)
    if len(words) > WORDS_MAX:
        raise invalid("text", f"检索的词语不能超过 {WORDS_MAX} 个字")
    words = words.strip()
    if not words:
        raise invalid("text", "须给出要检索的词语")
    why = search_reason(_reason(call, "检索录音转写文本须说明事由"), words)
    found = await shelf.search(words, confidential=may_hear_confidential(actor, shelf.confidential_roles))
    await shelf.audit_each(
        [_entry(actor, "search", True, why, recording_id=r["id"], call_id=r["call_id"]) for r in found]
        or [_entry(actor, "search", True, why)]  # nothing found: the search itself is still on record
    )
    return found


async def _heard(call: ApiRequest, action: str) -> tuple[dict[str, Any], Path]:
    """The recording asked for, once this person may hear it for the reason they gave (audited)."""
    actor, shelf, recording_id = call.actor, _shelf(call), _id(call)
    reason = _reason(call, "收听录音须说明事由")
    found = await shelf.find(recording_id)
    if found is None:
        raise not_found("recording", recording_id)
    shown, heard, path = found
    window = call.request.app[AGENT_WINDOW_KEY]
    verdict = may_hear(heard, actor, shelf.clock(), window, shelf.confidential_roles)
    await shelf.audit(
        **_entry(actor, action, verdict.allowed, reason, recording_id=recording_id, call_id=shown["call_id"])
    )
    if not verdict.allowed:
        raise ApiError(verdict.error_id, verdict.message, 403)
    if shown["purged_at"]:
        purged = shown["purged_at"].astimezone(shelf.zone)
        message = f"录音 {recording_id} 已于 {purged:%Y-%m-%d %H:%M} 按保存期限删除"
        raise ApiError("recording-purged", message, 410)
    return shown, path


async def transcript(call: ApiRequest) -> dict[str, Any]:
    shown, _ = await _heard(call, "read")
    text = await _shelf(call).text_of(shown["id"])
    if text is None:
        raise ApiError("no-transcript", f"录音 {shown['id']} 没有转写文本", 404)
    return {"recording_id": shown["id"], "kind": shown["kind"], "text": text}


async def play(call: ApiRequest) -> web.StreamResponse:
    shown, path = await _heard(call, "play")
    if not path.is_file():
        raise ApiError("recording-missing", f"录音 {shown['id']} 的文件已不在", 410)
    # FileResponse answers Range requests, so a player can seek; nothing is cached on the way.
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


async def grant(call: ApiRequest) -> dict[str, Any]:
    shelf, recording_id = _shelf(call), _id(call)
    unit = call.body.get("unit") if isinstance(call.body, dict) else None
    reason = call.body.get("reason", "") if isinstance(call.body, dict) else ""
    if not isinstance(unit, str) or not unit.strip():
        raise invalid("unit", "须给出获准收听的承办单位编码")
    if not isinstance(reason, str) or not reason.strip():
        raise invalid("reason", "授权须说明事由")
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"事由不能超过 {REASON_MAX} 个字")
    if await shelf.find(recording_id) is None:
        raise not_found("recording", recording_id)
    try:
        await shelf.grant(recording_id, unit.strip(), call.actor.name)
    except UnknownUnit:
        raise ApiError("unknown-unit", f"没有承办单位 {unit.strip()[:UNIT_MAX]}", 422, field="unit") from None
    await shelf.audit(
        **_entry(call.actor, "grant", True, f"{unit.strip()}：{reason.strip()}", recording_id=recording_id)
    )
    return {"recording_id": recording_id, "unit": unit.strip()}


async def access_trail(call: ApiRequest) -> list[dict[str, Any]]:
    shelf, recording_id = _shelf(call), _id(call)
    if await shelf.find(recording_id) is None:
        raise not_found("recording", recording_id)
    return await shelf.trail(recording_id)


_TEXT = {"type": "string", "pattern": SAID, "maxLength": REASON_MAX}
_RECORDING = {"recording_id": whole(1, ID_MAX)}
RECORDING_ROUTES = [
    Route(
        "GET",
        "/api/recordings",
        list_recordings,
        PLATFORM | REVIEWERS,
        "录音列表: a call's or a ticket's recordings (an agent: only calls they answered), or, for "
        "reviewers (supervisors, quality staff), those whose words hold ``text`` (with a ``reason``; each "
        f"shown by the words around the matches, {SNIPPET_CONTEXT} characters either side, at most "
        f"{SNIPPETS_MAX}); each one listed or found is on its own trail; a confidential ticket's call's "
        "recordings only for the roles that read confidential tickets; never a path",
        query={
            "call": text(),
            "ticket": text(),
            "text": _at_most(said(), WORDS_MAX),
            "reason": _at_most(text(), REASON_MAX),
        },
        checked={"call": "call, ticket or text is required", "reason": "said (not only spaces) with text"},
    ),
    Route(
        "GET",
        "/api/recordings/{recording_id}/audio",
        play,
        EVERYONE,
        "收听录音: the WAV, with HTTP Range; reason required; supervisors any, an agent their own recent "
        "calls, a unit only what it was granted; every access and refusal is audited",
        query={"reason": _at_most(said(required=True), REASON_MAX)},
        path_params=_RECORDING,
    ),
    Route(
        "GET",
        "/api/recordings/{recording_id}/transcript",
        transcript,
        EVERYONE,
        "录音转写文本: one direction's words (when the deployment writes calls down), by the same rules as "
        "the audio; reason required; audited",
        query={"reason": _at_most(said(required=True), REASON_MAX)},
        path_params=_RECORDING,
    ),
    Route(
        "POST",
        "/api/recordings/{recording_id}/grants",
        grant,
        MANAGERS,
        "授权承办单位收听一条录音",
        {
            "type": "object",
            "properties": {"unit": {**_TEXT, "maxLength": UNIT_MAX}, "reason": _TEXT},
            "required": ["unit", "reason"],
        },
        path_params=_RECORDING,
        checked={"unit": "a unit's code (GET /api/units)"},
    ),
    Route(
        "GET",
        "/api/recordings/{recording_id}/audit",
        access_trail,
        MANAGERS,
        "录音的访问记录: who listed, played or granted it, when and why, refusals included",
        path_params=_RECORDING,
    ),
]


def add_recordings(
    app: web.Application, shelf: RecordingShelf, calls_of_ticket: CallsOfTicket, agent_window: timedelta
) -> None:
    app[SHELF_KEY] = shelf
    app[CALLS_OF_TICKET_KEY] = calls_of_ticket
    app[AGENT_WINDOW_KEY] = agent_window
