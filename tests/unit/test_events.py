"""The event catalogue says what the streams carry: every published type is in it, nothing stale is."""

import re
import tomllib
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.web import create_app
from hotline.kernel.runtime.events import CATALOGUE, UncataloguedEvent
from hotline.kernel.runtime.live import LiveState

REPO = Path(__file__).resolve().parents[2]
#: Every runtime folder of the installed package (its package-dir), less the lab and the templates.
SOURCES = sorted(
    set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())
    - {"lab", "asterisk-conf"}
)
PREFIXES = "|".join(sorted({name.split(".")[0] for name in CATALOGUE}))
EVENT_NAME = re.compile(rf"""["']((?:{PREFIXES})\.[a-z_]+)["']""")


def names_in_code() -> set[str]:
    found = set()
    for folder in SOURCES:
        for path in (REPO / folder).rglob("*.py"):
            if path.name != "events.py":
                found |= set(EVENT_NAME.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_event_type_the_code_names_is_catalogued_and_no_entry_is_stale():
    in_code = names_in_code()
    assert in_code - set(CATALOGUE) == set(), "publish only what kernel/runtime/events.py describes"
    assert set(CATALOGUE) - in_code == set(), "a catalogued event nothing publishes"


async def test_the_live_state_refuses_an_uncatalogued_event_before_writing_anything():
    live = LiveState(redis=None)  # type: ignore[arg-type]
    with pytest.raises(UncataloguedEvent, match=r"call\.exploded"):
        await live.publish({"type": "call.exploded"})
    with pytest.raises(UncataloguedEvent):
        await live.publish_to_agent("1001", {"type": "agent.secret"})


async def test_websocket_clients_read_the_catalogue_beside_the_openapi():
    async def health() -> dict[str, bool]:
        return {}

    client = TestClient(TestServer(create_app(health, EventHub(redis=None))))  # type: ignore[arg-type]
    await client.start_server()
    response = await client.get("/api/events/catalogue.json")
    body = await response.json()
    await client.close()
    served = {e["type"]: e for e in body["events"]}
    assert response.status == 200 and set(served) == set(CATALOGUE)
    assert served["call.hangup"]["fields"][:4] == ["call_id", "caller_number", "caller_name", "line"]
    assert "own stream" in served["agent.screen_pop"]["description"]
