"""A gateway's timestamp is whole unix seconds in ASCII digits; anything else is a clear 401, not a crash."""

from __future__ import annotations

import pytest

from hotline.intake.webhooks import sign, verify
from hotline.ticketing.errors import TicketError


@pytest.mark.parametrize("timestamp", ["²", "١٧٠٠٠٠٠٠٠٠", "nan", "", "1" * 13])
def test_a_timestamp_that_is_not_ascii_seconds_is_refused_as_a_bad_signature(timestamp: str) -> None:
    with pytest.raises(TicketError) as refused:
        verify("secret", timestamp, sign("secret", timestamp, b"{}", "/"), b"{}", 1_700_000_000, "/")
    assert (refused.value.error_id, refused.value.status) == ("bad-signature", 401)


def test_a_signature_is_for_the_path_it_was_sent_to() -> None:
    """A signed SMS replayed to /api/intake/wechat within the five minutes made a second ticket."""
    body = b'{"message_id": "sms-1", "text": "x"}'
    signature = sign("secret", "1700000000", body, "/api/intake/sms")
    verify("secret", "1700000000", signature, body, 1_700_000_000, "/api/intake/sms")
    with pytest.raises(TicketError) as refused:
        verify("secret", "1700000000", signature, body, 1_700_000_000, "/api/intake/wechat")
    assert (refused.value.error_id, refused.value.status) == ("bad-signature", 401)


def test_a_signature_that_is_not_ascii_is_refused_not_a_crash() -> None:
    with pytest.raises(TicketError) as refused:
        verify("secret", "1700000000", "sha256=é", b"{}", 1_700_000_000, "/api/intake/sms")
    assert (refused.value.error_id, refused.value.status) == ("bad-signature", 401)
