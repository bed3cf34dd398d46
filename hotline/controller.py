"""The controller process: Asterisk's AMI and FastAGI in, live state and events out.

Dependencies are built here once and handed down. AMI events are applied by
one writer (this event loop) to the call tracker and the agent board; the
resulting writes to Redis go through one ordered outbox, so the stream and the
live-call table never disagree about order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from panoramisk.message import Message
from redis.asyncio import BlockingConnectionPool, Redis

from acd.dispatch import Dispatcher
from acd.engine import Engine, Offer, Strategy
from acd.engine import Settings as AcdSettings
from acd.phones import phone_news
from acd.state_store import AcdStateStore
from agents.directory import AgentDirectory, AgentRecord
from agents.phone import run_feature_code
from agents.profiles import AgentProfile
from agents.provisioning import Provisioner
from agents.roster import Roster
from agents.screen_pop import ScreenPops
from agents.skills import SkillSpecError, parse_agent_skills
from hotline.ami import AmiClient, AmiError, AmiLoginFailed, backoff_delays
from hotline.asterisk_conf import sip_digest
from hotline.calls import CallTracker, account_of
from hotline.config import ConfigError, Settings, listen_or_fail
from hotline.db import create_engine, migrate, ping
from hotline.fastagi import AgiSession, FastAgiServer
from hotline.hub import EventHub
from hotline.live import LiveState
from hotline.users import Users
from ivr.flows import IvrServices, answer_hotline
from ivr.menu import MenuError, load_menu
from ticketing.attachments import AttachmentStore
from ticketing.policy import PolicyError, load_policy
from ticketing.service import TicketDesk
from trunks.dialling import DiallingPlan, DiallingPlanError, OutboundGuard
from trunks.numbers import parse_lines

log = logging.getLogger(__name__)
#: The event hub's one reader, plus replays (``?since=``) waiting their turn for the rest.
WEB_REDIS_CONNECTIONS = 4


class Controller:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        # The working folder holds the database, attachments and recordings' metadata: owner only.
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.home.chmod(0o700)
        self.ami = AmiClient(
            settings.bind_host,
            settings.ami_port,
            settings.ami_user,
            settings.ami_secret,
            action_timeout=settings.ami_action_timeout,
            name="sut",
        )
        # The call path (IVR, ACD, AMI, state saving) and web clients draw on separate connection
        # pools: no number of open websockets can take a connection a caller needs.
        self.redis = Redis.from_url(settings.effective_redis_url)
        self.live = LiveState(self.redis)
        self.web_redis = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                settings.effective_redis_url, max_connections=WEB_REDIS_CONNECTIONS, timeout=10
            )
        )
        self.hub = EventHub(self.web_redis)
        self.engine = create_engine(settings.effective_database_url)
        try:
            policy = load_policy(settings.ticket_policy)
        except PolicyError as exc:
            raise ConfigError(f"HOTLINE_TICKET_POLICY: {exc}") from None
        self.desk = TicketDesk(
            self.engine,
            policy,
            attachments=AttachmentStore(settings.home / "attachments", settings.attachment_max_mb * 2**20),
        )
        self.users = Users(self.engine)
        try:
            seed_skills = parse_agent_skills(settings.agent_skills, settings.agents)
            dialling = DiallingPlan.of(settings.outbound_area_codes, settings.outbound_numbers)
            menu = load_menu(settings.ivr_menu)
            acd_settings = AcdSettings(Strategy(settings.acd_strategy), settings.wrap_up_seconds)
        except SkillSpecError as exc:
            raise ConfigError(f"HOTLINE_AGENT_SKILLS: {exc}") from None
        except MenuError as exc:
            raise ConfigError(f"HOTLINE_IVR_MENU: {exc}") from None
        except DiallingPlanError as exc:
            raise ConfigError(f"HOTLINE_OUTBOUND_AREA_CODES / HOTLINE_OUTBOUND_NUMBERS: {exc}") from None
        except ValueError:
            names = ", ".join(s.value for s in Strategy)
            raise ConfigError(f"HOTLINE_ACD_STRATEGY must be one of {names}") from None
        self.clock = clock
        self.dispatcher = Dispatcher(
            Engine(acd_settings), AcdStateStore(self.redis), self.publish, clock, self._call_back
        )
        self.provisioner = Provisioner(settings, self.ami)
        self.roster = Roster(
            AgentDirectory(self.engine),
            self.provisioner.provision,
            self.dispatcher,
            reserved={line.number for line in parse_lines(settings.lines)} | set(settings.supervisors),
        )
        # The settings' agents seed the agent table on first start; after that the table rules.
        self._seeds = [
            AgentRecord(
                AgentProfile(account, "", levels), sip_digest(account, settings.password_for(account))
            )
            for account, levels in seed_skills.items()
        ]
        self.tracker = CallTracker(is_agent=self.roster.is_agent, clock=clock)
        self.fastagi = FastAgiServer(
            settings.bind_host,
            settings.fastagi_port,
            key=settings.agi_key,
            permit=settings.agi_permit,
            on_refused=self._agi_refused,
            command_timeout=settings.agi_command_timeout,
        )
        self.outbound = OutboundGuard(dialling, self.publish)
        self.screen_pops = ScreenPops(self.desk, self.live.caller_calls, self.publish_to_agent)
        self.ivr = IvrServices(
            dispatcher=self.dispatcher,
            menu=menu,
            publish=self.publish,
            screen_pop=self.screen_pops.start,
            recordings_dir=settings.recordings_dir,
            prompts_dir=settings.prompts_dir,
            count_call=self._count_call,
            is_open=self._answering_now,
            ring_seconds=settings.ring_seconds,
            poll_ms=settings.queue_poll_ms,
            clock=clock,
            stop_prompt=self._stop_prompt,
            outbound=self.outbound,
        )
        self.fastagi.route("ivr", self._answer_hotline)
        self.fastagi.route("agent", self._feature_code)
        self._acd_events: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self.ami.on_event(self._on_ami_event)
        self.ami.on_connect(self._reconcile)
        self._outbox: asyncio.Queue[Callable[[], Awaitable[object]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.agi_refusals = 0

    async def start(self) -> None:
        """Fails at once when Redis or the database is unreachable; waits for Asterisk in the background."""
        await self.live.ping()
        await ping(self.engine)
        await migrate(self.engine)
        await self.desk.start()
        await self.roster.start(self._seeds)
        await self.dispatcher.restore(self.roster.active_skills())
        # Calls that end while no controller runs still get their hang-up event, at the first reconcile.
        self.tracker.remember(await self.live.calls())
        await listen_or_fail(self.fastagi.start(), "FastAGI", self.settings.fastagi_port)
        self._tasks.append(asyncio.create_task(self._run_acd(), name="acd"))
        self._tasks.append(asyncio.create_task(self._drain_outbox(), name="outbox"))
        self._tasks.append(asyncio.create_task(self._keep_connecting(), name="ami-connect"))
        self._tasks.append(asyncio.create_task(self._sweep_tickets(), name="ticket-sweep"))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.screen_pops.close()
        await self.fastagi.close()
        await self.dispatcher.close()
        await self.ami.close()
        await self.hub.close()
        await self.redis.aclose()
        await self.web_redis.aclose()
        await self.engine.dispose()

    async def health(self) -> dict[str, bool]:
        checks = {"ami": False, "redis": False, "database": False}
        with contextlib.suppress(Exception):
            if self.ami.connected:
                checks["ami"] = (await self.ami.action("Ping", timeout=2, idempotent=True)).ok
        with contextlib.suppress(Exception):
            checks["redis"] = await asyncio.wait_for(self.live.ping(), 2)
        with contextlib.suppress(Exception):
            checks["database"] = await asyncio.wait_for(ping(self.engine), 2)
        return checks

    async def publish(self, event: dict[str, object]) -> None:
        """Queue an event behind everything already queued."""
        self._outbox.put_nowait(functools.partial(self.live.publish, event))

    async def publish_to_agent(self, account: str, event: dict[str, object]) -> None:
        """Queue an event for one agent's socket only (a screen pop carries the caller's history)."""
        self._outbox.put_nowait(functools.partial(self.live.publish_to_agent, account, event))

    # -- Asterisk in ---------------------------------------------------------

    def _agi_refused(self, peer: str, why: str) -> None:
        self.agi_refusals += 1
        refused = {"type": "security.agi_refused", "peer": peer, "reason": why}
        self._outbox.put_nowait(functools.partial(self.live.publish, {**refused, "count": self.agi_refusals}))

    async def _answer_hotline(self, session: AgiSession) -> None:
        await answer_hotline(session, self.ivr)

    async def _feature_code(self, session: AgiSession) -> None:
        await run_feature_code(session, self.dispatcher, self.settings.prompts_dir, self.publish)

    def _on_ami_event(self, event: Message) -> None:
        if event.get("UserEvent") == "HotlineOutboundRefused":  # the dialplan's own check refused a number
            number = str(event.get("Number", ""))
            self._outbox.put_nowait(
                functools.partial(self.outbound.report, number, "refused by the dialplan", where="dialplan")
            )
            return
        self._feed_acd(event)
        for call_event in self.tracker.handle(event):
            self._queue_call_event(call_event)

    def _queue_call_event(self, call_event: dict[str, object]) -> None:
        call_id = str(call_event["call_id"])
        call = self.tracker.calls.get(call_id)
        if call is None:
            self._outbox.put_nowait(functools.partial(self.live.remove_call, call_id))
        else:
            self._outbox.put_nowait(functools.partial(self.live.put_call, call_id, call.summary()))
        self._outbox.put_nowait(functools.partial(self.live.publish, call_event))

    # -- the ACD ---------------------------------------------------------------

    def _feed_acd(self, event: Message) -> None:
        """Phone states and answers from AMI, applied in order by ``_run_acd``."""
        news = phone_news(event, self.roster.is_agent)
        if news is not None:
            self._acd_events.put_nowait(functools.partial(self.dispatcher.hear, news))

    async def _run_acd(self) -> None:
        """Apply AMI's news to the ACD in arrival order, and let time pass (wrap-ups, overflow)."""
        while True:
            try:
                async with asyncio.timeout(1.0):
                    change = await self._acd_events.get()
                await change()
            except TimeoutError:
                await self.dispatcher.tick()
            except Exception:
                log.exception("ACD step failed; carrying on")

    async def _call_back(self, offer: Offer) -> None:
        """A callback's place came up: ring the agent, and when they answer, dial the caller (漏接回拨)."""
        about = {"call_id": offer.call_id, "caller_number": offer.callback_number, "line": "callback"}
        if not await self.outbound.allow(offer.callback_number, where="callback", call_id=offer.call_id):
            await self.dispatcher.caller_gone(offer.call_id)  # the agent turns ready again
            return
        await self.publish({"type": "acd.callback_dialing", **about, "agent": offer.account})
        await self.screen_pops.start(offer, about)
        try:
            result = await self.ami.originate(
                {
                    "Channel": f"PJSIP/{offer.account}",
                    "Context": "hotline-callback",
                    "Exten": offer.callback_number,
                    "Priority": "1",
                    "CallerID": f'"回拨 {offer.callback_number}" <{offer.callback_number}>',
                    "Timeout": str(self.settings.ring_seconds * 1000),
                    "Variable": [f"HOTLINE_CALLBACK_OF={offer.call_id}"],
                },
                timeout=self.settings.ring_seconds + 10,
            )
            answered = result.get("Response") == "Success"
        except AmiError as exc:
            log.warning("callback %s to %s failed: %s", offer.call_id, offer.account, exc)
            answered = False
        if answered:
            await self.dispatcher.phone_answered(offer.account)
        else:
            await self.dispatcher.finish_offer(offer, answered=False)
        await self.publish(
            {
                "type": "acd.callback_answered" if answered else "acd.not_answered",
                **about,
                "agent": offer.account,
            }
        )

    async def _stop_prompt(self, channel: str) -> None:
        try:
            await self.ami.action("ControlPlayback", {"Channel": channel, "Control": "stop"}, check=False)
        except AmiError as exc:  # the prompt plays to its end; the ring waits that long
            log.warning("could not cut the prompt on %s: %s", channel, exc)

    async def _count_call(self, about: dict[str, object]) -> int:
        number = str(about.get("caller_number", ""))
        if not number:
            return 1
        today = self.desk.clock().astimezone(self.desk.policy.timezone)
        entry = {"call_id": about["call_id"], "line": about["line"], "at": today.isoformat()}
        return await self.live.note_caller_call(number, entry, today.date().isoformat())

    def _answering_now(self) -> bool:
        policy = self.desk.policy
        return policy.answering_hours.open_at(
            self.desk.clock().astimezone(policy.timezone), self.desk.calendar
        )

    async def _reconcile(self) -> None:
        """After every AMI login: rebuild calls and phones from what Asterisk has now."""
        await self.provisioner.catch_up()
        channels = await self.ami.action("CoreShowChannels", idempotent=True)
        for call_event in self.tracker.reconcile(channels.events):
            self._queue_call_event(call_event)
        snapshot = {call_id: call.summary() for call_id, call in self.tracker.calls.items()}
        self._outbox.put_nowait(functools.partial(self.live.replace_calls, snapshot))
        on_calls = {account_of(str(c.get("Channel", ""))) for c in channels.events}
        await self.dispatcher.step(lambda engine, now: engine.phones_on_calls(on_calls, now))
        devices = await self.ami.action("DeviceStateList", idempotent=True)
        for device in devices.events:
            self._feed_acd(device)
        await self.publish({"type": "controller.reconciled", "calls": len(snapshot), "at": time.time()})
        log.info("reconciled with asterisk", extra={"calls": len(snapshot)})

    async def _keep_connecting(self) -> None:
        for delay in backoff_delays(0.2, 5.0):
            try:
                await self.ami.connect()
                return
            except AmiLoginFailed as exc:
                log.error("AMI login refused, check HOTLINE_AMI_SECRET: %s", exc)
            except AmiError as exc:
                log.warning("waiting for asterisk: %s", exc)
            await asyncio.sleep(delay)

    async def _sweep_tickets(self) -> None:
        while True:
            try:
                for action in await self.desk.sweep():
                    log.info("ticket %s: %s (%s)", action.number, action.command, action.reason)
            except Exception:
                log.exception("ticket sweep failed; trying again next round")
            await asyncio.sleep(self.settings.ticket_sweep_seconds)

    async def _drain_outbox(self) -> None:
        while True:
            write = await self._outbox.get()
            for delay in backoff_delays(0.1, 2.0):
                try:
                    await write()
                    break
                except Exception as exc:
                    log.warning("redis write failed, retrying: %s", exc)
                    await asyncio.sleep(delay)
