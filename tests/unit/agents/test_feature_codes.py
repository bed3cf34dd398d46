"""Feature codes dialled from an agent's phone, against the real engine and dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from acd.engine import AgentState
from agents.phone import run_feature_code
from tests.unit.ivr.test_flow import Centre, FakeChannel


@dataclass
class AgentPhone(FakeChannel):
    code: str = ""

    @property
    def params(self) -> dict[str, str]:
        return {"code": self.code}

    async def get_variable(self, name: str) -> str:
        return "1001" if name == "CHANNEL(endpoint)" else ""


async def test_star_71_signs_in_and_readies_and_star_72_takes_a_break() -> None:
    centre = Centre()
    phone = AgentPhone(code="*71")
    await run_feature_code(phone, centre.dispatcher, "/p", centre._publish)
    assert centre.engine.agents["1001"].state == AgentState.READY and phone.played == ["agent-ready"]
    phone = AgentPhone(code="*72")
    await run_feature_code(phone, centre.dispatcher, "/p", centre._publish)
    agent = centre.engine.agents["1001"]
    assert (agent.state, agent.break_reason, phone.played) == (AgentState.BREAK, "小休", ["agent-break"])


async def test_an_unknown_code_or_a_refused_command_says_so() -> None:
    centre = Centre()
    for code, error_id in [("*75", "bad-command"), ("*73", "agent-not-idle")]:
        phone = AgentPhone(code=code)
        await run_feature_code(phone, centre.dispatcher, "/p", centre._publish)
        assert phone.played == ["agent-refused"]
        assert centre.events[-1] | {"message": ""} == {
            "type": "agent.refused",
            "agent": "1001",
            "code": code,
            "error_id": error_id,
            "message": "",
        }
