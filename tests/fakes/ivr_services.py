"""What the IVR's flow runs on, with the real ACD engine and dispatcher: every other service records."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import Changes, Engine, Offer, Settings
from hotline.ivr.flows import IvrServices
from hotline.ivr.menu import load_menu
from hotline.ticketing.vocabulary import Satisfaction
from hotline.trunks.dialling import DiallingPlan, OutboundGuard


class FakeStore:
    def __init__(self) -> None:
        self.writes: list[Changes] = []

    async def write(self, changes: Changes) -> bool:
        self.writes.append(changes)
        return True

    async def load(self, settings: Settings) -> Engine:
        return Engine(settings)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Heard:
    """Speech-to-text of one description, as the flow drives it."""

    centre: Centre
    call_id: str

    def begins(self) -> None:
        self.centre.transcribing.append((self.call_id, "begins"))

    def recorded(self, recording: str) -> None:
        self.centre.transcribing.append((self.call_id, recording))

    def abandoned(self) -> None:
        self.centre.transcribing.append((self.call_id, "abandoned"))


class Centre:
    """The real engine and dispatcher with agents; records what was published and called back."""

    def __init__(self, *ready: str, logged_in: tuple[str, ...] = (), calls_today: int = 1) -> None:
        self.clock = Clock()
        self.events: list[dict] = []
        self.callbacks: list[Offer] = []
        engine = Engine(Settings(wrap_up_seconds=5))
        for account in ("1001", "1002"):
            engine.add_agent(account, {"12345": 5})
        self.dispatcher = Dispatcher(engine, FakeStore(), self._publish, self.clock, self._call_back)
        self.engine = engine
        for account in ready:
            engine.login(account, 0)
            engine.ready(account, 0)
        for account in logged_in:
            engine.login(account, 0)
        self.calls_today = calls_today
        self.open = True
        self.transcribing: list[tuple[str, str]] = []  # (call id, what became of the description)
        self.ratings: list[tuple[str, Satisfaction, str]] = []

    async def _publish(self, event: dict) -> None:
        self.events.append(event)

    async def _call_back(self, offer: Offer) -> None:
        self.callbacks.append(offer)

    async def _count(self, about: dict) -> int:
        return self.calls_today

    async def _pop(self, offer: Offer, about: dict) -> None:
        self.events.append({"type": "agent.screen_pop", "agent": offer.account, **about})

    async def _listen(self, call_id: str, channel: str) -> Heard:
        self.transcribing.append((call_id, channel))
        return Heard(self, call_id)

    async def _rate(self, call_id: str, rating: Satisfaction, agent: str) -> None:
        self.ratings.append((call_id, rating, agent))

    def services(self, menu: str = "keyed") -> IvrServices:
        return IvrServices(
            dispatcher=self.dispatcher,
            menu=load_menu(menu),
            publish=self._publish,
            screen_pop=self._pop,
            recordings_dir="/rec",
            prompts_dir="/p",
            count_call=self._count,
            is_open=lambda: self.open,
            outbound=OutboundGuard(DiallingPlan(), self._publish),
            clock=self.clock,
            listen=self._listen,  # type: ignore[arg-type]
            rate_call=self._rate,
        )

    def kinds(self) -> list[str]:
        return [e["type"] for e in self.events]
