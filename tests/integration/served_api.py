"""The whole API (tickets, agents, calls, supervision, reports, notices, recordings) on a test server."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AgentState, Engine
from hotline.acd.state_store import AcdStateStore
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.http import AGENT_ROUTES, add_agent_state
from hotline.agents.profiles import AgentProfile
from hotline.agents.roster import Roster
from hotline.intake.http import INTAKE_ROUTES, add_intake
from hotline.intake.service import IntakeDesk
from hotline.ivr.handback import Handbacks
from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.users import Users
from hotline.kernel.api.web import create_app
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.runtime.live import LiveState
from hotline.notices.http import NOTICE_ROUTES, add_notices
from hotline.notices.outbox import Outbox
from hotline.recordings.http import RECORDING_ROUTES, add_recordings
from hotline.recordings.shelf import RecordingShelf
from hotline.reports.book import RecordBook
from hotline.reports.http import REPORT_ROUTES, add_reports
from hotline.reports.store import RecordStore
from hotline.supervision.http import SUPERVISION_ROUTES, add_supervision
from hotline.supervision.log import MonitorLog
from hotline.supervision.messages import Messenger
from hotline.supervision.monitors import Monitors
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from hotline.transfers.control import CallControl
from hotline.transfers.http import CALL_ROUTES, add_calls
from hotline.trunks.dialling import DiallingPlan, OutboundGuard
from hotline.workspace.dial_out import DialOut
from hotline.workspace.http import WORKSPACE_ROUTES, add_workspace
from tests.integration.api_routes import add_api
from tests.integration.helpers import GATEWAY_SECRET


async def no_health_checks() -> dict[str, bool]:
    return {}


async def provision_nothing(records) -> bool:
    """These tests are about states; the agent table's endpoints are tested in test_agent_roster."""
    return True


@contextlib.asynccontextmanager
async def serve_api(engine, redis):
    """The ticket and agent API on a test server: two agents, a supervisor and a unit, each with a token."""
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    users = Users(engine)
    published: list[dict] = []

    async def publish(event: dict) -> None:
        published.append(event)

    async def no_callbacks(offer) -> None:
        raise AssertionError("no callback expected")

    dispatcher = Dispatcher(Engine(), AcdStateStore(redis), publish, lambda: 100.0, no_callbacks)
    roster = Roster(AgentDirectory(engine), provision_nothing, dispatcher, {"12345"})
    await roster.start([AgentRecord(AgentProfile(a, "", {"12345": 5}), "pw") for a in ("1001", "1002")])
    await dispatcher.restore(roster.active_skills())
    hub = EventHub(redis)
    app = create_app(no_health_checks, hub)
    # No live calls here: every monitor request is refused before Asterisk would be asked.
    no_asterisk = AmiClient("127.0.0.1", 9, "hotline", "unused")
    outbound = OutboundGuard(DiallingPlan(), publish)
    dial_out = DialOut(no_asterisk, dispatcher, outbound, desk, publish, 15)
    add_agent_state(app, dispatcher, roster)
    add_workspace(app, dispatcher, dial_out, roster.is_agent)
    monitors = Monitors(no_asterisk, lambda call_id: None, ("9001",), publish, MonitorLog(engine))
    signed_in = lambda: {a.account: a.state != AgentState.LOGGED_OUT for a in dispatcher.agents()}  # noqa: E731
    add_supervision(app, monitors, Messenger(signed_in, publish, LiveState(redis).publish_to_agent))
    calls = CallControl(
        no_asterisk,
        dict,
        roster.is_agent,
        outbound,
        publish,
        Handbacks(),
        lambda _: True,
        recordings_dir="/var/lib/hotline/sut/recordings",
    )
    add_calls(app, calls)
    add_reports(app, RecordBook(RecordStore(engine, ZoneInfo("Asia/Shanghai")), {"12345"}, publish))
    add_notices(app, Outbox(engine), desk)
    # No recording files here: the fuzzers reach the recordings' refusals and their empty listings.
    add_recordings(app, RecordingShelf(engine, Path(tempfile.mkdtemp())), desk.call_ids, timedelta(days=7))
    add_intake(app, IntakeDesk(desk), GATEWAY_SECRET)
    add_api(
        app,
        desk,
        users,
        extra_routes=[
            *INTAKE_ROUTES,
            *WORKSPACE_ROUTES,
            *AGENT_ROUTES,
            *CALL_ROUTES,
            *SUPERVISION_ROUTES,
            *REPORT_ROUTES,
            *NOTICE_ROUTES,
            *RECORDING_ROUTES,
        ],
    )
    tokens = {
        "1001": await users.add("1001", "agent"),
        "supervisor": await users.add("李班长", "supervisor"),
        "unit": await users.add("城管中队", "unit", "cgj.majiadian"),
    }
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client, tokens, dispatcher, published
    finally:
        await dial_out.close()
        await client.close()
