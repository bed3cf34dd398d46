"""Random commands through the real store: every accepted event is kept; the snapshot is its replay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.kernel.runtime.db import create_engine
from hotline.ticketing.errors import TicketError
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.workflow import replay
from tests.unit.ticketing.desk import AGENT, INTAKE, Clock, step


async def drive(url: str, data: st.DataObject) -> None:
    engine = create_engine(url)
    try:
        desk = TicketDesk(
            engine, load_policy(data.draw(st.sampled_from(["zhijiang", "yunnan", "yingkou"]))), clock=Clock()
        )
        await desk.start()
        view, _ = await desk.take_in(
            {**INTAKE, "category": "urban.environment", "region": "zj.majiadian"}, AGENT
        )
        # Later examples share the database, so intake may already have flagged the matter hot.
        number, accepted = view["number"], view["version"]
        for _ in range(data.draw(st.integers(0, 25))):
            ticket = await desk.store.get(number)
            command, actor, payload, hours = step(data, ticket)
            desk.clock.now += timedelta(hours=hours)
            try:
                await desk.act(number, command, payload, actor)
            except TicketError as error:
                assert 400 <= error.status < 500
                assert (await desk.store.get(number)).version == accepted  # nothing half-written
                continue
            accepted += 1
        events = await desk.store.events(number)
        assert len(events) == accepted
        assert replay(events) == await desk.store.get(number)
    finally:
        await engine.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_sequences_through_the_store_lose_nothing(engine, database_url, data) -> None:
    """``engine`` migrated the database; each example drives a new ticket in it on its own loop."""
    asyncio.run(drive(database_url, data))
