"""The consult's chart is what transfers/control.py does: every change Asterisk's events, in random order,
make is a row, every row happens, and every event told on the way is as the catalogue describes it."""

from __future__ import annotations

import asyncio
import contextlib
import random
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.kernel.api.errors import ApiError
from hotline.transfers.chart import CHART, GOING, NONE, REFUSED, ConsultState, Purpose, allows
from hotline.transfers.targets import LinkageMode, Target, TransferMode
from tests.unit.transfers.floor import (
    AGENT,
    AGENT_1001,
    CALL_ID,
    DEPARTMENT,
    JOINED,
    LOCAL,
    event,
    handback_dialled,
    new_floor,
    phone_keys,
    run,
)

#: The department as the next trunk reaches it, after the first could not carry the consult.
DEPARTMENT_AGAIN = "PJSIP/carrier-00000009"
ACTIONS = (
    "transfer",
    "conference",
    "emergency",
    "hand_back",
    "phone_hand_back",
    "cancel",
    "leave",
    "dial_begin",
    "trunk_failed",
    "dial_end",
    "abort_keys",
    "joined",
    "transferred",
    "hangup_agent",
    "hangup_department",
    "hangup_local",
    "call_gone",
)
Change = tuple[ConsultState, str, ConsultState, Purpose]


class Walk:
    """One bridged call; the agent asks at random, and Asterisk answers as it could at that point."""

    def __init__(self) -> None:
        self.control, self.ami, self.events, self.calls, self.handbacks = new_floor()
        self.department = DEPARTMENT

    def consult(self) -> dict | None:
        return self.control.view(self.calls[CALL_ID])["consult"]

    async def step(self, action: str, pick: random.Random) -> list[Change]:
        """The changes one action makes: each state told on the stream, or the consult gone without one."""
        consult, told = self.consult(), len(self.events)
        state = before = ConsultState(consult["state"]) if consult else NONE
        trigger = await self._act(action, pick, consult)
        new = self.events[told:]  # each checked against the catalogue as it was published (floor.py)
        states = [ConsultState(e["state"]) for e in new if e["type"] in ("call.transfer", "call.conference")]
        purpose = Purpose(consult["purpose"] if consult else new[0]["mode"] if states else "blind")
        changes = []
        for after in states:
            changes.append((state, trigger, after, purpose))
            state = after
        now = self.consult()
        after = ConsultState(now["state"]) if now else NONE
        if states:
            left = before if state == REFUSED else state if state in GOING else NONE
            assert after == left, "an end is told once, then the consult is gone; a refusal changes nothing"
        elif after != state:
            changes.append((state, trigger, after, purpose))
        return changes

    async def _act(self, action: str, pick: random.Random, consult: dict | None) -> str:
        control, state = self.control, consult["state"] if consult else "none"
        local = LOCAL.replace("12315", consult["to"]) if consult else ""
        with contextlib.suppress(ApiError):
            if action == "transfer":
                number = pick.choice(("12315", "110"))
                await control.transfer(
                    CALL_ID, Target(number=number), pick.choice(list(TransferMode)), AGENT_1001
                )
            elif action == "conference":
                await control.conference(CALL_ID, Target(number="12315"), AGENT_1001)
            elif action == "emergency":
                await control.emergency(CALL_ID, "110", pick.choice(list(LinkageMode)), AGENT_1001)
            elif action == "hand_back":
                target = Target.parse(pick.choice(("agent:1002", "agent:1003", "skill:12333")))
                with self.handbacks.talking(CALL_ID):
                    await control.transfer(CALL_ID, target, TransferMode.BLIND, AGENT_1001)
            elif action == "phone_hand_back":
                with self.handbacks.talking(CALL_ID):
                    await run(control.hear(handback_dialled(pick.choice(("1001", "1002", "1003", "12333")))))
            elif action == "cancel":
                await control.cancel(CALL_ID, AGENT_1001)
            elif action == "leave":
                await control.leave(CALL_ID, AGENT_1001)
        if action in ("transfer", "conference", "emergency"):
            return "asked"
        if action in ("hand_back", "phone_hand_back", "cancel", "leave"):
            return "handed_back" if "hand_back" in action else action
        if action == "dial_begin" and state in ("none", "dialling"):
            if state == "none":  # the agent's phone dialled *8 and the number
                local = LOCAL.replace("12315", pick.choice(("12315", "110")))
            self.department = DEPARTMENT
            await run(control.hear(event("DialBegin", local, DestChannel=DEPARTMENT)))
            return "dial_begin" if consult else "dialled_from_phone"
        if action == "trunk_failed" and state == "ringing":
            await run(
                control.hear(event("DialEnd", local, DialStatus=pick.choice(("CHANUNAVAIL", "CONGESTION"))))
            )
            self.department = DEPARTMENT_AGAIN
            await run(control.hear(event("DialBegin", local, DestChannel=DEPARTMENT_AGAIN)))
            return "trunk_failed"
        if action == "dial_end" and state == "ringing":
            status = pick.choice(("ANSWER", "ANSWER", "BUSY", "NOANSWER", "CANCEL"))
            await run(control.hear(event("DialEnd", local, DialStatus=status)))
            return "dial_answered" if status == "ANSWER" else "dial_failed"
        if action == "abort_keys" and consult:
            for key in phone_keys("*1"):
                await run(control.hear(key))
            return "abort_keys"
        if action == "joined" and state == "answered" and consult["purpose"] != "blind":
            await run(control.hear(JOINED))
            return "joined"
        if action == "transferred" and state in ("ringing", "answered") and consult["purpose"] == "attended":
            await run(control.hear({**JOINED, "DestType": "Bridge"}))
            return "transferred"
        if action == "hangup_agent" and consult:
            await run(control.hear(event("Hangup", AGENT)))
            return "agent_hung_up"
        if action == "hangup_department" and state in ("ringing", "answered", "joined"):
            await run(control.hear(event("Hangup", self.department)))
            return "department_hung_up"
        if action == "hangup_local" and state in ("ringing", "answered"):
            await run(control.hear(event("Hangup", local)))
            return "local_hung_up"
        if action == "call_gone" and consult:
            control.forget([])
            return "call_gone"
        return "nothing"


async def no_gap(_: float) -> None:
    """The keys *3 are sent without the gap a phone's feature codes need."""


def walk(seed: int, steps: int) -> list[Change]:
    async def go() -> list[Change]:
        pick, floor, changes = random.Random(seed), Walk(), []
        for _ in range(steps):
            changes += await floor.step(pick.choice(ACTIONS), pick)
        return changes

    with patch("hotline.transfers.control.asyncio.sleep", no_gap):
        return asyncio.run(go())


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_change_a_consult_makes_is_a_row_of_the_chart(seed: int) -> None:
    for before, trigger, after, purpose in walk(seed, 100):
        assert allows(before, trigger, after, purpose), (
            f"{purpose} {before} --{trigger}--> {after} is not in transfers/chart.py"
        )


def test_every_row_of_the_chart_happens() -> None:
    seen = set(walk(seed=12345, steps=20_000))
    for row in CHART:
        assert any(
            (before, row.trigger, row.after, purpose) in seen
            for before in row.before
            for purpose in row.purposes
        ), f"never seen: {row}"
