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
from redis.asyncio import Redis

from agents.board import AgentBoard
from hotline.ami import AmiClient, AmiError, AmiLoginFailed, backoff_delays
from hotline.calls import CallTracker
from hotline.config import ConfigError, Settings
from hotline.db import create_engine, migrate, ping
from hotline.fastagi import AgiSession, FastAgiServer
from hotline.live import LiveState
from hotline.users import Users
from ivr.flows import IvrServices, answer_hotline
from ticketing.attachments import AttachmentStore
from ticketing.policy import PolicyError, load_policy
from ticketing.service import TicketDesk

log = logging.getLogger(__name__)


class Controller:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.ami = AmiClient(
            settings.bind_host,
            settings.ami_port,
            settings.ami_user,
            settings.ami_secret,
            action_timeout=settings.ami_action_timeout,
            name="sut",
        )
        self.redis = Redis.from_url(settings.effective_redis_url)
        self.live = LiveState(self.redis)
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
        self.board = AgentBoard(settings.agents, clock)
        self.tracker = CallTracker(is_agent=lambda account: account in self.board.phones, clock=clock)
        self.fastagi = FastAgiServer(
            settings.bind_host, settings.fastagi_port, command_timeout=settings.agi_command_timeout
        )
        self.ivr = IvrServices(
            board=self.board,
            publish=self.publish,
            recordings_dir=settings.recordings_dir,
            prompts_dir=settings.prompts_dir,
        )
        self.fastagi.route("ivr", self._answer_hotline)
        self.ami.on_event(self._on_ami_event)
        self.ami.on_connect(self._reconcile)
        self._outbox: asyncio.Queue[Callable[[], Awaitable[object]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Fails at once when Redis or the database is unreachable; waits for Asterisk in the background."""
        await self.live.ping()
        await ping(self.engine)
        await migrate(self.engine)
        await self.desk.start()
        await self.fastagi.start()
        self._tasks.append(asyncio.create_task(self._drain_outbox(), name="outbox"))
        self._tasks.append(asyncio.create_task(self._keep_connecting(), name="ami-connect"))
        self._tasks.append(asyncio.create_task(self._sweep_tickets(), name="ticket-sweep"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.fastagi.close()
        await self.ami.close()
        await self.redis.aclose()
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

    # -- Asterisk in ---------------------------------------------------------

    async def _answer_hotline(self, session: AgiSession) -> None:
        await answer_hotline(session, self.ivr)

    def _on_ami_event(self, event: Message) -> None:
        if event.get("Event") == "DeviceStateChange":
            self.board.apply_device_state(event)
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

    async def _reconcile(self) -> None:
        """After every AMI login: rebuild calls and phones from what Asterisk has now."""
        channels = await self.ami.action("CoreShowChannels", idempotent=True)
        for call_event in self.tracker.reconcile(channels.events):
            self._queue_call_event(call_event)
        snapshot = {call_id: call.summary() for call_id, call in self.tracker.calls.items()}
        self._outbox.put_nowait(functools.partial(self.live.replace_calls, snapshot))
        devices = await self.ami.action("DeviceStateList", idempotent=True)
        for device in devices.events:
            self.board.apply_device_state(device)
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
