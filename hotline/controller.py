"""The controller process: wiring and loops. Asterisk's AMI and FastAGI in, live state and events out.

Every capability is built here once from the settings and handed what it
needs; what a call does lives in the capabilities (``ivr``, ``acd``,
``agents``, ``ticketing``, ``trunks``). AMI events are applied by one writer
(this event loop) to the call tracker and the ACD; the resulting writes to
Redis go through one ordered outbox, so the stream and the live-call table
never disagree about order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from panoramisk.message import Message

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AgentState, Engine
from hotline.acd.phones import phone_news
from hotline.acd.state_store import AcdStateStore
from hotline.adapters import Adapters
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.fallback_queue import FallbackQueue
from hotline.agents.profiles import AgentProfile
from hotline.agents.provisioning import Provisioner
from hotline.agents.roster import Roster
from hotline.asterisk_system import render_system
from hotline.ivr.callbacks import Callbacks
from hotline.ivr.callers import CallerDay
from hotline.ivr.flows import IvrServices, answer_hotline
from hotline.ivr.handback import Handback
from hotline.ivr.voicemail import VoicemailBox
from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.users import Users
from hotline.kernel.asterisk.ami import AmiError, AmiLoginFailed
from hotline.kernel.asterisk.audiosocket import AudioSocketServer, ChannelTaps
from hotline.kernel.asterisk.channels import GONE_WHILE_AWAY, CallTracker, account_of
from hotline.kernel.asterisk.conf import sip_digest
from hotline.kernel.asterisk.fastagi import AgiSession, FastAgiServer
from hotline.kernel.asterisk.refusals import Refusal
from hotline.kernel.runtime.backoff import backoff_delays
from hotline.kernel.runtime.config import Settings, listen_or_fail
from hotline.kernel.runtime.db import ping
from hotline.kernel.runtime.events import UncataloguedEvent
from hotline.kernel.runtime.live import LiveState
from hotline.kernel.runtime.rounds import every
from hotline.kernel.runtime.stopping import bounded
from hotline.notices.files import NoticeFiles
from hotline.notices.outbox import Outbox
from hotline.notices.rules import Medium
from hotline.notices.senders import FindFile, MailSender, Sender, SmsGateway
from hotline.notices.service import Digest, Notices
from hotline.plans import Plans
from hotline.recordings.shelf import RecordingShelf
from hotline.reports.book import RecordBook
from hotline.reports.store import RecordStore
from hotline.schema import bring_up_to_date
from hotline.speech.transcripts import Transcripts
from hotline.speech.workers import VoskWorkers
from hotline.supervision.log import MonitorLog
from hotline.supervision.messages import Messenger
from hotline.supervision.monitors import Monitors
from hotline.ticketing.attachments import AttachmentStore
from hotline.ticketing.guesses import emergency_in
from hotline.ticketing.imap_box import ImapMailbox
from hotline.ticketing.mail_reader import MailReader
from hotline.ticketing.mailbox import citizens_mailbox
from hotline.ticketing.service import UNCLASSIFIED_CATEGORY, TicketDesk
from hotline.ticketing.store import TicketFilter
from hotline.ticketing.workflow import MAILBOX_CHANNELS, Ticket
from hotline.transfers.control import CallControl
from hotline.trunks.acl import BANS_FILE
from hotline.trunks.dialling import OutboundGuard
from hotline.trunks.edge import SipEdge
from hotline.trunks.status import TrunkWatch
from hotline.workspace.dial_out import DialOut
from hotline.workspace.phone import run_dial_code, run_feature_code
from hotline.workspace.screen_pop import ScreenPops

log = logging.getLogger(__name__)
#: How often the rounds come: notices follow the tickets within seconds; a voicemail becomes a ticket
#: moments after the caller hangs up; the retention purge has all the time in the world.
NOTICES_SECONDS, VOICEMAIL_SECONDS, RECORDINGS_PURGE_SECONDS = 2.0, 5.0, 3600.0


class Controller:
    def __init__(
        self, settings: Settings, adapters: Adapters | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
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
        self.clock = clock
        self.keywords = plans.keywords
        self.live = LiveState(self.redis)
        self.hub = EventHub(self.web_redis)
        self._outbox: asyncio.Queue[Callable[[], Awaitable[object]]] = asyncio.Queue()
        self._acd_events: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox_task: asyncio.Task[None] | None = None

        # ticketing
        attachments = AttachmentStore(settings.home / "attachments", settings.attachment_max_mb * 2**20)
        self.desk = TicketDesk(self.engine, plans.policy, attachments=attachments, keywords=plans.keywords)
        # recordings: the caller's description as text, for the screen pop (off without a model)
        # its words are heard as they are spoken: Asterisk streams them to our AudioSocket server
        self.audiosocket = AudioSocketServer(
            settings.bind_host,
            settings.audiosocket_port,
            on_refused=functools.partial(self._refused, "security.audiosocket_refused"),
        )
        taps = ChannelTaps(
            self.ami, self.audiosocket, f"{settings.controller_host}:{settings.audiosocket_port}"
        )
        self.transcripts = Transcripts(
            VoskWorkers(Path(settings.stt_model), settings.stt_workers) if settings.stt_model else None,
            settings.host_path,
            self._heard,
            taps.tap,
        )
        # each call's directions written down after it, by workers of their own (none: not at all)
        self.call_words = (
            VoskWorkers(Path(settings.stt_model), settings.stt_call_workers)
            if settings.stt_model and settings.stt_call_workers
            else None
        )
        # recordings: the register, filing each call's files under its day and its ticket
        self.recordings = RecordingShelf(
            self.engine,
            settings.host_path(settings.recordings_dir),
            self.publish,
            zone=plans.policy.timezone,
            tickets_of=self.desk.tickets_of_calls,
            scribe=self.call_words,
            confidential_tickets=self.desk.confidential_tickets,
            confidential_roles=self.desk.confidential_roles,
        )
        self.desk.on_call_linked = self.recordings.file_under
        self.users = Users(self.engine)
        # mail (SMTP and IMAP) is read in a process of its own: a hostile mail cannot stall the event loop
        self.mail_reader = MailReader()
        self.desk.read_mail = self.mail_reader.read
        self.mailbox = citizens_mailbox(settings, self.desk.take_in_email)
        self.imap = (
            ImapMailbox(plans.imap, settings.imap_password, self.desk.take_in_email) if plans.imap else None
        )
        # notices: SMS and email to units and citizens, from the ticket events, through the outbox
        self.notices = Notices(
            Outbox(self.engine),
            self.desk.store.events_after,
            self.desk.store.get,
            self._unit_phones,
            self._notice_senders(settings, NoticeFiles(attachments, self.recordings)),
            settings.on_duty_mailboxes,
            Digest(plans.night_digest_at, plans.policy.timezone, self._night_tickets),
        )
        # acd: a callback's place coming up rings through ivr's callbacks, built below
        self.dispatcher = Dispatcher(
            Engine(plans.acd),
            AcdStateStore(self.redis),
            self.publish,
            clock,
            lambda offer: self.callbacks.call_back(offer),
            watch=lambda account, state: self.fallback.agent_changed(account, state),
        )
        # agents
        self.provisioner = Provisioner(
            functools.partial(render_system, settings),
            settings.host_path(f"{settings.asterisk_instance_dir}/etc"),
            self.ami,
        )
        self.roster = Roster(
            AgentDirectory(self.engine),
            self.provisioner.provision,
            self.dispatcher,
            reserved={line.number for line in plans.lines} | set(settings.supervisors),
        )
        # The settings' agents seed the agent table on first start; after that the table rules.
        self._seeds = [
            AgentRecord(
                AgentProfile(account, "", levels), sip_digest(account, settings.password_for(account))
            )
            for account, levels in plans.seed_skills.items()
        ]
        self.fallback = FallbackQueue(self.ami)
        # voicemails (the flow's and the dialplan fallback's) become tickets with recording and transcript
        self.voicemail = VoicemailBox(
            settings.host_path(settings.voicemail_inbox),
            self.desk,
            self.recordings,
            self._where_unclassified,
            plans.policy.timezone,
            self.transcripts.of_file if self.transcripts.enabled else None,
        )
        self.screen_pops = ScreenPops(
            self.desk,
            self.live.caller_calls,
            self.publish_to_agent,
            self.transcripts.text if self.transcripts.enabled else None,
            self.transcripts.follow if self.transcripts.enabled else None,
        )
        # trunks and ivr
        self.outbound = OutboundGuard(plans.dialling, self.publish)
        self.trunks = TrunkWatch(tuple(trunk.name for trunk in plans.trunks))
        # the SIP edge: a source that guesses passwords is refused by Asterisk's ACL until its ban ends
        self.sip_edge = SipEdge(
            settings,
            [trunk.host for trunk in plans.trunks],
            lambda out, banned: render_system(settings, out, [BANS_FILE], banned=banned),
            self.ami,
            self.publish,
            clock,
        )
        self.callbacks = Callbacks(
            self.ami,
            self.dispatcher,
            self.outbound,
            self.screen_pops.start,
            self.publish,
            settings.ring_seconds,
        )
        self.dial_out = DialOut(
            self.ami, self.dispatcher, self.outbound, self.desk, self.publish, settings.ring_seconds
        )
        caller_day = CallerDay(self.desk, self.live.note_caller_call)
        self.ivr = IvrServices(
            dispatcher=self.dispatcher,
            menu=plans.menu,
            publish=self.publish,
            screen_pop=self.screen_pops.start,
            recordings_dir=settings.recordings_dir,
            prompts_dir=settings.prompts_dir,
            count_call=caller_day.count_call,
            is_open=caller_day.answering_now,
            ring_seconds=settings.ring_seconds,
            poll_ms=settings.queue_poll_ms,
            clock=clock,
            stop_prompt=self._stop_prompt,
            outbound=self.outbound,
            listen=self.transcripts.listen if self.transcripts.enabled else None,
            rate_call=self.desk.rate_call,
        )
        # Asterisk in
        lines = {mapped.number: mapped.line for mapped in plans.mapped_numbers}
        self.tracker = CallTracker(
            is_agent=self.roster.is_agent, clock=clock, line_of=lambda exten: lines.get(exten, exten)
        )
        self.fastagi = FastAgiServer(
            settings.bind_host,
            settings.fastagi_port,
            key=settings.agi_key,
            permit=settings.agi_permit,
            on_refused=functools.partial(self._refused, "security.agi_refused"),
            command_timeout=settings.agi_command_timeout,
        )
        # in-call operations: transfers, three-way calls, the 110 linkage
        self.calls = CallControl(
            self.ami,
            lambda: self.tracker.calls,  # reconcile replaces the table
            self.roster.is_agent,
            self.outbound,
            self.publish,
            self.ivr.handbacks,
            self._reachable,
            self.desk.note_linkage,
            recordings_dir=settings.recordings_dir,
        )
        # supervision
        self.monitors = Monitors(
            self.ami,
            lambda call_id: self.tracker.calls.get(call_id),  # reconcile replaces the table
            settings.supervisors,
            self.publish,
            MonitorLog(self.engine),
        )
        # reports: the call records, from every event the controller publishes
        self.records = RecordBook(
            RecordStore(self.engine, plans.policy.timezone),
            {line.number for line in plans.lines},
            self.publish,
            clock,
        )
        self.messenger = Messenger(
            lambda: {a.account: a.state != AgentState.LOGGED_OUT for a in self.dispatcher.agents()},
            self.publish,
            self.publish_to_agent,
        )
        self.fastagi.route("ivr", self._answer_hotline)
        self.fastagi.route("agent", self._feature_code)
        self.fastagi.route("dial", self._dial_code)
        self.ami.on_event(self._on_ami_event)
        self.ami.on_connect(self._reconcile)

    async def start(self) -> None:
        """Fails at once when Redis or the database is unreachable; waits for Asterisk in the background."""
        await self.live.ping()
        await ping(self.engine)
        await bring_up_to_date(self.engine)
        await self.desk.start()
        # An agent table still empty means no controller ran here: Redis has no ACD state to have lost.
        first_start = not await self.roster.directory.all()
        await self.roster.start(self._seeds)
        await self.dispatcher.restore(self.roster.active_skills(), expect_state=not first_start)
        await self.records.start()
        await self.notices.start(await self.desk.store.last_event_id())
        # Calls that end while no controller runs still get their hang-up event, at the first reconcile.
        self.tracker.remember(await self.live.calls())
        await listen_or_fail(self.fastagi.start(), "FastAGI", self.settings.fastagi_port)
        if self.transcripts.enabled:
            await listen_or_fail(self.audiosocket.start(), "AudioSocket", self.settings.audiosocket_port)
        await listen_or_fail(self.mailbox.start(), "mail (SMTP)", self.settings.smtp_port)
        self._tasks.append(asyncio.create_task(self._run_acd(), name="acd"))
        self._tasks.append(asyncio.create_task(self._keep_connecting(), name="ami-connect"))
        rounds = [
            (self.settings.ticket_sweep_seconds, self._sweep_tickets, "ticket sweep"),
            (NOTICES_SECONDS, self.notices.round, "notices"),
            (VOICEMAIL_SECONDS, self.voicemail.collect, "voicemail box"),
            (RECORDINGS_PURGE_SECONDS, self._purge_recordings, "recordings purge"),
        ]
        if self.imap is not None:
            rounds.append((self.settings.imap_poll_seconds, self.imap.collect, "IMAP mailbox"))
        for seconds, work, what in rounds:
            self._tasks.append(asyncio.create_task(every(seconds, work, what), name=what))
        self._tasks.append(asyncio.create_task(self.fallback.run(), name="fallback-queue"))
        self._tasks.extend(self.sip_edge.start())
        self._tasks.append(asyncio.create_task(self.records.run(), name="call-records"))
        self._tasks.append(asyncio.create_task(self.transcripts.warm(), name="speech-to-text-warm-up"))
        # every channel's intake (and the draft) guesses from the words: the directory taught to jieba now
        self._tasks.append(asyncio.create_task(self.desk.warm_guesses(), name="guesses-warm-up"))
        self._outbox_task = asyncio.create_task(self._drain_outbox(), name="outbox")

    async def close(self) -> None:
        """Calls first (each open one goes to the dialplan's fallback), then what they publish is written,
        then the connections. Each step is bounded, so a stop always ends (``kernel.runtime.stopping``)."""
        for step, work in (
            ("open calls", self.fastagi.close),
            ("mailbox", self.mailbox.close),
            ("callbacks", self.dispatcher.close),
            ("agents' dial-outs ringing", self.dial_out.close),
            ("screen pops", self.screen_pops.close),
            ("speech-to-text", self.transcripts.close),
            ("callers' words streaming in", self.audiosocket.close),
            ("recordings being entered", self.recordings.close),
            ("calls being written down", self._close_call_words),
            ("monitors ringing", self.monitors.close),
            ("background tasks", functools.partial(self._cancel, *self._tasks)),
            ("mail reader", self.mail_reader.close),  # after the IMAP round, the last to read
            ("AMI", self.ami.close),
            ("events still queued", self._flush_outbox),
            ("call records", self.records.write),
            ("the outbox", functools.partial(self._cancel, self._outbox_task)),
            ("event streams", self.hub.close),
            ("Redis", self.redis.aclose),
            ("Redis for the web", self.web_redis.aclose),
            ("database", self.engine.dispose),
        ):
            await bounded(step, work())

    @staticmethod
    async def _cancel(*tasks: asyncio.Task[None] | None) -> None:
        running = [task for task in tasks if task is not None]
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _close_call_words(self) -> None:
        if self.call_words is not None:
            await self.call_words.close()

    async def _flush_outbox(self) -> None:
        """What the calls published on their way out is written before Redis closes."""
        if self._outbox_task is not None and not self._outbox_task.done():
            await self._outbox.join()

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
        """Queue an event behind everything already queued; the call records hear it now."""
        self._outbox.put_nowait(functools.partial(self.live.publish, event))
        self.records.hear(event)

    async def publish_to_agent(self, account: str, event: dict[str, object]) -> None:
        """Queue an event for one agent's socket only (a screen pop carries the caller's history)."""
        self._outbox.put_nowait(functools.partial(self.live.publish_to_agent, account, event))

    # -- Asterisk in ---------------------------------------------------------

    def _refused(self, kind: str, refusal: Refusal) -> None:
        """A FastAGI or AudioSocket refusal (folded per peer and window) for supervisors, in order."""
        self._outbox.put_nowait(functools.partial(self.live.publish, {"type": kind, **asdict(refusal)}))

    async def _answer_hotline(self, session: AgiSession) -> None:
        await answer_hotline(session, self.ivr)

    async def _feature_code(self, session: AgiSession) -> None:
        await run_feature_code(session, self.dispatcher, self.settings.prompts_dir, self.publish)

    async def _dial_code(self, session: AgiSession) -> None:
        await run_dial_code(session, self.dial_out, self.settings.prompts_dir, self.publish)

    def _on_ami_event(self, event: Message) -> None:
        if event.get("UserEvent") == "HotlineOutboundRefused":  # the dialplan's own check refused a number
            number = str(event.get("Number", ""))
            self._outbox.put_nowait(
                functools.partial(self.outbound.report, number, "refused by the dialplan", where="dialplan")
            )
            return
        trunk_news = self.trunks.hear(event)
        if trunk_news is not None:
            self._outbox.put_nowait(functools.partial(self.live.publish, trunk_news))
            return
        self._feed_acd(event)
        for work in self.monitors.hear(event):
            self._outbox.put_nowait(work)
        for work in self.calls.hear(event):
            self._outbox.put_nowait(work)
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
        self.records.hear(call_event)
        if call_event["type"] == "call.hangup":
            self.calls.forget(self.tracker.calls)
            self.recordings.call_ended(call_event)

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

    async def _heard(self, call_id: str, text: str) -> None:
        """A waiting caller's words: emergency words alert the supervisors before any agent answers."""
        emergency = emergency_in(text, self.keywords)
        call = self.tracker.calls.get(call_id)
        if emergency is not None:
            about = {"caller_number": call.caller_number, "line": call.line} if call else {}
            await self.publish(
                {
                    "type": "speech.emergency",
                    "call_id": call_id,
                    **about,
                    "number": emergency.number,
                    "words": list(emergency.words),
                }
            )

    def _reachable(self, handback: Handback) -> bool:
        """Someone signed in can take a caller handed back: the colleague asked for, or the skill's group."""
        if handback.agent:
            agent = self.dispatcher.agent(handback.agent)
            return agent is not None and agent.state != AgentState.LOGGED_OUT
        return self.dispatcher.staffed([handback.skill]) > 0

    async def _stop_prompt(self, channel: str) -> None:
        try:
            await self.ami.action("ControlPlayback", {"Channel": channel, "Control": "stop"}, check=False)
        except AmiError as exc:  # the prompt plays to its end; the ring waits that long
            log.warning("could not cut the prompt on %s: %s", channel, exc)

    async def _reconcile(self) -> None:
        """After every AMI login: rebuild calls and phones from what Asterisk has now."""
        await self.provisioner.catch_up()
        uptime = await self.ami.uptime()
        started = None if uptime is None else self.clock() - uptime
        channels = await self.ami.action("CoreShowChannels", idempotent=True)
        for call_event in self.tracker.reconcile(channels.events, asterisk_started=started):
            self._queue_call_event(call_event)
        self.records.reconciled(set(self.tracker.calls), GONE_WHILE_AWAY)
        self.calls.forget(self.tracker.calls)
        snapshot = {call_id: call.summary() for call_id, call in self.tracker.calls.items()}
        self._outbox.put_nowait(functools.partial(self.live.replace_calls, snapshot))
        on_calls = {account_of(str(c.get("Channel", ""))) for c in channels.events}
        await self.dispatcher.step(lambda engine, now: engine.phones_on_calls(on_calls, now))
        self.fallback.resync(self.dispatcher.agents())
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

    @staticmethod
    def _notice_senders(settings: Settings, files: FindFile) -> dict[Medium, Sender]:
        senders: dict[Medium, Sender] = {}
        if settings.mail_relay:
            senders[Medium.EMAIL] = MailSender(
                settings.mail_relay,
                settings.mail_addresses[0],
                files,
                settings.mail_relay_user,
                settings.mail_relay_password,
            )
        if settings.sms_gateway_url:
            senders[Medium.SMS] = SmsGateway(settings.sms_gateway_url, settings.sms_gateway_secret)
        return senders

    async def _where_unclassified(self) -> tuple[str, str]:
        """Where a message nobody has classified yet waits: topic 其他, the whole city."""
        return UNCLASSIFIED_CATEGORY, await self.desk.directory.root_region()

    async def _night_tickets(self, start: datetime, end: datetime) -> list[Ticket]:
        """The voicemails and emails taken in between ``start`` and ``end``, for the morning digest."""
        found: list[Ticket] = []
        for channel in MAILBOX_CHANNELS:
            where = TicketFilter(channel=channel, accepted_from=start, accepted_to=end, limit=500)
            found += await self.desk.store.list(where)
        return found

    async def _unit_phones(self) -> dict[str, str]:
        return {unit["code"]: unit["phone"] for unit in await self.desk.directory.units()}

    async def _purge_recordings(self) -> None:
        """Recordings past the policy's retention go, unless a ticket holds them."""
        purged = await self.recordings.purge(self.desk.policy.recording_retention, self.desk.held_calls)
        if purged:
            log.info("recordings purged at the end of their retention", extra={"count": len(purged)})

    async def _sweep_tickets(self) -> None:
        for action in await self.desk.sweep():
            log.info("ticket %s: %s (%s)", action.number, action.command, action.reason)

    async def _drain_outbox(self) -> None:
        while True:
            write = await self._outbox.get()
            for delay in backoff_delays(0.1, 2.0):
                try:
                    await write()
                    break
                except UncataloguedEvent:  # a defect, not an outage: retrying would hold up every event
                    log.exception("event not published")
                    break
                except Exception as exc:
                    log.warning("redis write failed, retrying: %s", exc)
                    await asyncio.sleep(delay)
            self._outbox.task_done()
