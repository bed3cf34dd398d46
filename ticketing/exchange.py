"""The JSON exchange format for forwarding tickets between platforms (上下级平台) and returning results.

A platform that forwards a ticket sends ``hotline.ticket/1``; the receiver takes
it in once per ``(sender, id)`` however often it is re-sent. The receiver's
result comes back as ``hotline.result/1``, applied once per ``result_id``.
Another platform is modelled as a unit: forwarding is dispatching to it.
"""

from __future__ import annotations

from typing import Any

from hotline.ticketing.errors import invalid
from hotline.ticketing.workflow import Event

TICKET_FORMAT = "hotline.ticket/1"
RESULT_FORMAT = "hotline.result/1"


def to_exchange(shown: dict[str, Any], sender: str) -> dict[str, Any]:
    """A ticket as the requesting actor may see it (privacy already applied), in exchange form."""
    intake = shown["intake"]
    return {
        "format": TICKET_FORMAT,
        "sender": sender,
        "id": shown["number"],
        "type": intake["ticket_type"],
        "channel": intake["channel"],
        "category": intake["category"],
        "region": intake["region"],
        "description": intake["description"],
        "address": intake["address"],
        "caller": {
            "name": intake["caller_name"],
            "phone": intake["caller_phone"],
            "callback_phone": intake["callback_phone"],
            "email": intake["caller_email"],
            "confidential": intake["confidential"],
            "share_number": intake["share_number"],
        },
        "urgent": shown["urgent"],
        "accepted_at": shown["accepted_at"],
        "status": shown["status"],
        "lead_unit": shown["lead_unit"],
        "handling_due": shown["handling_due"],
        "reply": shown["reply"],
        "events": shown.get("events", []),
    }


def intake_from_exchange(document: Any) -> dict[str, Any]:
    """The intake fields of a forwarded ticket; refuses what is not ``hotline.ticket/1``."""
    if not isinstance(document, dict) or document.get("format") != TICKET_FORMAT:
        raise invalid("format", f"must be {TICKET_FORMAT!r}")
    for name in ("sender", "id"):
        if not isinstance(document.get(name), str) or not document[name].strip():
            raise invalid(name, "is required")
    caller = document.get("caller")
    if caller is None:
        caller = {}
    if not isinstance(caller, dict):
        raise invalid("caller", "must be an object")
    return {
        "type": document.get("type"),
        "channel": "forward",
        "description": document.get("description", ""),
        "category": document.get("category", ""),
        "region": document.get("region", ""),
        "address": document.get("address", ""),
        "caller_name": caller.get("name", ""),
        "caller_phone": _unmasked(caller.get("phone", "")),
        "callback_phone": _unmasked(caller.get("callback_phone", "")),
        "caller_email": _unmasked(caller.get("email", "")),
        "confidential": caller.get("confidential", False),
        "share_number": caller.get("share_number", False),
        "urgent": document.get("urgent", False),
        "source": document["sender"].strip(),
        "external_id": document["id"].strip(),
    }


def _unmasked(number: Any) -> Any:
    """A number or address the sender masked (the caller did not agree to share it) arrives as none."""
    return "" if isinstance(number, str) and "*" in number else number


def parse_result(document: Any) -> tuple[str, str]:
    if not isinstance(document, dict) or document.get("format") != RESULT_FORMAT:
        raise invalid("format", f"must be {RESULT_FORMAT!r}")
    result_id, text = document.get("result_id"), document.get("text")
    if not isinstance(result_id, str) or not result_id.strip():
        raise invalid("result_id", "is required")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text", "is required")
    return result_id.strip(), text.strip()


def already_applied(events: list[Event], result_id: str) -> bool:
    return any(event.data.get("result_id") == result_id for event in events)
