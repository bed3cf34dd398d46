"""A gateway's timestamp is whole unix seconds in ASCII digits; anything else is a clear 401, not a crash."""

from __future__ import annotations

import pytest

from ticketing.errors import TicketError
from ticketing.webhooks import sign, verify


@pytest.mark.parametrize("timestamp", ["²", "١٧٠٠٠٠٠٠٠٠", "nan", "", "1" * 13])
def test_a_timestamp_that_is_not_ascii_seconds_is_refused_as_a_bad_signature(timestamp: str) -> None:
    with pytest.raises(TicketError) as refused:
        verify("secret", timestamp, sign("secret", timestamp, b"{}"), b"{}", 1_700_000_000)
    assert (refused.value.error_id, refused.value.status) == ("bad-signature", 401)
