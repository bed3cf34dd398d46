"""Asterisk's own word on its state: channels, queue members and callers, registered phones, endpoints.

Read through pyst2's AMI client (``asterisk.manager``), which no one here wrote, so hotline's AmiClient is
never the judge of its own work. pyst2 is synchronous and runs threads of its own: each question is one
short session in a worker thread (``asyncio.to_thread``), logged off and closed whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from dataclasses import dataclass

from asterisk.manager import Event, Manager, ManagerException

from hotline.lab.settings import LabSettings

#: How long a listing may take to arrive in full.
LIST_SECONDS = 15.0
EOL = "\r\n"

Frame = dict[str, str]


@dataclass(frozen=True)
class AsteriskState:
    """One Asterisk's manager interface, as the lab's settings give it."""

    host: str
    port: int
    user: str
    secret: str

    @classmethod
    def of_system(cls, settings: LabSettings) -> AsteriskState:
        """The system's Asterisk (the one hotline drives)."""
        return cls(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)

    @classmethod
    def of_pstn(cls, settings: LabSettings) -> AsteriskState:
        """The lab's second Asterisk, which plays the carriers, the callers and the phones."""
        return cls(settings.bind_host, settings.pstn_ami_port, "lab", settings.pstn_ami_secret)

    async def channels(self) -> list[Frame]:
        """Every channel up now (CoreShowChannel)."""
        return await self.listing("CoreShowChannels")

    async def queue(self, name: str) -> list[Frame]:
        """The queue as app_queue sees it: its members (QueueMember: Location, Paused…) and its waiting
        callers (QueueEntry: CallerIDNum, Position…)."""
        return await self.listing("QueueStatus", Queue=name)

    async def contacts(self) -> list[Frame]:
        """Every registered contact (ContactList: ObjectName ``<aor>;@<hash>``, Endpoint, Uri, Status…)."""
        return await self.listing("PJSIPShowContacts")

    async def registered(self, aor: str) -> bool:
        """Whether a phone (or a trunk) has a contact registered on this address of record."""
        return any(c.get("ObjectName", "").split(";@")[0] == aor for c in await self.contacts())

    async def endpoint(self, name: str) -> list[Frame] | None:
        """The endpoint's details, or None when Asterisk has no such endpoint."""
        try:
            return await self.listing("PJSIPShowEndpoint", Endpoint=name)
        except LookupError:
            return None

    async def listing(self, action: str, **headers: str) -> list[Frame]:
        """The events an action lists; LookupError when Asterisk refuses the action."""
        return await asyncio.to_thread(self._listing, action, headers)

    def _listing(self, action: str, headers: dict[str, str]) -> list[Frame]:
        action_id = f"lab-check-{secrets.token_hex(6)}"
        listed: list[Frame] = []
        complete = threading.Event()

        def collect(event: Event, _: Manager) -> None:
            if event.get_header("ActionID") != action_id:
                return
            if event.get_header("EventList") == "Complete":
                complete.set()
            else:
                listed.append(dict(event.headers))

        manager = Manager()
        try:
            manager.connect(self.host, self.port)
            manager.login(self.user, self.secret)
            manager.register_event("*", collect)
            reply = manager.send_action({"Action": action, "ActionID": action_id, **headers})
            if reply.get_header("Response") != "Success":
                raise LookupError(f"{action}: {reply.get_header('Message')}")
            if reply.get_header("EventList") != "start":
                return []
            merged = _frames(reply.response)[1:]
            if merged:
                # pyst2 reads a reply that says "status will follow" (QueueStatus's) up to its
                # StatusComplete event as one message: the listed events are then in its lines.
                return [f for f in merged if f.get("EventList") != "Complete"]
            if not complete.wait(LIST_SECONDS):
                raise TimeoutError(f"{action}: the listing did not complete in {LIST_SECONDS} s")
            return listed
        finally:
            with contextlib.suppress(ManagerException, OSError, ValueError):  # the connection already gone
                manager.close()


def _frames(lines: list[str]) -> list[Frame]:
    """The AMI frames in a message's raw lines, one per block of headers."""
    frames: list[Frame] = [{}]
    for line in lines:
        if line == EOL:
            if frames[-1]:
                frames.append({})
        elif ":" in line:
            name, value = line.split(":", 1)
            frames[-1][name.strip()] = value.strip()
    return [f for f in frames if f]
