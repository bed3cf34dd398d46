"""The work order's life as a state machine: commands become events, events become state.

``decide`` checks a command against the transition table, the actor's role and
the deadlines, and returns one ``Event`` or raises ``TicketError``; it computes
any new deadline then, so an event carries everything it changes and a later
policy edit never rewrites history. ``apply`` folds an event into the state and
does no checking at all: replaying a ticket's events always gives its state.
Neither touches a clock, a database or the network.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.kernel.api.identity import PLATFORM_ROLES, Actor, Role
from hotline.ticketing.calendar import Deadline, WorkCalendar
from hotline.ticketing.errors import TicketError, forbidden, invalid
from hotline.ticketing.policy import Duration, Policy, latest_request
from hotline.ticketing.vocabulary import GUIDANCE, Channel, Rejection, Satisfaction, Status, TicketType

S = Status
AGENT, SUPERVISOR, UNIT, ADMIN = Role.AGENT, Role.SUPERVISOR, Role.UNIT, Role.ADMIN
REVIEWERS = frozenset({SUPERVISOR, ADMIN})
OPEN_AT_UNIT = frozenset({S.DISPATCHED, S.IN_PROGRESS, S.RETURN_REQUESTED})
#: Tickets whose matter is over, or lives on in another ticket.
CLOSED = frozenset({S.ARCHIVED, S.MERGED, S.NOT_ACCEPTED})
#: Unreachable callbacks before a supervisor may archive without the citizen's verdict.
CALLBACK_ATTEMPTS_BEFORE_ARCHIVE = 3
PHONE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")
#: Who may have handed a caller to 12345 (110-12345 联动), or nobody.
HANDED_OVER_BY = ("", "110", "119", "120", "122")
#: How a call was shared with 110/119/120/122 (国办发〔2022〕12号): one-key transfer, or a three-way call.
LINKAGE_MODES = ("transfer", "three-way")
#: Who took the matter: the service, or 12345, which received it first and so keeps it (首接负责).
LINKAGE_OUTCOMES = {"taken": "{service}受理", "kept": "12345承办（首接负责）"}
DESCRIPTION_LIMIT = 5000
EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[^@\s<>]{1,63}$")
#: Channels where the citizen left a message rather than spoke to someone (GB/T 33358's 信箱).
MAILBOX_CHANNELS = frozenset({Channel.EMAIL, Channel.VOICEMAIL})


Decider = Callable[["Ticket", Mapping[str, Any], "Context"], "Event"]


@dataclass(frozen=True)
class Rule:
    """One row of the command table: who may issue the command, from which statuses, the event it
    records, where the ticket goes, and the decider that checks what was sent.

    ``to`` None: the ticket stays where it is, unless ``by_outcome`` (the citizen's answer decides).
    ``lead``: the lead unit only; ``assisting``: an assisting unit too.
    """

    roles: frozenset[Role]
    sources: frozenset[Status]
    event: str
    to: Status | None
    decider: Decider
    lead: bool = False
    assisting: bool = False
    by_outcome: bool = False


PLATFORM = PLATFORM_ROLES


@dataclass(frozen=True)
class Context:
    """What a decision needs besides the ticket: who, when, and the city's rules."""

    actor: Actor
    now: datetime
    policy: Policy
    calendar: WorkCalendar

    def after(self, duration: Duration, start: datetime | None = None) -> Deadline:
        return duration.after(start or self.now, self.calendar)


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    actor: str
    role: Role
    unit: str | None = None
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Intake:
    """What the platform takes down from the citizen (受理)."""

    ticket_type: TicketType
    channel: Channel
    description: str
    category: str
    region: str
    caller_name: str = ""
    caller_phone: str = ""
    callback_phone: str = ""
    caller_email: str = ""
    address: str = ""
    confidential: bool = False
    share_number: bool = False
    urgent: bool = False
    #: The caller agreed to notices by SMS (the ticket number, the reply) on ``callback_phone``.
    sms_notices: bool = False
    call_id: str = ""
    #: The emergency service (110, 119, 120, 122) that handed the caller to 12345 (110-12345 联动).
    handed_over_by: str = ""
    attachments: tuple[Mapping[str, Any], ...] = ()
    source: str = ""
    external_id: str = ""
    #: What a message's words mention (``ticketing.guesses``): places, phone numbers, dates, and the
    #: emergency they point to (``{"number": "119", "words": [...]}``).
    places_mentioned: tuple[str, ...] = ()
    phones_mentioned: tuple[str, ...] = ()
    dates_mentioned: tuple[str, ...] = ()
    emergency: Mapping[str, Any] | None = None
    #: The fields the platform guessed from the words rather than was told, for a person to confirm.
    guessed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ticket:
    """The current state of one work order, derived from its events."""

    number: str
    status: Status
    intake: Intake
    accepted_at: datetime
    version: int = 0
    lead_unit: str | None = None
    assist_units: tuple[str, ...] = ()
    past_units: tuple[str, ...] = ()
    complex_case: bool = False
    urgent: bool = False
    hot: bool = False
    dispatched_at: datetime | None = None
    signed_at: datetime | None = None
    dispatch_due: datetime | None = None
    sign_due: datetime | None = None
    return_due: datetime | None = None
    handling_due: datetime | None = None
    onsite_due: datetime | None = None
    callback_due: datetime | None = None
    handling_duration: str = ""
    estimated_years: tuple[int, ...] = ()
    return_reason: str = ""
    extension_requested_at: datetime | None = None  # a request awaiting review
    extensions_granted: int = 0
    reply: str = ""
    replied_at: datetime | None = None
    replied_late: bool = False
    answered_directly: bool = False
    rejection: str = ""
    redo_count: int = 0
    satisfaction: str = ""
    callback_attempts: int = 0
    reminders: int = 0
    reminded_due: datetime | None = None  # the handling deadline the last reminder was about
    supervised: bool = False
    merged_into: str = ""
    merged: tuple[str, ...] = ()
    evaluation: str = ""
    completed_at: datetime | None = None
    return_requests: int = 0
    reply_rejections: int = 0
    attachments: tuple[Mapping[str, Any], ...] = ()  # files stored by ticketing.attachments
    linkage: Mapping[str, str] | None = None  # service, mode and outcome of the 110 linkage on its call


# ---------------------------------------------------------------------------- intake


#: The longest each short intake text may be, once trimmed (the API's description says the same).
INTAKE_LIMITS = {
    "category": 40,
    "region": 40,
    "caller_name": 50,
    "address": 200,
    "call_id": 80,
    "source": 40,
    "external_id": 80,
}


def parse_intake(data: Mapping[str, Any]) -> Intake:
    """Validate intake fields; every refusal names the field."""
    if not isinstance(data, Mapping):
        raise invalid("body", "must be a JSON object")

    def text(name: str, *, required: bool = False, limit: int = 200) -> str:
        value = data.get(name, "")
        if not isinstance(value, str):
            raise invalid(name, "must be text")
        value = value.strip()
        if required and not value:
            raise invalid(name, "is required")
        if len(value) > limit:
            raise invalid(name, f"is longer than {limit} characters")
        return value

    def flag(name: str) -> bool:
        value = data.get(name, False)
        if not isinstance(value, bool):
            raise invalid(name, "must be true or false")
        return value

    def phone(name: str) -> str:
        value = text(name, limit=24)
        if value and not PHONE.match(value):
            raise invalid(name, f"is not a phone number: {value!r}")
        return value

    def labelled(name: str, kind: type, default: str | None = None) -> Any:
        raw = data.get(name, default)
        if raw is None:
            raise invalid(name, "is required")
        try:
            return kind.parse(str(raw))
        except ValueError as exc:
            raise invalid(name, str(exc)) from None

    attachments = data.get("attachments", [])
    if not isinstance(attachments, list) or not all(
        isinstance(a, Mapping) and isinstance(a.get("name"), str) for a in attachments
    ):
        raise invalid("attachments", "must be a list of objects with a name")
    caller_phone = phone("caller_phone")
    caller_email = text("caller_email", limit=254)
    handed_over_by = text("handed_over_by", limit=3)
    if handed_over_by not in HANDED_OVER_BY:
        raise invalid("handed_over_by", f"须为 {'、'.join(HANDED_OVER_BY[1:])} 之一，或留空")
    if caller_email and not EMAIL.match(caller_email):
        raise invalid("caller_email", f"is not an email address: {caller_email!r}")
    return Intake(
        ticket_type=labelled("type", TicketType),
        channel=labelled("channel", Channel, "phone"),
        description=text("description", required=True, limit=DESCRIPTION_LIMIT),
        category=text("category", required=True, limit=INTAKE_LIMITS["category"]),
        region=text("region", required=True, limit=INTAKE_LIMITS["region"]),
        caller_name=text("caller_name", limit=INTAKE_LIMITS["caller_name"]),
        caller_phone=caller_phone,
        callback_phone=phone("callback_phone") or caller_phone,
        caller_email=caller_email,
        address=text("address", limit=INTAKE_LIMITS["address"]),
        confidential=flag("confidential"),
        share_number=flag("share_number"),
        urgent=flag("urgent"),
        sms_notices=flag("sms_notices"),
        call_id=text("call_id", limit=INTAKE_LIMITS["call_id"]),
        handed_over_by=handed_over_by,
        attachments=tuple(dict(a) for a in attachments),
        source=text("source", limit=INTAKE_LIMITS["source"]),
        external_id=text("external_id", limit=INTAKE_LIMITS["external_id"]),
    )


def receive(intake: Intake, number: str, ctx: Context) -> Event:
    """The first event of every ticket (受理)."""
    if ctx.actor.role not in PLATFORM:
        raise forbidden("only the platform takes in tickets")
    data: dict[str, Any] = {"number": number, "intake": intake_json(intake)}
    dues = [ctx.policy.dispatch.due(ctx.now)] if ctx.policy.dispatch else []
    if intake.channel in MAILBOX_CHANNELS:
        dues.append(ctx.after(ctx.policy.mailbox_response))
    if dues:
        data["dispatch_due"] = _deadline(min(dues, key=lambda due: due.at), data)
    return _event(ctx, "received", data=data)


#: The intake's lists of words, stored as JSON lists.
_INTAKE_TUPLES = ("places_mentioned", "phones_mentioned", "dates_mentioned", "guessed")


def intake_json(intake: Intake) -> dict[str, Any]:
    values = dataclasses.asdict(intake)
    values["ticket_type"] = intake.ticket_type.value
    values["channel"] = intake.channel.value
    values["attachments"] = [dict(a) for a in intake.attachments]
    return values | {name: list(values[name]) for name in _INTAKE_TUPLES}


def intake_from_json(values: Mapping[str, Any]) -> Intake:
    return Intake(
        **{
            **values,
            "ticket_type": TicketType(values["ticket_type"]),
            "channel": Channel(values["channel"]),
            "attachments": tuple(values.get("attachments", ())),
            **{name: tuple(values.get(name, ())) for name in _INTAKE_TUPLES},
        }
    )


# ---------------------------------------------------------------------------- decide


def decide(ticket: Ticket, command: str, payload: Mapping[str, Any], ctx: Context) -> Event:
    if not isinstance(payload, Mapping):
        raise invalid("body", "must be a JSON object")
    check_allowed(ticket, command, ctx.actor)
    return RULES[command].decider(ticket, payload, ctx)


def check_allowed(ticket: Ticket, command: str, actor: Actor) -> None:
    """Whether this person may issue this command now, before looking at what they send."""
    rule = RULES.get(command)
    if rule is None:
        raise TicketError("unknown-command", f"unknown command {command!r}", 404, commands=sorted(COMMANDS))
    _check_actor(ticket, command, rule, actor)
    if ticket.status not in rule.sources:
        raise TicketError(
            "illegal-transition",
            f"{command} is not allowed while the ticket is {ticket.status.label} ({ticket.status.value})",
            ticket_status=ticket.status.value,
            command=command,
        )


def _check_actor(ticket: Ticket, command: str, rule: Rule, actor: Actor) -> None:
    if actor.role not in rule.roles:
        raise forbidden(f"{actor.role.label}不能执行 {command}")
    if actor.role != UNIT:
        return
    is_lead = actor.unit == ticket.lead_unit
    is_assisting = actor.unit in ticket.assist_units
    if (rule.lead and is_lead) or (rule.assisting and is_assisting):
        return
    raise TicketError("not-your-ticket", f"工单 {ticket.number} 不由 {actor.unit} 承办", 403)


def _reason(payload: Mapping[str, Any], *, required: bool = True) -> str:
    reason = payload.get("reason", "")
    if not isinstance(reason, str) or (required and not reason.strip()):
        raise TicketError("reason-required", "a reason is required", 422, field="reason")
    return reason.strip()


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str) or not value.strip():
        raise invalid(name, "is required")
    return value.strip()


def _units(payload: Mapping[str, Any], name: str) -> list[str]:
    value = payload.get(name, [])
    if not isinstance(value, list) or not all(isinstance(u, str) and u for u in value):
        raise invalid(name, "must be a list of unit codes")
    return list(dict.fromkeys(value))


def _flag(payload: Mapping[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    if not isinstance(value, bool):
        raise invalid(name, "must be true or false")
    return value


def _event(ctx: Context, kind: str, reason: str = "", data: Mapping[str, Any] | None = None) -> Event:
    return Event(kind, ctx.now, ctx.actor.name, ctx.actor.role, ctx.actor.unit, reason, dict(data or {}))


def _deadline(deadline: Deadline, data: dict[str, Any]) -> str:
    """Record a deadline; remember any year it was only estimated for."""
    if deadline.unknown_years:
        data["estimated_years"] = sorted(set(data.get("estimated_years", [])) | set(deadline.unknown_years))
    return deadline.at.isoformat()


def _reject(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    try:
        rejection = Rejection.parse(str(payload.get("rejection", "")))
    except ValueError as exc:
        raise invalid("rejection", str(exc)) from None
    return _event(
        ctx,
        "not_accepted",
        _reason(payload, required=False),
        {"rejection": rejection.value, "guidance": GUIDANCE[rejection]},
    )


def _answer(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    data: dict[str, Any] = {"answer": _text(payload, "answer")}
    if ctx.policy.callback:
        data["callback_due"] = _deadline(ctx.after(ctx.policy.callback), data)
    return _event(ctx, "answered", data=data)


def _dispatch(ticket: Ticket, payload: Mapping[str, Any], ctx: Context, kind: str = "dispatched") -> Event:
    unit = _text(payload, "unit")
    assisting = [u for u in _units(payload, "assist_units") if u != unit]
    complex_case = _flag(payload, "complex") or ticket.complex_case
    urgent = _flag(payload, "urgent") or ticket.urgent or ticket.intake.urgent
    policy = ctx.policy
    handling = policy.handling(ticket.intake.ticket_type, complex_case=complex_case, urgent=urgent)
    data: dict[str, Any] = {
        "unit": unit,
        "assist_units": assisting,
        "complex": complex_case,
        "urgent": urgent,
        "handling_duration": str(handling),
    }
    sign = ctx.after(policy.sign)
    data["sign_due"] = _deadline(sign, data)
    data["return_due"] = _deadline(
        ctx.after(policy.return_window, sign.at if policy.return_from == "sign" else ctx.now), data
    )
    data["handling_due"] = _deadline(ctx.after(handling), data)
    if urgent:
        data["onsite_due"] = _deadline(ctx.after(policy.urgent_onsite), data)
    if ticket.dispatch_due and ctx.now > ticket.dispatch_due:
        data["late"] = True
    return _event(ctx, kind, _reason(payload, required=kind == "redispatched"), data)


def _redispatch(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    if payload.get("unit") == ticket.lead_unit:
        raise TicketError("same-unit", f"工单已由 {ticket.lead_unit} 承办", 409)
    return _dispatch(ticket, payload, ctx, "redispatched")


def _merge(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    into = _text(payload, "into")
    if into == ticket.number:
        raise TicketError("merge-into-self", "a ticket cannot be merged into itself", 422)
    return _event(ctx, "merged", _reason(payload, required=False), {"into": into})


def _sign(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    late = bool(ticket.sign_due and ctx.now > ticket.sign_due)
    data: dict[str, Any] = {"late": late}
    if ctx.policy.return_from == "sign":
        data["return_due"] = _deadline(ctx.after(ctx.policy.return_window), data)
    return _event(ctx, "signed", data=data)


def _request_return(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    reason = _reason(payload)
    if ticket.return_due and ctx.now > ticket.return_due:
        raise TicketError(
            "return-window-closed",
            f"退回期限已过（{ticket.return_due:%Y-%m-%d %H:%M}），请正常办理",
            return_due=ticket.return_due.isoformat(),
        )
    return _event(ctx, "return_requested", reason)


def _approve_return(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "return_approved", _reason(payload, required=False), {"unit": ticket.lead_unit})


def _refuse_return(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "return_refused", _reason(payload))


def _request_extension(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    reason = _reason(payload)
    policy = ctx.policy
    if ticket.extension_requested_at:
        raise TicketError("extension-pending", "已有延期申请待审核")
    if ticket.extensions_granted >= policy.extension_max:
        raise TicketError(
            "extension-limit-reached",
            f"延期次数已达上限（{policy.extension_max} 次）",
            max_count=policy.extension_max,
        )
    if ticket.handling_due:
        last = latest_request(policy, ctx.calendar, ticket.handling_due).at
        if ctx.now > last:
            raise TicketError(
                "extension-request-too-late",
                f"延期须在 {last:%Y-%m-%d %H:%M} 前申请（办结期限前 {policy.extension_request_before}）",
                latest=last.isoformat(),
            )
    return _event(ctx, "extension_requested", reason)


def _pending(ticket: Ticket) -> None:
    if not ticket.extension_requested_at:
        raise TicketError("no-extension-pending", "没有待审核的延期申请")


def _approve_extension(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    _pending(ticket)
    length = ctx.policy.extension_for(Duration.parse(ticket.handling_duration, "handling_duration"))
    base = ticket.handling_due or ctx.now
    data: dict[str, Any] = {"length": str(length)}
    data["handling_due"] = _deadline(ctx.after(length, max(base, ctx.now)), data)
    return _event(ctx, "extension_approved", _reason(payload, required=False), data)


def _refuse_extension(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    _pending(ticket)
    return _event(ctx, "extension_refused", _reason(payload))


def _assist_reply(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "assist_replied", data={"text": _text(payload, "text")})


def _reply(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    late = bool(ticket.handling_due and ctx.now > ticket.handling_due)
    data: dict[str, Any] = {"text": _text(payload, "text"), "late": late}
    if isinstance(payload.get("result_id"), str):
        data["result_id"] = payload["result_id"]  # another platform's result (exchange)
    return _event(ctx, "replied", data=data)


def _approve_reply(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    data: dict[str, Any] = {}
    if ctx.policy.callback:
        data["callback_due"] = _deadline(ctx.after(ctx.policy.callback), data)
    return _event(ctx, "reply_approved", _reason(payload, required=False), data)


def _reject_reply(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "reply_rejected", _reason(payload))


def _record_callback(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    try:
        result = Satisfaction.parse(str(payload.get("result", "")))
    except ValueError as exc:
        raise invalid("result", str(exc)) from None
    unit_fault = _flag(payload, "unit_fault")
    data: dict[str, Any] = {"result": result.value, "unit_fault": unit_fault}
    reason = _reason(payload, required=False)
    if result == Satisfaction.DISSATISFIED:
        if ticket.redo_count >= 1:
            data["outcome"] = "evaluation"  # second 不满意 → 专业评价
        elif unit_fault or not ticket.lead_unit:
            data["outcome"] = "redo"
            if ticket.lead_unit:
                duration = Duration.parse(ticket.handling_duration, "handling_duration")
                data["handling_due"] = _deadline(ctx.after(duration), data)
        else:
            if not reason:
                raise TicketError(
                    "reason-required", "不满意但非承办单位责任时，须说明核实情况", 422, field="reason"
                )
            data["outcome"] = "archive"
    elif result == Satisfaction.UNREACHABLE:
        data["outcome"] = "retry"
    else:
        data["outcome"] = "archive"
    return _event(ctx, "callback_recorded", reason, data)


def _evaluate(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    verdict = payload.get("verdict")
    if verdict not in ("reasonable", "unreasonable"):
        raise invalid("verdict", "must be 'reasonable' (诉求合理) or 'unreasonable' (诉求不合理)")
    return _event(ctx, "evaluated", _reason(payload), {"verdict": verdict})


def _archive(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    if ticket.status == S.AWAITING_CALLBACK and ticket.callback_attempts < CALLBACK_ATTEMPTS_BEFORE_ARCHIVE:
        raise TicketError(
            "callback-not-attempted",
            f"须先回访：已尝试 {ticket.callback_attempts} 次，"
            f"至少 {CALLBACK_ATTEMPTS_BEFORE_ARCHIVE} 次未联系上方可归档",
        )
    return _event(ctx, "archived", _reason(payload, required=False))


def _remind(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    due = {"due": ticket.handling_due.isoformat()} if ticket.handling_due else {}
    return _event(ctx, "reminded", _reason(payload, required=False), due)


def _supervise(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "supervised", _reason(payload))


def _mark_hot(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "marked_hot", _reason(payload, required=False))


def _note(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    return _event(ctx, "noted", data={"text": _text(payload, "text")})


def _message_citizen(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    """A word to the citizen (asking for a detail, telling them where things stand); the notices send it."""
    intake = ticket.intake
    if not (intake.caller_email or (intake.sms_notices and (intake.callback_phone or intake.caller_phone))):
        raise TicketError("citizen-unreachable", "市民未留电子邮箱，也未同意短信通知：请电话联系", 409)
    return _event(ctx, "citizen_messaged", data={"text": _text(payload, "text")})


def _record_linkage(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    """Who takes a matter shared with 110 on the ticket's call: the service, or 12345 when the two sides
    could not agree (首接负责). The desk names the service and the mode from the call itself."""
    service, mode, outcome = (payload.get(name) for name in ("service", "mode", "outcome"))
    if service not in HANDED_OVER_BY[1:] or mode not in LINKAGE_MODES:
        raise TicketError("no-linkage", "该工单的来电未与 110/119/120/122 联动", 409)
    if outcome not in LINKAGE_OUTCOMES:
        raise invalid("outcome", f"must be one of {', '.join(LINKAGE_OUTCOMES)}")
    linkage = {"service": service, "mode": mode, "outcome": outcome}
    return _event(ctx, "linkage_recorded", _reason(payload, required=False), {"linkage": linkage})


def linkage_label(service: str, outcome: str) -> str:
    return LINKAGE_OUTCOMES[outcome].format(service=service) if outcome else "待议定"


def _attach(ticket: Ticket, payload: Mapping[str, Any], ctx: Context) -> Event:
    """Record a file the desk has already stored under its hash."""
    sha256, size = _text(payload, "sha256"), payload.get("size")
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise invalid("sha256", "must be 64 hexadecimal characters")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise invalid("size", "must be a positive whole number")
    file = {
        "sha256": sha256,
        "name": _text(payload, "name"),
        "size": size,
        "content_type": _text(payload, "content_type"),
    }
    recording_id = payload.get("recording_id")
    if recording_id is not None:  # a recording the register keeps (a voicemail): heard only through it
        if not isinstance(recording_id, int) or isinstance(recording_id, bool) or recording_id <= 0:
            raise invalid("recording_id", "must be a positive whole number")
        file["recording_id"] = recording_id
    return _event(ctx, "attached", _reason(payload, required=False), {"file": file})


ANY_OPEN = frozenset(S) - {S.ARCHIVED}
#: Everyone who works tickets (quality staff read them, and change nothing).
WORKERS = frozenset(Role) - {Role.QUALITY}
UNITS = frozenset({UNIT})
#: The command table: who, from where, which event, to where, checked by which decider.
RULES: dict[str, Rule] = {
    "reject": Rule(PLATFORM, frozenset({S.RECEIVED}), "not_accepted", S.NOT_ACCEPTED, _reject),
    "answer": Rule(PLATFORM, frozenset({S.RECEIVED}), "answered", S.AWAITING_CALLBACK, _answer),
    "dispatch": Rule(PLATFORM, frozenset({S.RECEIVED}), "dispatched", S.DISPATCHED, _dispatch),
    "redispatch": Rule(PLATFORM, OPEN_AT_UNIT, "redispatched", S.DISPATCHED, _redispatch),
    "merge": Rule(PLATFORM, frozenset({S.RECEIVED, S.DISPATCHED}), "merged", S.MERGED, _merge),
    "sign": Rule(UNITS, frozenset({S.DISPATCHED}), "signed", S.IN_PROGRESS, _sign, lead=True),
    "request_return": Rule(
        UNITS,
        frozenset({S.DISPATCHED, S.IN_PROGRESS}),
        "return_requested",
        S.RETURN_REQUESTED,
        _request_return,
        lead=True,
    ),
    "approve_return": Rule(
        REVIEWERS, frozenset({S.RETURN_REQUESTED}), "return_approved", S.RECEIVED, _approve_return
    ),
    "refuse_return": Rule(
        REVIEWERS, frozenset({S.RETURN_REQUESTED}), "return_refused", S.IN_PROGRESS, _refuse_return
    ),
    "request_extension": Rule(
        UNITS, frozenset({S.IN_PROGRESS}), "extension_requested", None, _request_extension, lead=True
    ),
    "approve_extension": Rule(
        REVIEWERS, frozenset({S.IN_PROGRESS}), "extension_approved", None, _approve_extension
    ),
    "refuse_extension": Rule(
        REVIEWERS, frozenset({S.IN_PROGRESS}), "extension_refused", None, _refuse_extension
    ),
    "assist_reply": Rule(
        UNITS, frozenset({S.DISPATCHED, S.IN_PROGRESS}), "assist_replied", None, _assist_reply, assisting=True
    ),
    "reply": Rule(UNITS, frozenset({S.IN_PROGRESS}), "replied", S.REPLIED, _reply, lead=True),
    "approve_reply": Rule(
        REVIEWERS, frozenset({S.REPLIED}), "reply_approved", S.AWAITING_CALLBACK, _approve_reply
    ),
    "reject_reply": Rule(REVIEWERS, frozenset({S.REPLIED}), "reply_rejected", S.IN_PROGRESS, _reject_reply),
    "record_callback": Rule(
        PLATFORM,
        frozenset({S.AWAITING_CALLBACK}),
        "callback_recorded",
        None,
        _record_callback,
        by_outcome=True,
    ),
    "evaluate": Rule(REVIEWERS, frozenset({S.UNDER_EVALUATION}), "evaluated", S.ARCHIVED, _evaluate),
    "archive": Rule(
        REVIEWERS,
        frozenset({S.NOT_ACCEPTED, S.MERGED, S.AWAITING_CALLBACK}),
        "archived",
        S.ARCHIVED,
        _archive,
    ),
    "remind": Rule(PLATFORM, OPEN_AT_UNIT, "reminded", None, _remind),
    "supervise": Rule(REVIEWERS, OPEN_AT_UNIT | {S.REPLIED}, "supervised", None, _supervise),
    "mark_hot": Rule(PLATFORM, ANY_OPEN, "marked_hot", None, _mark_hot),
    "note": Rule(WORKERS, ANY_OPEN, "noted", None, _note, lead=True, assisting=True),
    "message_citizen": Rule(PLATFORM, ANY_OPEN, "citizen_messaged", None, _message_citizen),
    "record_linkage": Rule(PLATFORM, ANY_OPEN, "linkage_recorded", None, _record_linkage),
    "attach": Rule(WORKERS, ANY_OPEN, "attached", None, _attach, lead=True, assisting=True),
}
COMMANDS = frozenset(RULES)


# ---------------------------------------------------------------------------- apply


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def apply(ticket: Ticket | None, event: Event) -> Ticket:
    """Fold one event into the state. No checks: ``decide`` already made them."""
    data = event.data
    if event.kind == "received":
        intake = intake_from_json(data["intake"])
        return Ticket(
            number=data["number"],
            status=S.RECEIVED,
            intake=intake,
            accepted_at=event.at,
            version=1,
            urgent=intake.urgent,
            dispatch_due=_when(data.get("dispatch_due")),
            estimated_years=tuple(data.get("estimated_years", ())),
        )
    if ticket is None:
        raise ValueError(f"event {event.kind} before the ticket was received")
    changes: dict[str, Any] = {"version": ticket.version + 1}
    if "estimated_years" in data:
        changes["estimated_years"] = tuple(sorted(set(ticket.estimated_years) | set(data["estimated_years"])))
    for key in ("sign_due", "return_due", "handling_due", "onsite_due", "callback_due"):
        if key in data:
            changes[key] = _when(data[key])
    fold = FOLDS.get(event.kind)
    if fold is None:
        raise ValueError(f"unknown event kind {event.kind!r}")
    changes.update(fold(ticket, event))
    return dataclasses.replace(ticket, **changes)


def _callback_changes(ticket: Ticket, data: Mapping[str, Any]) -> dict[str, Any]:
    outcome = data["outcome"]
    changes: dict[str, Any] = {"satisfaction": data["result"]}
    if outcome == "archive":
        changes["status"] = S.ARCHIVED
    elif outcome == "evaluation":
        changes["status"] = S.UNDER_EVALUATION
    elif outcome == "retry":
        changes["callback_attempts"] = ticket.callback_attempts + 1
    elif ticket.lead_unit:  # redo by the same unit, under supervision
        changes.update(
            status=S.IN_PROGRESS,
            redo_count=ticket.redo_count + 1,
            supervised=True,
            completed_at=None,
            extension_requested_at=None,
        )
    else:  # a direct answer the citizen found wanting: dispatch it this time
        changes.update(
            status=S.RECEIVED, redo_count=ticket.redo_count + 1, answered_directly=False, completed_at=None
        )
    return changes


def _dispatched(ticket: Ticket, event: Event) -> dict[str, Any]:
    data = event.data
    changes: dict[str, Any] = {
        "status": S.DISPATCHED,
        "lead_unit": data["unit"],
        "assist_units": tuple(data["assist_units"]),
        "past_units": ticket.past_units + ((ticket.lead_unit,) if ticket.lead_unit else ()),
        "complex_case": data["complex"],
        "urgent": data["urgent"],
        "handling_duration": data["handling_duration"],
        "dispatched_at": event.at,
        "signed_at": None,
        "extension_requested_at": None,
        "extensions_granted": 0,
        "return_reason": "",
    }
    if not data["urgent"]:
        changes["onsite_due"] = None
    return changes


def _return_approved(ticket: Ticket, event: Event) -> dict[str, Any]:
    return {
        "status": S.RECEIVED,
        "lead_unit": None,
        "assist_units": (),
        "past_units": (*ticket.past_units, event.data["unit"]),
        "sign_due": None,
        "return_due": None,
        "handling_due": None,
        "onsite_due": None,
    }


def _attached(ticket: Ticket, event: Event) -> dict[str, Any]:
    file = {**event.data["file"], "by": event.actor, "unit": event.unit, "at": event.at.isoformat()}
    return {"attachments": (*ticket.attachments, file)}


Fold = Callable[[Ticket, Event], dict[str, Any]]
#: What each event does to the ticket (besides its version and the deadlines it carries).
FOLDS: dict[str, Fold] = {
    "not_accepted": lambda t, e: {"status": S.NOT_ACCEPTED, "rejection": e.data["rejection"]},
    "answered": lambda t, e: {
        "status": S.AWAITING_CALLBACK,
        "reply": e.data["answer"],
        "replied_at": e.at,
        "answered_directly": True,
        "completed_at": e.at,
    },
    "dispatched": _dispatched,
    "redispatched": _dispatched,
    "merged": lambda t, e: {"status": S.MERGED, "merged_into": e.data["into"]},
    "absorbed": lambda t, e: {"merged": (*t.merged, e.data["ticket"])},
    "signed": lambda t, e: {"status": S.IN_PROGRESS, "signed_at": e.at},
    "return_requested": lambda t, e: {
        "status": S.RETURN_REQUESTED,
        "return_reason": e.reason,
        "return_requests": t.return_requests + 1,
    },
    "return_approved": _return_approved,
    "return_refused": lambda t, e: {"status": S.IN_PROGRESS, "signed_at": t.signed_at or e.at},
    "extension_requested": lambda t, e: {"extension_requested_at": e.at},
    "extension_approved": lambda t, e: {
        "extension_requested_at": None,
        "extensions_granted": t.extensions_granted + 1,
    },
    "extension_refused": lambda t, e: {"extension_requested_at": None},
    "assist_replied": lambda t, e: {},
    "replied": lambda t, e: {
        "status": S.REPLIED,
        "reply": e.data["text"],
        "replied_at": e.at,
        "replied_late": e.data["late"],
        "extension_requested_at": None,
    },
    "reply_approved": lambda t, e: {"status": S.AWAITING_CALLBACK, "completed_at": e.at},
    "reply_rejected": lambda t, e: {"status": S.IN_PROGRESS, "reply_rejections": t.reply_rejections + 1},
    "callback_recorded": lambda t, e: _callback_changes(t, e.data),
    "evaluated": lambda t, e: {"status": S.ARCHIVED, "evaluation": e.data["verdict"]},
    "archived": lambda t, e: {"status": S.ARCHIVED},
    "reminded": lambda t, e: {"reminders": t.reminders + 1, "reminded_due": _when(e.data.get("due"))},
    "supervised": lambda t, e: {"supervised": True},
    "marked_hot": lambda t, e: {"hot": True},
    "noted": lambda t, e: {},
    "citizen_messaged": lambda t, e: {},
    "linkage_recorded": lambda t, e: {"linkage": e.data["linkage"]},
    "attached": _attached,
}


def replay(events: Iterable[Event]) -> Ticket:
    ticket: Ticket | None = None
    for event in events:
        ticket = apply(ticket, event)
    if ticket is None:
        raise ValueError("a ticket needs at least its received event")
    return ticket


def absorbed(primary: Ticket, duplicate: str, ctx: Context) -> Event:
    """The primary ticket's side of a merge (并单): it now answers for the duplicate too."""
    if primary.status in (S.ARCHIVED, S.MERGED, S.NOT_ACCEPTED):
        raise TicketError("merge-target-closed", f"工单 {primary.number} 已{primary.status.label}，不能并入")
    return _event(ctx, "absorbed", data={"ticket": duplicate})


# ---------------------------------------------------------------------------- snapshots

_MOMENTS = frozenset(f.name for f in dataclasses.fields(Ticket) if "datetime" in str(f.type))
_TUPLES = frozenset(f.name for f in dataclasses.fields(Ticket) if str(f.type).startswith("tuple"))


def ticket_to_json(ticket: Ticket) -> dict[str, Any]:
    """The snapshot stored beside the events (and the platform's full view of a ticket)."""
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(Ticket):
        value = getattr(ticket, spec.name)
        if spec.name == "intake":
            value = intake_json(value)
        elif spec.name in _MOMENTS:
            value = value.isoformat() if value else None
        elif spec.name in _TUPLES:
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        values[spec.name] = value
    return values


def ticket_from_json(values: Mapping[str, Any]) -> Ticket:
    fields: dict[str, Any] = {}
    for name, value in values.items():
        if name == "intake":
            value = intake_from_json(value)
        elif name == "status":
            value = Status(value)
        elif name in _MOMENTS:
            value = _when(value)
        elif name in _TUPLES:
            value = tuple(value)
        fields[name] = value
    return Ticket(**fields)
