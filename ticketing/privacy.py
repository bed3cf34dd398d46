"""What each role may see of a ticket (Zhijiang 第二十五、二十六条). Pure: no I/O.

- Platform staff see the whole ticket, except that a confidential ticket is
  shown only to the roles the deployment names (supervisors and admins by default).
  Quality staff read as the platform does, under the same rule, and every read
  of theirs is audited: they review the work, they do none of it.
- A unit sees only tickets it leads or assists, and of the caller only what it
  needs: the number masked unless the caller agreed to share it; nothing at
  all of the person behind a 举报 or a confidential ticket.
- ``personal_fields`` lists what personal data a view exposes, for the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from hotline.kernel.api.identity import PLATFORM_ROLES, Actor, Role
from hotline.ticketing.errors import TicketError
from hotline.ticketing.vocabulary import TicketType
from hotline.ticketing.workflow import Event, Ticket, ticket_to_json

DEFAULT_CONFIDENTIAL_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: Who reads tickets as the platform does: the whole ticket, not only a unit's own.
READERS = PLATFORM_ROLES | {Role.QUALITY}
#: Whose reads of personal data go on the ticket's access trail (Zhijiang 第二十五、二十六条).
AUDITED = frozenset({Role.UNIT, Role.QUALITY})
IDENTITY = ("caller_name", "caller_phone", "callback_phone", "caller_email", "address")
#: The phone numbers a message's words mention (``ticketing.guesses``): shown to a unit as the caller's are.
MENTIONED_PHONES = "phones_mentioned"
HIDDEN = "（不公开）"


def mask_phone(number: str) -> str:
    digits = number.replace("-", "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def can_see(
    ticket: Ticket, actor: Actor, confidential_roles: Iterable[Role] = DEFAULT_CONFIDENTIAL_ROLES
) -> bool:
    if actor.role in READERS:
        return not ticket.intake.confidential or actor.role in set(confidential_roles)
    return actor.role == Role.UNIT and (actor.unit == ticket.lead_unit or actor.unit in ticket.assist_units)


def require_visible(
    ticket: Ticket, actor: Actor, confidential_roles: Iterable[Role] = DEFAULT_CONFIDENTIAL_ROLES
) -> None:
    if can_see(ticket, actor, confidential_roles):
        return
    if actor.role in READERS:
        raise TicketError("confidential", f"工单 {ticket.number} 为保密件，仅限指定角色查看", 403)
    raise TicketError("not-your-ticket", f"工单 {ticket.number} 不由 {actor.unit} 承办", 403)


def view(
    ticket: Ticket, actor: Actor, confidential_roles: Iterable[Role] = DEFAULT_CONFIDENTIAL_ROLES
) -> dict[str, Any]:
    """The ticket as this actor may see it (call ``require_visible`` first)."""
    data = ticket_to_json(ticket)
    data["status_label"] = ticket.status.label
    data["type_label"] = ticket.intake.ticket_type.label
    if actor.role in READERS:
        return data
    intake = data["intake"]
    if ticket.intake.confidential or ticket.intake.ticket_type == TicketType.REPORT:
        for key in IDENTITY:
            intake[key] = HIDDEN if intake[key] else ""
        intake[MENTIONED_PHONES] = [HIDDEN] if intake[MENTIONED_PHONES] else []
    elif not ticket.intake.share_number:
        for key in ("caller_phone", "callback_phone"):
            intake[key] = mask_phone(intake[key]) if intake[key] else ""
        intake["caller_email"] = mask_email(intake["caller_email"]) if intake["caller_email"] else ""
        intake[MENTIONED_PHONES] = [mask_phone(number) for number in intake[MENTIONED_PHONES]]
    intake["call_id"] = ""
    intake["source"] = intake["external_id"] = ""
    return data


def personal_fields(shown: dict[str, Any]) -> list[str]:
    """The personal data a view exposes (masked numbers included: they are still personal data)."""
    intake = shown["intake"]
    fields = [key for key in IDENTITY if intake.get(key) and intake[key] != HIDDEN]
    mentioned = intake.get(MENTIONED_PHONES)
    return [*fields, MENTIONED_PHONES] if mentioned and mentioned != [HIDDEN] else fields


def history(events: list[Event], actor: Actor, zone: tzinfo) -> list[dict[str, Any]]:
    """A ticket's events, their moments in the deployment's ``zone`` as the ticket's own (the store hands
    them back in UTC); a unit does not get the intake's personal data through them either."""
    entries = []
    for event in events:
        data = dict(event.data)
        if actor.role not in READERS and "intake" in data:
            data = {key: value for key, value in data.items() if key != "intake"}
        entries.append(
            {
                "kind": event.kind,
                "at": event.at.astimezone(zone).isoformat(),
                "actor": event.actor,
                "role": event.role.value,
                "unit": event.unit,
                "reason": event.reason,
                "data": data,
            }
        )
    return entries
