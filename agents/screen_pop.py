"""What an agent's screen shows when a call is offered: the ticket draft they start from."""

from __future__ import annotations

from typing import Any

from ticketing.vocabulary import Channel


def ticket_draft(call_id: str, caller_phone: str, caller_name: str, line: str) -> dict[str, Any]:
    """The intake fields known before anyone speaks; the agent adds type, description, category and
    region, and posts it to ``/api/tickets`` as it is. No recording path: recordings are served by
    the API to those who may hear them, never named on a stream."""
    return {
        "channel": Channel.PHONE.value,
        "caller_phone": caller_phone,
        "caller_name": caller_name,
        "line": line,
        "call_id": call_id,
    }
