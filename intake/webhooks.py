"""Messages from the SMS and WeChat gateways, signed by the gateway and turned into intakes. Pure.

The gateway signs each request with the shared secret (``HOTLINE_WEBHOOK_SECRET``):
``X-Hotline-Signature: sha256=HEX`` where HEX is the HMAC-SHA256 of
``"{X-Hotline-Timestamp}.{path}.{raw body}"``, the path being the one posted to
(``/api/intake/sms``), so a request signed for one channel is no request to
another. A request older or newer than five minutes is refused, so a captured
request cannot be replayed later; a resend of the same ``message_id`` finds the
ticket it already made.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from hotline.ticketing.errors import TicketError, invalid
from hotline.ticketing.service import GATEWAY_SUFFIX
from hotline.ticketing.vocabulary import Channel

CHANNELS = frozenset({Channel.SMS, Channel.WECHAT})
MAX_SKEW_SECONDS = 300
#: Message fields copied onto the intake as they are (the intake validates them).
PASSED_ON = ("category", "region", "address", "attachments", "confidential", "share_number")


def sign(secret: str, timestamp: str, body: bytes, path: str) -> str:
    """The signature header value a gateway sends to ``path``; the hotline signs its own requests to the SMS
    provider the same way (``notices.senders``), and tests and gateway authors use it too."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{path}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, signature: str, body: bytes, now: float, path: str) -> None:
    if not secret:
        raise TicketError("webhook-disabled", "未配置网关密钥 HOTLINE_WEBHOOK_SECRET", 503)
    # Whole unix seconds in ASCII digits: "nan" would never expire, and "²" is a digit int() refuses.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise TicketError("bad-signature", "缺少或无效的 X-Hotline-Timestamp", 401)
    sent_at = int(timestamp)
    if abs(now - sent_at) > MAX_SKEW_SECONDS:
        raise TicketError("stale-request", f"请求时间与服务器相差超过 {MAX_SKEW_SECONDS} 秒", 401)
    # compare_digest takes ASCII text only: anything else is no signature of ours, not a crash.
    given = signature.strip()
    if not given.isascii() or not hmac.compare_digest(sign(secret, timestamp, body, path), given):
        raise TicketError(
            "bad-signature", "签名不符：X-Hotline-Signature 应为 sha256=HMAC(密钥, 时间戳.路径.正文)", 401
        )


def channel_of(name: str) -> Channel:
    try:
        channel = Channel.parse(name)
    except ValueError:
        channel = None
    if channel not in CHANNELS:
        raise TicketError(
            "not-found", f"no intake channel {name}; channels: sms, wechat", 404, what="channel"
        )
    return channel


def intake_from_message(
    channel: Channel, message: Any, default_category: str, default_region: str
) -> dict[str, Any]:
    """An intake for ``parse_intake``; an unclassified message waits as 其他 for an agent to classify."""
    if not isinstance(message, Mapping):
        raise invalid("body", "must be a JSON object")
    message_id = message.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        raise invalid("message_id", "is required: the gateway's id of this message, for safe resends")
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text", "is required: what the citizen wrote")
    intake = {key: message[key] for key in PASSED_ON if key in message}
    return {
        "type": message.get("type", "other"),
        "description": text,
        "caller_phone": message.get("phone", ""),
        "caller_name": message.get("name", ""),
        "category": default_category,
        "region": default_region,
        **intake,
        "channel": channel.value,
        "source": f"{channel.value}{GATEWAY_SUFFIX}",
        "external_id": message_id.strip(),
    }
