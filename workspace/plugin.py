"""The agent's desk wired from the core: the screen pop with the caller's history and a pre-filled
draft, dial-out (the agent's phone first, then the citizen), the phone's feature codes, and the agent's
own routes."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from hotline.acd.dispatch import Dispatcher
from hotline.kernel.asterisk.fastagi import AgiSession
from hotline.kernel.wiring import Deps, Plugin
from hotline.speech.transcripts import Transcripts
from hotline.ticketing.service import TicketDesk
from hotline.trunks.dialling import OutboundGuard
from hotline.workspace.dial_out import DialOut
from hotline.workspace.http import WORKSPACE_ROUTES, add_workspace
from hotline.workspace.phone import run_dial_code, run_feature_code
from hotline.workspace.screen_pop import ScreenPops


@dataclasses.dataclass(frozen=True)
class Workspace:
    screen_pops: ScreenPops
    dial_out: DialOut
    plugin: Plugin


def setup(
    deps: Deps,
    dispatcher: Dispatcher,
    desk: TicketDesk,
    outbound: OutboundGuard,
    transcripts: Transcripts,
    is_agent: Callable[[str], bool],
) -> Workspace:
    settings, publish = deps.settings, deps.outbox.publish
    heard = transcripts.enabled
    screen_pops = ScreenPops(
        desk,
        deps.live.caller_calls,
        deps.outbox.publish_to_agent,
        transcripts.text if heard else None,
        transcripts.follow if heard else None,
    )
    dial_out = DialOut(deps.ami, dispatcher, outbound, desk, publish, settings.ring_seconds)

    async def feature_code(session: AgiSession) -> None:
        await run_feature_code(session, dispatcher, settings.prompts_dir, publish)

    async def dial_code(session: AgiSession) -> None:
        await run_dial_code(session, dial_out, settings.prompts_dir, publish)

    plugin = Plugin(
        "workspace",
        routes=WORKSPACE_ROUTES,
        app_keys=functools.partial(
            add_workspace, dispatcher=dispatcher, dial_out=dial_out, is_agent=is_agent
        ),
        agi=[("agent", feature_code), ("dial", dial_code)],
        stop=[("agents' dial-outs ringing", dial_out.close), ("screen pops", screen_pops.close)],
    )
    return Workspace(screen_pops, dial_out, plugin)
