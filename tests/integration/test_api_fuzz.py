"""Property-based fuzzing of every operation in the served OpenAPI description, with each role's token.

Schemathesis generates requests from the description, valid ones and invalid
ones; each must be answered below 500, and every refusal must be a JSON body
with a stable ``error_id``. Path parameters are drawn both at random and from
records that exist (a ticket, a unit, an agent, an article), so the fuzzer
reaches each operation's logic instead of stopping at 404.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from kernel.api.users import Users
from tests.integration.test_agent_api import api  # noqa: F401  (the fixture: tickets, agents, events)
from tests.integration.test_ticket_api import COMPLAINT, GATEWAY_SECRET
from ticketing.webhooks import sign

EXAMPLES_PER_OPERATION = 12


def fuzz(base_url: str, document: dict, tokens: dict[str, str], known: dict[str, str]) -> Counter[str]:
    """Runs in a worker thread: schemathesis calls are blocking, the server lives on the test's loop."""
    schema = schemathesis.openapi.from_dict(document)
    seen: Counter[str] = Counter()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [
            operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        names = {parameter.name for parameter in operation.path_parameters}
        if names:
            fixed = {name: known[name] for name in names if name in known}
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
        for role, token in tokens.items():
            check(st.one_of(strategies), operation.label, role, token, base_url, session, seen)()
    return seen


def check(strategy, label: str, role: str, token: str, base_url: str, session, seen: Counter[str]):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def no_server_errors(case) -> None:
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        if case.operation.definition.raw.get("security") == [{"gatewaySignature": []}]:
            status, content_type, text = signed_call(case, base_url, session)
        else:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
            status, content_type, text = (
                response.status_code,
                response.headers.get("content-type", [""])[0],
                response.text,
            )
        seen[f"{label} {status}"] += 1
        where = (role, label, case.path_parameters, case.query, status, text[:300])
        assert status < 500, where
        if status >= 400:
            assert content_type.startswith("application/json"), where
            assert json.loads(text).get("error_id"), where

    return no_server_errors


def signed_call(case, base_url: str, session: requests.Session) -> tuple[int, str, str]:
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
        "X-Hotline-Signature": sign(GATEWAY_SECRET, stamp, body),
    }
    response = session.post(base_url + case.formatted_path, data=body, headers=headers, timeout=10)
    return response.status_code, response.headers.get("Content-Type", ""), response.text


async def test_every_operation_with_every_role_answers_below_500_with_error_ids(api, engine):  # noqa: F811
    client, tokens, _, _ = api
    tokens = {**tokens, "admin": await Users(engine).add("管理员", "admin")}
    me = {"Authorization": f"Bearer {tokens['1001']}"}
    ticket = await (await client.post("/api/tickets", json=COMPLAINT, headers=me)).json()
    article = {
        "question": "路灯坏了找谁",
        "answer": "城管",
        "category": "urban.management",
        "effective_from": "2026-01-01",
    }
    unit = {"Authorization": f"Bearer {tokens['unit']}"}
    created = await (await client.post("/api/kb", json=article, headers=unit)).json()
    known = {
        "number": ticket["number"],
        "code": "cgj.majiadian",
        "account": "1001",
        "id": str(created["id"]),
        "command": "note",
        "channel": "sms",
        "day": "2027-01-04",
        "year": "2027",
    }
    document = await (await client.get("/api/openapi.json")).json()
    base_url = str(client.make_url("")).rstrip("/")
    seen = await asyncio.to_thread(fuzz, base_url, document, tokens, known)
    print(f"fuzzed {sum(seen.values())} requests over {len({k.rsplit(' ', 1)[0] for k in seen})} operations")
    operations = {key.rsplit(" ", 1)[0] for key in seen}
    assert len(operations) == sum(len(methods) for methods in document["paths"].values())
    reached = {key.rsplit(" ", 1)[0] for key, count in seen.items() if not key.endswith((" 401", " 404"))}
    assert reached == operations, f"never past 401/404: {sorted(operations - reached)}"
