"""FastAGI server: Asterisk's ``AGI(agi://host:port/script?k=v,arg...)`` to async handlers.

A small server of our own rather than panoramisk's, whose header loop spins
forever on a bare connect-and-close (freezing the event loop), lets Asterisk's
asynchronous ``HANGUP`` line shift every later reply by one, has no command
timeout, and fails on plain functions. Here the header read is bounded in
time, size and line count and stops at end of file; ``HANGUP`` lines are taken
out of the reply stream; every command has a timeout; handlers must be
coroutine functions, checked when they are routed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from hotline.kernel.asterisk.refusals import RefusalReports, Tell

log = logging.getLogger(__name__)

MAX_HEADER_LINES = 200
MAX_LINE_BYTES = 8192
RESULT_RE = re.compile(r"result=(?P<result>\S*)\s*(?:\((?P<data>[^)]*)\))?\s*(?P<rest>.*)")
EXTRA_RE = re.compile(r"(\w+)=(\S+)")
#: The dialplan global that holds the deployment's key. The server asks the channel for it: in the AGI URL
#: it would be written to Asterisk's log with every ``AGI()`` the dialplan runs.
KEY_VARIABLE = "HOTLINE_AGI_KEY"
#: What a key may hold: it must come back whole in ``200 result=1 (value)``.
KEY_CHARACTERS = re.compile(r"[A-Za-z0-9._~+/=-]+")


class AgiError(Exception):
    """An AGI command failed."""


class AgiTimeout(AgiError):
    """Asterisk did not answer a command in time."""


class AgiHangup(AgiError):
    """The channel is gone; commands are no longer permitted."""


class AgiCommandError(AgiError):
    """Asterisk rejected the command (510 invalid, 520 usage)."""


@dataclass(frozen=True)
class AgiResult:
    code: int
    result: str = ""
    data: str = ""
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def value(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0

    @property
    def digit(self) -> str:
        """The key pressed, for commands that return an ASCII code ("" if none)."""
        return chr(self.value) if self.value > 0 else ""


def parse_result(line: str) -> AgiResult:
    code_text, _, rest = line.partition(" ")
    if not (code_text[:3].isascii() and code_text[:3].isdigit()):
        raise AgiError(f"unexpected AGI reply {line!r}")
    code = int(code_text[:3])
    match = RESULT_RE.match(rest)
    if code != 200 or match is None:
        return AgiResult(code, data=rest)
    return AgiResult(
        code,
        result=match["result"],
        data=match["data"] or "",
        extras=dict(EXTRA_RE.findall(match["rest"])),
    )


def quote(argument: str | int) -> str:
    """AGI arguments go in double quotes, with quotes and backslashes escaped."""
    text = str(argument)
    if "\n" in text or "\r" in text:
        raise ValueError("AGI arguments cannot contain line breaks")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiSession:
    """One channel's AGI conversation."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: dict[str, str],
        command_timeout: float,
    ) -> None:
        self._reader, self._writer = reader, writer
        self.env = env
        self.command_timeout = command_timeout
        self.hung_up = False
        url = urlsplit("agi://x/" + env.get("agi_network_script", "").lstrip("/"))
        self.script = url.path.strip("/")
        self.params = dict(parse_qsl(url.query))
        self.args = [env[key] for key in sorted(k for k in env if k.startswith("agi_arg_"))]

    @property
    def unique_id(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def caller_number(self) -> str:
        return self.env.get("agi_callerid", "")

    @property
    def caller_name(self) -> str:
        return self.env.get("agi_calleridname", "")

    async def command(self, text: str, timeout: float | None = None) -> AgiResult:
        """Send one command and read its own reply, skipping async HANGUP lines.

        ``timeout=None`` uses the session default; a long Dial passes its own.
        """
        self._writer.write((text + "\n").encode("utf-8"))
        try:
            async with asyncio.timeout(self.command_timeout if timeout is None else timeout):
                await self._writer.drain()
                result = await self._read_reply()
        except TimeoutError:
            raise AgiTimeout(f"no reply to {text.split()[0]!r}") from None
        if result.code == 511:
            self.hung_up = True
            raise AgiHangup(text.split()[0])
        if result.code in (510, 520):
            raise AgiCommandError(f"{text!r}: {result.data}")
        return result

    async def _read_reply(self) -> AgiResult:
        while True:
            raw = await self._reader.readline()
            if not raw:
                self.hung_up = True
                raise AgiHangup("connection closed by Asterisk")
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            if line == "HANGUP":
                self.hung_up = True
                continue
            if line.startswith("520-"):
                await self._skip_usage()
                return AgiResult(520, data=line[4:])
            return parse_result(line)

    async def _skip_usage(self) -> None:
        while True:
            raw = await self._reader.readline()
            if not raw or raw.startswith(b"520 "):
                return

    # -- the commands the call flows use ---------------------------------------

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def stream_file(self, path: str, escape_digits: str = "") -> str:
        """Play a sound (path without extension); returns the key that cut it short."""
        result = await self.command(f"STREAM FILE {quote(path)} {quote(escape_digits)}")
        return result.digit

    async def music(self, on: bool) -> None:
        """Music on hold while the caller waits between commands."""
        await self.command(f"SET MUSIC {'on' if on else 'off'}")

    async def wait_for_digit(self, timeout_ms: int) -> str:
        result = await self.command(f"WAIT FOR DIGIT {timeout_ms}", timeout=timeout_ms / 1000 + 5)
        return result.digit

    async def record_file(
        self,
        path: str,
        *,
        fmt: str = "wav",
        escape_digits: str = "#",
        max_ms: int = 60000,
        silence_s: int = 0,
        beep: bool = True,
    ) -> AgiResult:
        """Record the caller to ``path.fmt``; ends on a key, on silence or at ``max_ms``. ``beep``: Asterisk
        beeps first (a caller who played the beep themselves knows when recording begins)."""
        command = f"RECORD FILE {quote(path)} {fmt} {quote(escape_digits)} {max_ms}" + (
            " BEEP" if beep else ""
        )
        if silence_s:
            command += f" s={silence_s}"
        return await self.command(command, timeout=max_ms / 1000 + 10)

    async def exec(self, application: str, argument: str = "", timeout: float | None = None) -> AgiResult:
        return await self.command(f"EXEC {application} {quote(argument)}", timeout=timeout)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {quote(name)} {quote(value)}")

    async def get_variable(self, name: str) -> str:
        result = await self.command(f"GET VARIABLE {quote(name)}")
        return result.data if result.value == 1 else ""


AgiHandler = Callable[[AgiSession], Awaitable[None]]


async def read_environment(reader: asyncio.StreamReader) -> dict[str, str]:
    """Read ``agi_*`` headers up to the blank line; refuses anything else.

    End of file raises at once (a bare connect-and-close), instead of looping.
    """
    env: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if not raw:
            raise EOFError("connection closed before the AGI environment ended")
        if not raw.endswith(b"\n") or len(raw) > MAX_LINE_BYTES:
            raise ValueError("AGI header line too long")
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            if "agi_network_script" not in env and "agi_request" not in env:
                raise ValueError("not an AGI request")
            return env
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_"):
            raise ValueError(f"not an AGI header: {line[:40]!r}")
        env[key] = value.strip()
    raise ValueError("too many AGI header lines")


class FastAgiServer:
    """Serves only the configured Asterisk addresses, and only channels that know the deployment's key.

    Anyone who could reach the port could otherwise sign agents in or out, queue
    fake callers and ask for callbacks: refusals are security events, handed to
    ``on_refused`` and logged, folded per peer (``kernel/asterisk/refusals.py``).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        key: str,
        permit: Iterable[str],
        on_refused: Tell | None = None,
        header_timeout: float = 5.0,
        command_timeout: float = 60.0,
        max_sessions: int = 2000,
    ) -> None:
        if not key:
            raise ValueError("FastAGI needs a key: without one anyone who reaches the port drives calls")
        if not KEY_CHARACTERS.fullmatch(key):
            raise ValueError("the FastAGI key may hold letters, digits and ._~+/=- only")
        self.host, self.port = host, port
        self.key = key
        self.permit = frozenset(permit)
        self.refusals = RefusalReports("fastagi", on_refused)
        self.header_timeout = header_timeout
        self.command_timeout = command_timeout
        self.max_sessions = max_sessions
        self._routes: dict[str, AgiHandler] = {}
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._closing = False

    def route(self, script: str, handler: AgiHandler) -> None:
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"FastAGI handler for {script!r} must be an async function")
        self._routes[script.strip("/")] = handler

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_LINE_BYTES)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and end every open session: Asterisk then carries on with the dialplan
        after ``AGI()``, whose fallback answers the caller. One line says how many were handed over."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._closing = True
        open_sessions = list(self._sessions)
        for task in open_sessions:
            task.cancel()
        await asyncio.gather(*open_sessions, return_exceptions=True)
        self.refusals.close()
        if open_sessions:
            log.info("fastagi: stopping; handed %d open calls to the dialplan's fallback", len(open_sessions))

    async def _knows_the_key(self, session: AgiSession) -> bool:
        """Asks the channel for the key: only the deployment's Asterisk has it (a dialplan global)."""
        try:
            answer = await session.command(f"GET VARIABLE {KEY_VARIABLE}", timeout=self.header_timeout)
        except (AgiError, ConnectionError):
            return False
        offered = answer.data if answer.value == 1 else ""
        return hmac.compare_digest(offered.encode(), self.key.encode())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        peer = str((writer.get_extra_info("peername") or ("?",))[0])
        try:
            if peer not in self.permit:
                self.refusals.refused(peer, "address not permitted")
                return
            if len(self._sessions) > self.max_sessions:
                self.refusals.refused(peer, f"more than {self.max_sessions} sessions open")
                return
            try:
                async with asyncio.timeout(self.header_timeout):
                    env = await read_environment(reader)
            except (TimeoutError, EOFError, ValueError, ConnectionError, asyncio.LimitOverrunError) as exc:
                log.debug("fastagi: dropped a connection that is not an AGI request: %s", exc)
                return
            session = AgiSession(reader, writer, env, self.command_timeout)
            if not await self._knows_the_key(session):
                self.refusals.refused(peer, "missing or wrong key")
                return
            handler = self._routes.get(session.script)
            if handler is None:
                log.warning("fastagi: no route for script %r", session.script)
                return
            try:
                await handler(session)
            except asyncio.CancelledError:
                if not self._closing:
                    raise
            except AgiHangup:
                log.info("fastagi: caller hung up", extra={"call_id": session.unique_id})
            except Exception:
                log.exception(
                    "fastagi: handler %r failed", session.script, extra={"call_id": session.unique_id}
                )
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
