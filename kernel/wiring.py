"""What the composition root hands every capability, and what each hands back.

A capability's ``plugin.setup`` builds its parts from ``Deps`` (and the services of
the capabilities below it, named as arguments) and returns a ``Plugin``: its
routes and the app keys they read, the AMI events it hears by name, the events
it hears as they are published, its FastAGI scripts, its listeners, rounds and
background tasks, its steps at start, at each AMI login and at stop. The root
only keeps the order of things (wazo-calld's ``plugin.py`` is the example).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.routes import Route
from hotline.kernel.api.users import Users
from hotline.kernel.asterisk.ami import AmiClient, EventListener, Message
from hotline.kernel.asterisk.fastagi import AgiHandler
from hotline.kernel.runtime.config import Settings
from hotline.kernel.runtime.db import ping
from hotline.kernel.runtime.live import LiveState
from hotline.kernel.runtime.outbox import Listener, LiveOutbox

Step = Callable[[], Awaitable[object]]
#: Runs after each AMI login with the channels Asterisk listed (``CoreShowChannels``).
Reconcile = Callable[[Sequence[Message]], Awaitable[object]]


@dataclasses.dataclass(frozen=True)
class Deps:
    """The core every capability may use: settings, the outside world, the live state and its outbox."""

    settings: Settings
    ami: AmiClient
    redis: Redis
    engine: AsyncEngine
    live: LiveState
    outbox: LiveOutbox
    hub: EventHub
    users: Users
    clock: Callable[[], float]


@dataclasses.dataclass(frozen=True)
class Round:
    seconds: float
    work: Step
    what: str


@dataclasses.dataclass(frozen=True)
class Server:
    """A listener that must bind at start, or the start fails naming its port."""

    what: str
    port: int
    start: Step


@dataclasses.dataclass
class Plugin:
    """What one capability hands the root; every part is optional."""

    name: str
    routes: Sequence[Route] = ()
    #: Puts the services its routes read on the web application (its own ``AppKey``s).
    app_keys: Callable[[web.Application], None] | None = None
    #: AMI events heard by name, in the order given (``("Hangup", listener)``).
    ami: Sequence[tuple[str, EventListener]] = ()
    #: Events heard in the process as they are published, by type (``outbox.EVERY_EVENT``: all).
    published: Sequence[tuple[str, Listener]] = ()
    #: FastAGI scripts (``agi://host/ivr``) and their handlers.
    agi: Sequence[tuple[str, AgiHandler]] = ()
    start: Sequence[Step] = ()
    servers: Sequence[Server] = ()
    rounds: Sequence[Round] = ()
    #: Long-running loops, started after the start steps and cancelled at stop.
    tasks: Sequence[tuple[str, Step]] = ()
    reconcile: Sequence[Reconcile] = ()
    #: Steps of a stop, each bounded, before the background tasks end; in the capability's own order.
    stop: Sequence[tuple[str, Step]] = ()
    #: Steps once the background tasks have ended and the outbox is written (the last records).
    finish: Sequence[tuple[str, Step]] = ()


async def health(deps: Deps) -> dict[str, bool]:
    """Whether AMI, Redis and the database answer now, each within two seconds."""
    checks = {"ami": False, "redis": False, "database": False}
    with contextlib.suppress(Exception):
        if deps.ami.connected:
            checks["ami"] = (await deps.ami.action("Ping", timeout=2, idempotent=True)).ok
    with contextlib.suppress(Exception):
        checks["redis"] = await asyncio.wait_for(deps.live.ping(), 2)
    with contextlib.suppress(Exception):
        checks["database"] = await asyncio.wait_for(ping(deps.engine), 2)
    return checks
