"""The event catalogue says what the streams carry: every published type is in it, nothing stale is, and
every payload carries exactly the fields its type declares."""

import ast
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

import fakeredis
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import Engine, QueuedCall, Settings
from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.web import create_app
from hotline.kernel.asterisk.channels import CallTracker
from hotline.kernel.asterisk.refusals import Refusal
from hotline.kernel.runtime.events import CALL, CATALOGUE, UncataloguedEvent, require_catalogued
from hotline.kernel.runtime.live import LiveState
from tests.fakes.ivr_services import FakeStore
from tests.unit.call_channels import AGENT, CALLER

REPO = Path(__file__).resolve().parents[2]
#: Every runtime folder of the installed package (its package-dir), less the lab and the templates.
SOURCES = sorted(
    set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())
    - {"lab", "asterisk-conf"}
)
PREFIXES = "|".join(sorted({name.split(".")[0] for name in CATALOGUE}))
EVENT_NAME = re.compile(rf"""["']((?:{PREFIXES})\.[a-z_]+)["']""")
#: What hands an event to the streams, by the name the code calls it.
PUBLISHERS = {"publish", "_publish", "publish_to_agent", "to_agent"}
#: Types whose payload names its type through a variable, so no reading of the code sees it whole: each is
#: checked by running the code that builds it, below (a consult's, in tests/unit/transfers/test_chart.py).
BUILT_AT_RUN_TIME = {
    "call.conference",
    "call.ringing",
    "call.answered",
    "call.bridged",
    "call.hangup",
    "agent.auto_break",
    "security.agi_refused",
    "security.audiosocket_refused",
}


def code_files() -> list[Path]:
    return [
        path
        for folder in SOURCES
        for path in sorted((REPO / folder).rglob("*.py"))
        if path.name != "events.py"
    ]


def names_in_code() -> set[str]:
    found = set()
    for path in code_files():
        found |= set(EVENT_NAME.findall(path.read_text(encoding="utf-8")))
    return found


@dataclass
class Payload:
    """An event as the code writes it: where, which types it can be, the fields it names."""

    where: str
    types: list[str]
    fields: set[str]
    whole: bool  # no ``**`` part, and handed to a publisher (or returned for one): every field is named


def _types(node: ast.expr) -> list[str]:
    """The catalogued types a ``"type"`` value names: one, or either of two (``a if b else c``)."""
    if isinstance(node, ast.Constant) and node.value in CATALOGUE:
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _types(node.body) + _types(node.orelse)
    return []


def _callee(node: ast.AST) -> str:
    func = node.func if isinstance(node, ast.Call) else None
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def payloads_in_code() -> list[Payload]:
    """Every event payload the code spells out: a dict with a catalogued ``"type"``, and the IVR flow's
    ``publish(kind, **fields)``, which adds the call's own fields (``CALL``)."""
    found = []
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Dict):
                named = {
                    k.value: v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant)
                }
                types = _types(named["type"]) if "type" in named else []
                if types:
                    up = parent.get(node)
                    handed = isinstance(up, ast.Return) or (
                        isinstance(up, ast.Call) and _callee(up) in PUBLISHERS and node in up.args
                    )
                    found.append(
                        Payload(where, types, set(named) - {"type"}, handed and None not in node.keys)
                    )
            elif _callee(node) == "publish" and node.args and _types(node.args[0]):
                keywords = {k.arg for k in node.keywords}
                found.append(
                    Payload(where, _types(node.args[0]), set(CALL) | keywords - {None}, None not in keywords)
                )
    return found


def test_every_event_type_the_code_names_is_catalogued_and_no_entry_is_stale():
    in_code = names_in_code()
    assert in_code - set(CATALOGUE) == set(), "publish only what kernel/runtime/events.py describes"
    assert set(CATALOGUE) - in_code == set(), "a catalogued event nothing publishes"


def test_every_payload_the_code_spells_out_carries_its_required_fields_and_no_undeclared_one():
    found, wrong = payloads_in_code(), []
    for payload in found:
        for kind in payload.types:
            declared = CATALOGUE[kind]
            undeclared = payload.fields - set(declared.fields) - set(declared.optional)
            missing = set(declared.fields) - payload.fields if payload.whole else set()
            if undeclared or missing:
                wrong.append(
                    f"{payload.where} {kind}: undeclared {sorted(undeclared)}, missing {sorted(missing)}"
                )
    assert wrong == [], "kernel/runtime/events.py and the code disagree"
    seen = {kind for payload in found for kind in payload.types}
    assert seen | BUILT_AT_RUN_TIME == set(CATALOGUE), "a type no test here checks"


def test_the_calls_events_from_asterisks_are_as_catalogued():
    tracker = CallTracker(is_agent=lambda account: account == "1001", clock=lambda: 100.0)
    events = [
        event
        for ami in (
            {"Event": "Newchannel", **CALLER},
            {"Event": "Newstate", **CALLER, "ChannelStateDesc": "Up"},
            {"Event": "Newchannel", **AGENT},
            {"Event": "BridgeEnter", **CALLER, "BridgeUniqueid": "b1"},
            {"Event": "BridgeEnter", **AGENT, "BridgeUniqueid": "b1"},
            {"Event": "Hangup", **AGENT, "Cause-txt": "Normal Clearing"},
            {"Event": "Hangup", **CALLER, "Cause-txt": "Normal Clearing"},
        )
        for event in tracker.handle(ami)
    ]
    events += tracker.reconcile([{**CALLER, "ChannelStateDesc": "Ring"}], asterisk_started=None)
    events += tracker.reconcile([], asterisk_started=None)
    assert [e["type"] for e in events] == [
        "call.ringing",
        "call.answered",
        "call.bridged",
        "call.hangup",
        "call.ringing",
        "call.hangup",
    ]
    for event in events:
        require_catalogued(event)


async def test_an_agent_put_on_break_after_missed_calls_is_told_as_catalogued():
    events: list[dict[str, object]] = []

    async def publish(event: dict[str, object]) -> None:
        require_catalogued(event)
        events.append(event)

    async def no_callbacks(_: object) -> None:
        raise AssertionError("no callback here")

    dispatcher = Dispatcher(
        Engine(Settings(missed_before_break=1)), FakeStore(), publish, lambda: 10.0, no_callbacks
    )
    await dispatcher.step(
        lambda engine, now: (engine.add_agent("1001", {"12345": 5}), engine.login("1001", now))
    )
    await dispatcher.step(lambda engine, now: engine.ready("1001", now))
    await dispatcher.step(lambda engine, now: engine.call_arrived(QueuedCall("c1", "12345", "12345", now)))
    offer = dispatcher.take_offer("c1")
    assert offer is not None
    await dispatcher.finish_offer(offer, answered=False)
    assert [e["type"] for e in events][-2:] == ["agent.state", "agent.auto_break"]


@pytest.mark.parametrize("kind", ["security.agi_refused", "security.audiosocket_refused"])
def test_a_refusal_report_is_as_catalogued(kind: str):
    require_catalogued({"type": kind, **asdict(Refusal("10.0.0.9", "no key", 1, 7))})


def transfer(**fields: object) -> dict[str, object]:
    about = {"call_id": "c1", "caller_number": "13800138000", "caller_name": "", "line": "12345"}
    said = {"to": "12315", "mode": "blind", "state": "ringing", "agent": "1001", "by": "1001", "linkage": ""}
    return {"type": "call.transfer", **about, **said, **fields}


async def test_the_live_state_refuses_an_uncatalogued_event_before_writing_anything():
    live = LiveState(redis=None)  # type: ignore[arg-type]
    with pytest.raises(UncataloguedEvent, match=r"call\.exploded"):
        await live.publish({"type": "call.exploded"})
    with pytest.raises(UncataloguedEvent):
        await live.publish_to_agent("1001", {"type": "agent.secret"})


async def test_the_live_state_refuses_a_payload_with_an_undeclared_field_or_without_a_required_one():
    live = LiveState(redis=None)  # type: ignore[arg-type]
    with pytest.raises(UncataloguedEvent, match=r"call\.transfer: undeclared colour"):
        await live.publish(transfer(colour="red"))
    without_agent = {k: v for k, v in transfer().items() if k != "agent"}
    with pytest.raises(UncataloguedEvent, match=r"call\.transfer: missing agent"):
        await live.publish(without_agent)
    with pytest.raises(UncataloguedEvent, match=r"agent\.screen_pop: missing .*draft"):
        await live.publish_to_agent("1001", {"type": "agent.screen_pop", "agent": "1001", "call_id": "c1"})


async def test_optional_fields_may_be_there_or_not():
    redis = fakeredis.FakeAsyncRedis()
    live = LiveState(redis)
    await live.publish(transfer())
    await live.publish(transfer(state="failed", status="BUSY"))
    await live.publish(transfer(state="refused", error_id="transfer-to-self", reason="不能转给自己"))
    assert await redis.xlen("hotline:events") == 3


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
    transfer_fields = served["call.transfer"]
    assert {"error_id", "reason"} <= set(transfer_fields["optional"])
    assert "to" in transfer_fields["required"] and "error_id" not in transfer_fields["required"]
    assert transfer_fields["fields"] == transfer_fields["required"] + transfer_fields["optional"]
