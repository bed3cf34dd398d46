"""Property-based fuzzing of every operation in the served OpenAPI description, with each role's token.

Schemathesis generates requests from the description, valid ones and invalid
ones, and checks every answer against it: no 5xx; only documented statuses and
content types; every refusal a JSON body with a stable ``error_id``; what the
description forbids refused, and what it allows not refused, except for a 422
naming a field the operation lists in ``x-checked`` (a code that must name a
record, a rule across fields or roles: what a schema cannot say). Path
parameters are drawn both at random and from records that exist (a ticket, a
unit, an agent, an article), so the fuzzer reaches each operation's logic
instead of stopping at 404.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from hotline.kernel.api.users import Users
from tests.integration.helpers import COMPLAINT, signed_call

EXAMPLES_PER_OPERATION = 12
#: The operations are fuzzed in this many shares (every fourth one in each), so test workers share the work.
SHARES = 4
#: Checks of one answer; the ones that replay a request without its token, or follow a resource's life
#: over several calls, are the stateful test's business and the ticket API's own tests'.
UNCHECKED = ("ignored_auth", "use_after_free", "ensure_resource_availability")
#: aiohttp's longest request line: a longer one (an array drawn for a query parameter, say) is refused by
#: the HTTP server itself, 400 in plain text, before any route or middleware could answer it.
REQUEST_LINE_LIMIT = 8190


def fuzz_plan(
    document: dict, tokens: dict[str, str], known: dict[str, str], share: int
) -> list[tuple[str, str, str, SearchStrategy]]:
    """Each role's strategy for each operation of one share (their place in the description, modulo
    ``SHARES``): (role, token, operation, strategy). Made on the test's thread: schemathesis imports its
    modules as it first needs them, and pytest rewrites them as they come, which Python 3.11 does not
    do safely on two threads at once ("AST constructor recursion depth mismatch")."""
    plan = []
    for role, token in tokens.items():
        # The credentials are the run's, as ``st run -H`` gives them: never drawn, nor left out as invalid
        # data. A gateway's signature is made for each request's bytes (``signed_call``).
        config = {"headers": {"Authorization": f"Bearer {token}", "X-Hotline-Signature": "signed_call"}}
        config["checks"] = {name: {"enabled": False} for name in UNCHECKED}
        schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(config))
        for place, result in enumerate(schema.get_all_operations()):
            if place % SHARES != share:
                continue
            operation = result.ok()
            strategies = [
                operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            ]
            names = {parameter.name for parameter in operation.path_parameters}
            if names:
                fixed = {name: known[name] for name in names if name in known}
                strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
            plan.append((role, token, operation.label, st.one_of(strategies)))
    return plan


def fuzz(base_url: str, plan: list[tuple[str, str, str, SearchStrategy]]) -> Counter[str]:
    """Runs in a worker thread: schemathesis calls are blocking, the server lives on the test's loop."""
    seen: Counter[str] = Counter()
    session = requests.Session()
    for role, token, label, strategy in plan:
        check(strategy, label, role, token, base_url, session, seen)()
    return seen


def check(strategy, label: str, role: str, token: str, base_url: str, session, seen: Counter[str]):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def answers_as_described(case) -> None:
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        if case.operation.definition.raw.get("security") == [{"gatewaySignature": []}]:
            response = schemathesis.Response.from_any(signed_call(case, base_url, session))
        else:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        status, text = response.status_code, response.text
        seen[f"{label} {status}"] += 1
        seen[f"as {role} {status == 401}"] += 1
        where = (role, label, case.path_parameters, case.query, status, text[:300])
        assert status < 500, where
        if len(f"{response.request.method} {response.request.path_url} HTTP/1.1") > REQUEST_LINE_LIMIT:
            assert status == 400, where
            return
        if status >= 400:
            assert response.headers.get("content-type", [""])[0].startswith("application/json"), where
            assert json.loads(text).get("error_id"), where
        disagreements = described_disagreements(case, response, headers, base_url, session)
        assert not disagreements, "\n".join([repr(where), *(f"{f.code} {f.message}" for f in disagreements)])

    return answers_as_described


def described_disagreements(case, response, headers, base_url, session) -> list:
    """Schemathesis' failures for this answer, less those the description itself explains."""
    try:
        case.validate_response(
            response,
            headers=headers,
            transport_kwargs={"base_url": base_url, "session": session, "headers": headers},
        )
    except FailureGroup as group:
        return [failure for failure in group.exceptions if not explained(case, response, failure)]
    return []


def explained(case, response, failure) -> bool:
    operation = case.operation.definition.raw
    if "101" in operation["responses"]:  # a websocket: a plain request is a 426, whatever it holds
        return response.status_code == 426
    if failure.code == "ST202" and response.status_code in (415, 422):  # valid data refused: checked field
        return response.json().get("field") in operation.get("x-checked", {})
    return False


@pytest.mark.parametrize("share", range(SHARES))
async def test_every_operation_with_every_role_answers_as_the_description_says(api, engine, share):
    client, tokens, _, _ = api
    users = Users(engine)  # an agent (1001), a supervisor and a unit come with the fixture
    tokens |= {"admin": await users.add("管理员", "admin"), "quality": await users.add("质检员", "quality")}
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
    seen = await asyncio.to_thread(fuzz, base_url, fuzz_plan(document, tokens, known, share))
    answered_as = {key.split()[1] for key in seen if key.startswith("as ") and key.endswith(" False")}
    assert answered_as == set(tokens), f"only 401 as {sorted(set(tokens) - answered_as)}"
    seen = Counter({key: count for key, count in seen.items() if not key.startswith("as ")})
    print(f"fuzzed {sum(seen.values())} requests over {len({k.rsplit(' ', 1)[0] for k in seen})} operations")
    operations = {key.rsplit(" ", 1)[0] for key in seen}
    described = sum(len(methods) for methods in document["paths"].values())
    assert len(operations) == len(range(share, described, SHARES))
    reached = {key.rsplit(" ", 1)[0] for key, count in seen.items() if not key.endswith((" 401", " 404"))}
    assert reached == operations, f"never past 401/404: {sorted(operations - reached)}"
