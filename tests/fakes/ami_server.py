"""A fake Asterisk Manager for the faults real Asterisk cannot be made to show.

It can split every write into tiny chunks (cutting UTF-8 characters), stop
answering while keeping the socket open (half-open), ignore chosen actions,
or drop the connection as soon as a chosen action arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

Frame = dict[str, str]


def frame(**headers: str) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode("utf-8")


@dataclass
class FakeAmi:
    secret: str = "s3cret"
    chunk: int = 0  # >0: write replies this many bytes at a time
    login_delay: float = 0.0
    ignore: set[str] = field(default_factory=set)  # actions never answered
    drop_on: set[str] = field(default_factory=set)  # actions that make the server hang up
    silent: bool = False  # stop answering anything, keep the socket open
    list_events: dict[str, list[Frame]] = field(default_factory=dict)
    received: list[Frame] = field(default_factory=list)
    connections: int = 0
    on_login: Callable[[asyncio.StreamWriter], None] | None = None
    headers: dict[str, Frame] = field(default_factory=dict)  # more headers in an action's plain reply

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._writers: list[asyncio.StreamWriter] = []
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    def kick(self) -> None:
        """Close every connection from the server side."""
        for writer in self._writers:
            writer.close()

    def actions(self, name: str) -> list[Frame]:
        return [f for f in self.received if f.get("Action", "").lower() == name.lower()]

    async def send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if not self.chunk:
            writer.write(data)
        else:
            for i in range(0, len(data), self.chunk):
                writer.write(data[i : i + self.chunk])
                await writer.drain()
                await asyncio.sleep(0)
        await writer.drain()

    async def push_event(self, **headers: str) -> None:
        for writer in self._writers:
            if not writer.is_closing():
                await self.send(writer, frame(**headers))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                headers: Frame = {}
                for line in raw.decode().strip().split("\r\n"):
                    key, _, value = line.partition(": ")
                    headers[key] = value
                self.received.append(headers)
                await self._answer(headers, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, headers: Frame, writer: asyncio.StreamWriter) -> None:
        action = headers.get("Action", "")
        action_id = headers.get("ActionID", "")
        if action in self.drop_on:
            writer.close()
            return
        if self.silent or action in self.ignore:
            return
        if action == "Login":
            await asyncio.sleep(self.login_delay)
            if headers.get("Secret") != self.secret:
                await self.send(
                    writer, frame(Response="Error", ActionID=action_id, Message="Authentication failed")
                )
                return
            await self.send(
                writer, frame(Response="Success", ActionID=action_id, Message="Authentication accepted")
            )
            if self.on_login:
                self.on_login(writer)
            return
        if action in self.list_events:
            await self.send(
                writer,
                frame(Response="Success", ActionID=action_id, EventList="start", Message="will follow"),
            )
            for event in self.list_events[action]:
                await self.send(writer, frame(**event, ActionID=action_id))
            await self.send(
                writer, frame(Event=f"{action}Complete", ActionID=action_id, EventList="Complete")
            )
            return
        if action == "Originate":
            await self.send(
                writer, frame(Response="Success", ActionID=action_id, Message="Originate successfully queued")
            )
            await self.send(
                writer,
                frame(Event="OriginateResponse", ActionID=action_id, Response="Success", Uniqueid="1.1"),
            )
            return
        more = self.headers.get(action, {})
        await self.send(writer, frame(Response="Success", ActionID=action_id, Ping="Pong", **more))
