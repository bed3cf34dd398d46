"""Stateful fuzzing: sequences of calls that follow the OpenAPI links (create a ticket, then work it; add a
unit, an article, a seat, then change them), each scenario on a server of its own.

Schemathesis' state machine draws each step from what earlier answers held, so
the server must answer a replayed scenario as it did the first time: every
scenario gets a fresh copy of a migrated database and an empty Redis. Each
call is made with the roles the operation admits, in turn, until one is not
refused for its role, so sequences reach the units' and supervisors' steps too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from collections import Counter

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import Bundle, initialize
from schemathesis.generation.stateful.state_machine import StepInput

from hotline.kernel.api.users import Users
from hotline.kernel.runtime.db import create_engine
from hotline.schema import bring_up_to_date
from tests.integration.helpers import COMPLAINT, signed_call
from tests.integration.served_api import serve_api

SCENARIOS = 60
STEPS_PER_SCENARIO = 12
#: Who tries a call first: the roles whose work the sequences follow (intake, then the unit, then dispatch).
ROLE_ORDER = ("agent", "unit", "supervisor", "admin")


async def test_call_sequences_that_follow_the_links_never_answer_500(tmp_path, redis):
    loop = asyncio.get_running_loop()
    template = tmp_path / "migrated.db"
    engine = create_engine(f"sqlite+aiosqlite:///{template}")
    await bring_up_to_date(engine)
    await engine.dispose()
    numbers = itertools.count()
    seen: Counter[str] = Counter()

    async def open_server():
        """A server of its own: a copy of the migrated database, an empty Redis, new tokens."""
        copy = shutil.copy(template, tmp_path / f"scenario-{next(numbers)}.db")
        engine = create_engine(f"sqlite+aiosqlite:///{copy}")
        await redis.flushdb()
        served = serve_api(engine, redis)
        client, tokens, _, _ = await served.__aenter__()
        tokens = {
            "agent": tokens["1001"],
            "unit": tokens["unit"],
            "supervisor": tokens["supervisor"],
            "admin": await Users(engine).add("管理员", "admin"),
        }

        async def close() -> None:
            await served.__aexit__(None, None, None)
            await engine.dispose()

        return close, tokens, client

    close, _, client = await open_server()  # every server serves the same description
    document = await (await client.get("/api/openapi.json")).json()
    await close()

    schema = schemathesis.openapi.from_dict(document)
    machine = schema.as_state_machine()
    intake = schema["/api/tickets"]["POST"]

    class Scenario(machine):  # type: ignore[misc, valid-type]
        # Schemathesis reads the intake's optional call_id and external_id as references to records no
        # operation creates, so it never starts a sequence there: each scenario starts with a citizen's
        # complaint, whose answer feeds every link from the intake.
        @initialize(target=Bundle("POST /api/tickets -> 201"))
        def a_citizen_complains(self):
            step = StepInput.initial(intake.Case(body=COMPLAINT, media_type="application/json"))
            self.recorder.record_case(case=step.case)  # as schemathesis' own steps do, for the links
            self.control.record_step(step, self.recorder)
            return self.step(step)

        def setup(self) -> None:
            self.close, self.tokens, client = asyncio.run_coroutine_threadsafe(open_server(), loop).result(30)
            self.base_url = str(client.make_url("")).rstrip("/")
            self.session = requests.Session()

        def teardown(self) -> None:
            self.session.close()
            asyncio.run_coroutine_threadsafe(self.close(), loop).result(30)

        def call(self, case, **kwargs):
            if case.operation.definition.raw.get("security") == [{"gatewaySignature": []}]:
                return schemathesis.Response.from_any(signed_call(case, self.base_url, self.session))
            admitted = case.operation.definition.raw.get("x-roles") or ROLE_ORDER
            for role in (r for r in ROLE_ORDER if r in admitted):
                response = case.call(
                    base_url=self.base_url,
                    session=self.session,
                    headers={**(case.headers or {}), "Authorization": f"Bearer {self.tokens[role]}"},
                    timeout=10,
                )
                if response.status_code != 403:
                    break
            return response

        def validate_response(self, response, case, **kwargs) -> None:
            status = response.status_code
            seen[f"{case.operation.label} {status}"] += 1
            where = (case.operation.label, case.path_parameters, case.query, status, response.text[:300])
            assert status < 500, where
            if status >= 400:
                assert response.headers.get("content-type", [""])[0].startswith("application/json"), where
                assert json.loads(response.text).get("error_id"), where

    def run() -> None:
        Scenario.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS_PER_SCENARIO,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
        )

    await asyncio.to_thread(run)
    followed = {key.rsplit(" ", 1)[0] for key, count in seen.items() if "{" in key and key[-3] == "2"}
    print(f"stateful: {sum(seen.values())} calls, {SCENARIOS} scenarios; via links: {sorted(followed)}")
    # The draws vary from run to run (which write a link reaches first differs): require a read through a
    # link into a ticket and into a unit, and at least one write through a link, whichever it is.
    assert "GET /api/tickets/{number}" in followed, followed
    assert {"GET /api/units/{code}", "PATCH /api/units/{code}"} & followed, followed
    writes = {
        "POST /api/tickets/{number}/{command}",
        "POST /api/tickets/{number}/attachments",
        "PATCH /api/units/{code}",
        "PATCH /api/agents/{account}",
    }
    assert writes & followed, followed
