"""What the API's integration tests (and the lab's) share: a complaint to file, the gateway's secret, a
signed request, a bearer header."""

from __future__ import annotations

import json
import time

import requests

from hotline.intake.webhooks import sign

GATEWAY_SECRET = "gateway-test-secret"
#: A citizen's complaint as the API takes it in.
COMPLAINT = {
    "type": "投诉",
    "description": "小区门口占道经营",
    "category": "urban.management",
    "region": "zj.majiadian.c02",
    "caller_name": "李四",
    "caller_phone": "13900139000",
}
#: A citizen's complaint as the ticket store's tests file it, with an address.
FUMES_COMPLAINT = {
    "type": "投诉",
    "description": "楼下饭店油烟很大",
    "category": "urban.environment",
    "region": "zj.majiadian.c01",
    "caller_name": "张三",
    "caller_phone": "13800138000",
    "address": "马家店街道团结路8号",
}


def auth(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def signed_call(case, base_url: str, session: requests.Session) -> requests.Response:
    """A gateway's request: the fuzzer signs the exact bytes it sends, so it reaches the intake itself."""
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        body = b""
    elif not isinstance(body, bytes):
        body = json.dumps(body, default=str).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Hotline-Timestamp": stamp,
        "X-Hotline-Signature": sign(GATEWAY_SECRET, stamp, body, case.formatted_path),
    }
    return session.post(base_url + case.formatted_path, data=body, headers=headers, timeout=10)
