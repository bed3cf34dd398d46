"""The composition root's lifecycle: each capability wires itself (its ``plugin.py``); this keeps the order.

The capabilities are set up below the ones that use them, each from the same
core (``kernel.wiring.Deps``); a few hear from a capability set up after them
through a late-bound call. The root subscribes what each declared (AMI events
by name, published events by type, FastAGI scripts, routes), starts them in
order, reconciles with Asterisk after every AMI login, and stops them in the
reverse order, each step bounded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Callable

from aiohttp import web

from hotline.acd import plugin as acd_plugin
from hotline.adapters import Adapters
from hotline.agents import plugin as agents_plugin
from hotline.asterisk_system import render_system
from hotline.intake import plugin as intake_plugin
from hotline.ivr import plugin as ivr_plugin
from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.routes import add_routes
from hotline.kernel.api.users import Users
from hotline.kernel.asterisk.channels import CallTracker
from hotline.kernel.asterisk.fastagi import FastAgiServer
from hotline.kernel.asterisk.live_calls import CALL_EVENTS, LiveCalls
from hotline.kernel.asterisk.refusals import Refusal
from hotline.kernel.runtime.config import Settings, listen_or_fail
from hotline.kernel.runtime.db import ping
from hotline.kernel.runtime.live import LiveState
from hotline.kernel.runtime.outbox import LiveOutbox
from hotline.kernel.runtime.rounds import every
from hotline.kernel.runtime.stopping import bounded, cancelled
from hotline.kernel.wiring import Deps, Plugin, health
from hotline.notices import plugin as notices_plugin
from hotline.plans import Plans
from hotline.recordings import plugin as recordings_plugin
from hotline.reports import plugin as reports_plugin
from hotline.schema import bring_up_to_date
from hotline.speech import plugin as speech_plugin
from hotline.supervision import plugin as supervision_plugin
from hotline.ticketing import plugin as ticketing_plugin
from hotline.transfers import plugin as transfers_plugin
from hotline.trunks import plugin as trunks_plugin
from hotline.trunks.acl import BANS_FILE
from hotline.workspace import plugin as workspace_plugin

log = logging.getLogger(__name__)
API_TITLE = "hotline 12345 API"


class Controller:
    def __init__(
        self, settings: Settings, adapters: Adapters | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings, self.clock = settings, clock
        plans = Plans.of(settings)
        # The working folder holds the database, attachments and recordings' metadata: owner only.
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.home.chmod(0o700)
        adapters = adapters or Adapters.of(settings)
        self.ami, self.redis, self.web_redis, self.engine = (
            adapters.ami,
            adapters.redis,
            adapters.web_redis,
            adapters.engine,
        )
        self.live = LiveState(self.redis)
        self.outbox = LiveOutbox(self.live)
        self.hub = EventHub(self.web_redis)
        self.users = Users(self.engine)
        self.zone = plans.policy.timezone
        self.deps = deps = Deps(
            settings, self.ami, self.redis, self.engine, self.live, self.outbox, self.hub, self.users, clock
        )

        def is_agent(account: str) -> bool:  # the seats are set up above the ACD they feed
            return agents.roster.is_agent(account)

        lines = {mapped.number: mapped.line for mapped in plans.mapped_numbers}
        tracker = CallTracker(is_agent, clock, line_of=lambda exten: lines.get(exten, exten))
        self.calls = LiveCalls(tracker, self.live, self.outbox)
        self.speech = speech_plugin.setup(deps)
        self.acd = acd_plugin.setup(
            deps,
            plans.acd,
            is_agent,
            lambda offer: ivr.callbacks.call_back(offer),  # a callback's place came up: it rings
            lambda account, state: agents.fallback.agent_changed(account, state),
        )
        dispatcher, transcripts = self.acd.dispatcher, self.speech.transcripts
        self.ticketing = ticketing_plugin.setup(deps, plans.policy, plans.keywords)
        desk = self.ticketing.desk
        trunks = trunks_plugin.setup(
            deps,
            plans.trunks,
            plans.dialling,
            lambda out, banned: render_system(settings, out, [BANS_FILE], banned=banned),
        )
        outbound = trunks.outbound
        self.recordings = recordings_plugin.setup(deps, self.zone, desk, self.speech.call_words)
        supervision = supervision_plugin.setup(deps, self.calls.get, dispatcher)
        self.reports = reports_plugin.setup(
            deps, self.zone, {line.number for line in plans.lines}, lambda: self.calls.calls
        )
        workspace = workspace_plugin.setup(deps, dispatcher, desk, outbound, transcripts, is_agent)
        ivr = ivr_plugin.setup(
            deps,
            plans.menu,
            plans.keywords,
            dispatcher,
            desk,
            outbound,
            transcripts,
            workspace.screen_pops.start,
            self.calls,
        )
        transfers = transfers_plugin.setup(
            deps, self.calls, is_agent, outbound, ivr.services.handbacks, dispatcher, desk
        )
        agents = agents_plugin.setup(
            deps,
            dispatcher,
            functools.partial(render_system, settings),
            plans.seed_skills,
            {line.number for line in plans.lines} | set(settings.supervisors),
        )
        self.agents = agents
        intake = intake_plugin.setup(deps, desk, self.recordings.shelf, transcripts, plans.imap, self.zone)
        #: Set up in this order; started in it, stopped in the reverse.
        self.plugins: list[Plugin] = [
            self.speech.plugin,
            self.acd.plugin,
            self.ticketing.plugin,
            trunks.plugin,
            self.recordings.plugin,
            supervision.plugin,
            self.reports.plugin,
            workspace.plugin,
            ivr.plugin,
            transfers.plugin,
            agents.plugin,
            notices_plugin.setup(deps, desk, self.recordings.shelf, plans.night_digest_at, self.zone),
            intake.plugin,
        ]
        self.fastagi = FastAgiServer(
            settings.bind_host,
            settings.fastagi_port,
            key=settings.agi_key,
            permit=settings.agi_permit,
            on_refused=functools.partial(self._refused, "security.agi_refused"),
            command_timeout=settings.agi_command_timeout,
        )
        for plugin in self.plugins:
            for script, handler in plugin.agi:
                self.fastagi.route(script, handler)
            for event_name, listener in plugin.ami:
                self.ami.subscribe(event_name, listener)
            for event_type, heard in plugin.published:
                self.outbox.listen(event_type, heard)
        for event_name in CALL_EVENTS:  # the call table last, once every capability has heard the event
            self.ami.subscribe(event_name, self.calls.hear)
        self.ami.on_connect(self._reconcile)
        self._tasks: list[asyncio.Task[None]] = []

    def install(self, app: web.Application) -> None:
        """The one route registry: every capability's routes under one authentication, error shape and
        OpenAPI description, and the services its routes read."""
        for plugin in self.plugins:
            if plugin.app_keys is not None:
                plugin.app_keys(app)
        routes = [route for plugin in self.plugins for route in plugin.routes]
        add_routes(app, self.users, routes, API_TITLE, self.zone)

    async def start(self) -> None:
        """Fails at once when Redis or the database is unreachable; waits for Asterisk in the background."""
        await self.live.ping()
        await ping(self.engine)
        await bring_up_to_date(self.engine)
        for plugin in self.plugins:
            for step in plugin.start:
                await step()
        await self.calls.remember()
        await listen_or_fail(self.fastagi.start(), "FastAGI", self.settings.fastagi_port)
        for server in (server for plugin in self.plugins for server in plugin.servers):
            await listen_or_fail(server.start(), server.what, server.port)
        self.outbox.start()
        self._tasks.append(asyncio.create_task(self.ami.keep_connecting(), name="ami-connect"))
        for plugin in self.plugins:
            for work in plugin.rounds:
                self._tasks.append(
                    asyncio.create_task(every(work.seconds, work.work, work.what), name=work.what)
                )
            for name, task in plugin.tasks:
                self._tasks.append(asyncio.create_task(task(), name=name))

    async def close(self) -> None:
        """Calls first (each open one goes to the dialplan's fallback), then what they publish is written,
        then the connections. Each step is bounded, so a stop always ends (``kernel.runtime.stopping``)."""
        backwards = list(reversed(self.plugins))
        for step, work in (
            ("open calls", self.fastagi.close),
            *(step for plugin in backwards for step in plugin.stop),
            ("background tasks", functools.partial(cancelled, *self._tasks)),
            ("AMI", self.ami.close),
            ("events still queued", self.outbox.flush),
            *(step for plugin in backwards for step in plugin.finish),
            ("the outbox", self.outbox.close),
            ("event streams", self.hub.close),
            ("Redis", self.redis.aclose),
            ("Redis for the web", self.web_redis.aclose),
            ("database", self.engine.dispose),
        ):
            await bounded(step, work())

    async def health(self) -> dict[str, bool]:
        return await health(self.deps)

    def _refused(self, kind: str, refusal: Refusal) -> None:
        """A FastAGI refusal (folded per peer and window) for supervisors, in order."""
        self.outbox.announce({"type": kind, **dataclasses.asdict(refusal)})

    async def _reconcile(self) -> None:
        """After every AMI login: the calls rebuilt from what Asterisk has now, then each one's catch-up
        (one that fails is logged; the others still run)."""
        channels = await self.calls.reconcile(self.ami, self.clock)
        calls = len(self.calls.calls)
        for step in (step for plugin in self.plugins for step in plugin.reconcile):
            try:
                await step(channels)
            except Exception:
                log.exception("reconcile: a capability's catch-up failed")
        await self.outbox.publish({"type": "controller.reconciled", "calls": calls, "at": time.time()})
        log.info("reconciled with asterisk", extra={"calls": calls})
