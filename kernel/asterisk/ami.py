"""Asterisk Manager Interface client, hardened against panoramisk's defects.

panoramisk supplies the message model (``panoramisk.message.Message``: header
parsing, case-insensitive access). The session is ours, because its Manager
(shared/LAB-NOTES.md) decodes each TCP chunk on its own and drops Chinese
characters split across reads, returns from ``connect()`` before the login is
accepted, has no per-action timeout and no Ping watchdog, re-sends unanswered
actions after a reconnect (an Originate can happen twice), leaves actions whose
event list was cut by a disconnect unresolved forever, and returns single and
multi-event replies in different shapes.

Here: frames are cut on bytes and decoded whole; ``connect()`` returns after
"Authentication accepted" or raises; every action has a timeout; a Ping
watchdog drops a half-open socket; reconnects back off with jitter; an action
cut by a disconnect fails with :class:`AmiDisconnected` and is retried only if
the caller said it is idempotent; every reply is an :class:`AmiReply`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from panoramisk.message import Message

from hotline.kernel.runtime.backoff import backoff_delays

log = logging.getLogger(__name__)

FRAME_END = b"\r\n\r\n"
CHANNEL_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=[^,]*")
#: ``Setvar`` names its variable alone (the value has its own header); ``__`` makes it inherited.
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BANNER_PREFIX = b"Asterisk Call Manager/"
MAX_FRAME_BYTES = 1 << 20

HeaderValue = str | int | list[str]
EventListener = Callable[[Message], None]
ConnectListener = Callable[[], Awaitable[None]]


class AmiError(Exception):
    """Base of every AMI failure."""


class AmiUnavailable(AmiError):
    """Asterisk could not be reached, or did not speak AMI."""


class AmiLoginFailed(AmiError):
    """Asterisk refused the credentials."""


class AmiTimeout(AmiError):
    """No complete reply within the action's timeout."""


class AmiDisconnected(AmiError):
    """The connection was lost after the action was sent; it was not re-sent."""


class AmiActionFailed(AmiError):
    """Asterisk answered ``Response: Error``."""

    def __init__(self, action: str, reply: AmiReply) -> None:
        super().__init__(f"{action}: {reply.response.get('Message', 'error')}")
        self.reply = reply


@dataclass
class AmiReply:
    """The response to one action and, for list actions, the events it listed."""

    response: Message
    events: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return str(self.response.get("Response", "")).lower() in ("success", "follows", "goodbye")

    @property
    def message(self) -> str:
        return str(self.response.get("Message", ""))


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[AmiReply]
    response: Message | None = None
    events: list[Message] = field(default_factory=list)


def encode_action(name: str, action_id: str, headers: Mapping[str, HeaderValue]) -> bytes:
    """Serialise one action; refuses values that would inject extra headers."""
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in headers.items():
        for item in value if isinstance(value, list) else [value]:
            text = str(item)
            if "\r" in text or "\n" in text or "\r" in key or "\n" in key:
                raise ValueError(f"AMI header {key!r} contains a line break")
            form = VARIABLE_NAME if name == "Setvar" else CHANNEL_VARIABLE
            if key.lower() == "variable" and not form.fullmatch(text):
                # Asterisk splits a Variable header at commas: one would set a second variable.
                raise ValueError(f"AMI Variable {text[:40]!r} is not NAME=value without commas")
            lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def decode_frame(frame: bytes) -> Message | None:
    """A whole frame is decoded at once, so no UTF-8 character is ever split."""
    return Message.from_line(frame.decode("utf-8", errors="replace").strip())


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 3.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        name: str = "ami",
    ) -> None:
        self.host, self.port = host, port
        self._credentials = (username, secret)
        self.action_timeout = action_timeout
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.name = name
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._event_waiters: dict[str, asyncio.Future[Message]] = {}
        self._event_listeners: list[EventListener] = []
        self._subscriptions: dict[str, list[EventListener]] = {}
        self._connect_listeners: list[ConnectListener] = []
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._closing = False
        self.connections = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def on_event(self, listener: EventListener) -> None:
        """Listeners run in arrival order, synchronously, for every event."""
        self._event_listeners.append(listener)

    def subscribe(self, event_name: str, listener: EventListener) -> None:
        """``listener`` runs for each event named ``event_name`` (``Hangup``, ``UserEvent``…), synchronously,
        after the listeners of every event and before those that subscribed to the name later."""
        self._subscriptions.setdefault(event_name, []).append(listener)

    def on_connect(self, listener: ConnectListener) -> None:
        """Runs after every successful login, the first and each reconnect."""
        self._connect_listeners.append(listener)

    async def connect(self) -> None:
        """Connect and log in; returns only once Asterisk accepted the login."""
        self._closing = False
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{self.name}-supervisor")

    async def keep_connecting(self) -> None:
        """``connect`` until Asterisk accepts the login, backing off; a refused login is logged loudly."""
        for delay in backoff_delays(0.2, 5.0):
            try:
                await self.connect()
                return
            except AmiLoginFailed as exc:
                log.error("AMI login refused, check HOTLINE_AMI_SECRET: %s", exc)
            except AmiError as exc:
                log.warning("waiting for asterisk: %s", exc)
            await asyncio.sleep(delay)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        self._drop("client closed")
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    async def action(
        self,
        name: str,
        headers: Mapping[str, HeaderValue] | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        check: bool = True,
    ) -> AmiReply:
        """Send one action and wait for its whole reply.

        An action that was sent and then cut by a disconnect is retried once
        after the reconnect only when ``idempotent`` (a read, a Ping); otherwise
        it raises :class:`AmiDisconnected` and the caller decides.
        """
        timeout = self.action_timeout if timeout is None else timeout
        attempts = 2 if idempotent else 1
        for attempt in range(attempts):
            try:
                reply = await self._send(name, dict(headers or {}), timeout)
            except AmiDisconnected:
                if attempt + 1 == attempts:
                    raise
                continue
            if check and not reply.ok:
                raise AmiActionFailed(name, reply)
            return reply
        raise AssertionError("unreachable")

    async def uptime(self) -> int | None:
        """Seconds since Asterisk started (``core show uptime seconds``); None if it does not say."""
        reply = await self.action("Command", {"Command": "core show uptime seconds"}, idempotent=True)
        output = reply.response.get("Output", "")
        text = "\n".join(output) if isinstance(output, list) else str(output)
        found = re.search(r"System uptime:\s*(\d+)", text)
        return int(found.group(1)) if found else None

    async def originate(self, headers: Mapping[str, HeaderValue], *, timeout: float = 60.0) -> Message:
        """Originate asynchronously and wait for its ``OriginateResponse`` event.

        Never re-sent after a disconnect: a second Originate would ring twice.
        """
        action_id = self._next_id()
        waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._event_waiters[action_id] = waiter
        try:
            reply = await self._send(
                "Originate", {**headers, "Async": "true"}, self.action_timeout, action_id
            )
            if not reply.ok:
                raise AmiActionFailed("Originate", reply)
            async with asyncio.timeout(timeout):
                return await waiter
        except TimeoutError:
            raise AmiTimeout(f"Originate: no OriginateResponse within {timeout}s") from None
        finally:
            self._event_waiters.pop(action_id, None)

    # -- connection -------------------------------------------------------

    def _next_id(self) -> str:
        return f"{self.name}-{next(self._ids)}"

    async def _open(self) -> None:
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_FRAME_BYTES)
                banner = await reader.readline()
        except (OSError, TimeoutError) as exc:
            raise AmiUnavailable(f"AMI {self.host}:{self.port} unreachable: {exc}") from exc
        if not banner.startswith(BANNER_PREFIX):
            writer.close()
            raise AmiUnavailable(f"AMI {self.host}:{self.port} did not greet as Asterisk: {banner[:60]!r}")
        self._writer = writer
        self._lost.clear()
        self._reader_task = asyncio.create_task(self._read_loop(reader, writer), name=f"{self.name}-reader")
        try:
            reply = await self._send_now(
                "Login",
                {"Username": self._credentials[0], "Secret": self._credentials[1], "Events": "on"},
                self.connect_timeout,
            )
        except (AmiTimeout, AmiDisconnected) as exc:
            self._drop("login not answered")
            raise AmiUnavailable(f"AMI {self.host}:{self.port}: login not answered ({exc})") from exc
        if not reply.ok:
            self._drop("login refused")
            raise AmiLoginFailed(f"AMI {self.host}:{self.port}: {reply.message or 'login refused'}")
        self.connections += 1
        self._connected.set()
        log.info("ami connected", extra={"ami": self.name, "port": self.port})
        for listener in self._connect_listeners:
            try:
                await listener()
            except Exception:
                log.exception("ami on_connect listener failed")

    async def _supervise(self) -> None:
        """Ping while healthy; reconnect with backoff once the session is lost."""
        while not self._closing:
            try:
                async with asyncio.timeout(self.ping_interval):
                    await self._lost.wait()
            except TimeoutError:
                try:
                    await self._send_now("Ping", {}, self.ping_timeout)
                except (AmiTimeout, AmiDisconnected):
                    log.warning("ami ping unanswered: dropping the connection", extra={"ami": self.name})
                    self._drop("ping unanswered")
                continue
            for delay in backoff_delays(self.backoff_initial, self.backoff_max):
                if self._closing:
                    return
                await asyncio.sleep(delay)
                try:
                    await self._open()
                    break
                except (AmiUnavailable, AmiLoginFailed) as exc:
                    log.warning("ami reconnect failed: %s", exc, extra={"ami": self.name})

    def _drop(self, reason: str) -> None:
        """End the session: fail every in-flight action, never re-send it."""
        self._connected.clear()
        self._lost.set()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(AmiDisconnected(f"{item.action}: connection lost ({reason})"))
        waiters, self._event_waiters = self._event_waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_exception(AmiDisconnected(f"connection lost ({reason})"))

    async def _read_loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                frame = await reader.readuntil(FRAME_END)
                message = decode_frame(frame)
                if message is not None:
                    self._dispatch(message)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            if self._writer is writer:
                self._drop("connection closed by peer")

    def _dispatch(self, message: Message) -> None:
        action_id = message.get("ActionID") or ""
        pending = self._pending.get(action_id)
        if pending is not None:
            list_marker = str(message.get("EventList", "")).lower()
            if "Response" in message:
                pending.response = message
                if list_marker != "start":
                    self._complete(action_id, pending)
            elif list_marker == "complete":
                self._complete(action_id, pending)
            else:
                pending.events.append(message)
            return
        waiter = self._event_waiters.get(action_id)
        if waiter is not None and not waiter.done() and "Event" in message:
            waiter.set_result(message)
        if "Event" in message:
            named = self._subscriptions.get(str(message["Event"]), ())
            for listener in (*self._event_listeners, *named):
                try:
                    listener(message)
                except Exception:
                    log.exception("ami event listener failed on %s", message.get("Event"))

    def _complete(self, action_id: str, pending: _Pending) -> None:
        del self._pending[action_id]
        assert pending.response is not None
        if not pending.future.done():
            pending.future.set_result(AmiReply(pending.response, pending.events))

    async def _send(
        self, name: str, headers: dict[str, HeaderValue], timeout: float, action_id: str = ""
    ) -> AmiReply:
        """Wait (within the timeout) for a session, then send on it."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise AmiTimeout(f"{name}: not connected to AMI within {timeout}s") from None
        return await self._send_now(name, headers, timeout, action_id)

    async def _send_now(
        self, name: str, headers: Mapping[str, HeaderValue], timeout: float, action_id: str = ""
    ) -> AmiReply:
        writer = self._writer
        if writer is None:
            raise AmiDisconnected(f"{name}: not connected")
        action_id = action_id or self._next_id()
        data = encode_action(name, action_id, headers)
        future: asyncio.Future[AmiReply] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future)
        try:
            writer.write(data)
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise AmiTimeout(f"{name}: no complete reply within {timeout}s") from None
        finally:
            self._pending.pop(action_id, None)
