"""A caller's AGI channel that presses keys on a script, for the IVR's flow without Asterisk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.kernel.asterisk.fastagi import AgiResult


@dataclass
class FakeChannel:
    """An AGI session whose caller presses keys on a script; ``on_wait`` plays the caller while they wait."""

    caller: str = "13800138000"
    line: str = "12345"
    greeting_key: str = ""
    dial_statuses: list[str] = field(default_factory=lambda: ["ANSWER"])
    on_wait: Callable[[int], Awaitable[str]] | None = None
    on_dial: Callable[[str], None] | None = None  # what happens while the agent talks (a transfer asked)
    hung_up: bool = False
    played: list[str] = field(default_factory=list)
    dialled: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    waits: int = 0
    greeting_waits: int = 0  # moments of silence after the greeting, waiting for a key
    survey_key: str = ""  # the key pressed after the survey's question, once the agent hung up
    survey_key_late: bool = False  # pressed after the question ended, not during it
    dialplan: dict[str, str] = field(default_factory=dict)  # variables the dialplan set before the AGI
    on_record: Callable[[], Awaitable[None]] | None = None  # what happens while the caller describes

    @property
    def env(self) -> dict[str, str]:
        return {"agi_extension": self.line, "agi_channel": "PJSIP/carrier-00000001"}

    @property
    def params(self) -> dict[str, str]:
        return {"line": self.line}

    unique_id = "call-1"
    caller_name = "张三"

    @property
    def caller_number(self) -> str:
        return self.caller

    async def get_variable(self, name: str) -> str:
        if name == "DIALSTATUS":
            return self.dial_statuses.pop(0)
        return "call-1" if name == "CHANNEL(linkedid)" else self.dialplan.get(name, "")

    async def answer(self) -> None:
        pass

    async def stream_file(self, path: str, escape_digits: str = "") -> str:
        self.played.append(path.rsplit("/", 1)[-1])
        if path.endswith("/survey"):
            return "" if self.survey_key_late else self.survey_key
        return self.greeting_key if path.endswith("/greeting") else ""

    async def wait_for_digit(self, timeout_ms: int) -> str:
        if self.played[-1] == "survey":
            return self.survey_key
        if "connecting" not in self.played:  # still in the greeting: no key pressed
            self.greeting_waits += 1
            return ""
        self.waits += 1
        if self.waits > 200:
            raise AssertionError("the caller waited forever")
        return await self.on_wait(self.waits) if self.on_wait else ""

    async def record_file(self, path: str, **kwargs: Any) -> AgiResult:
        if self.on_record:
            await self.on_record()
        return AgiResult(200, 35, "dtmf")

    async def exec(self, application: str, argument: str = "", timeout: float | None = None) -> AgiResult:
        if application == "Dial":
            self.dialled.append(argument)
            if self.on_dial:
                self.on_dial(argument)
        return AgiResult(200, 0)

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def music(self, on: bool) -> None:
        pass
