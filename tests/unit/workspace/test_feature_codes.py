"""Feature codes dialled from an agent's phone, against the real engine and dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.acd.engine import AgentState
from hotline.kernel.api.errors import ApiError
from hotline.workspace.phone import run_dial_code, run_feature_code
from tests.fakes.agi_channel import FakeChannel
from tests.fakes.ivr_services import Centre


@dataclass
class AgentPhone(FakeChannel):
    code: str = ""
    what: str = ""

    @property
    def params(self) -> dict[str, str]:
        return {"code": self.code, "what": self.what}

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


class Dialler:
    """The dial-out as the phone's *9 asks it: what was asked, or the refusal it gives."""

    def __init__(self, refusal: ApiError | None = None) -> None:
        self.refusal, self.asked = refusal, []

    async def dial(self, account, number, ticket, actor, *, from_phone=False):
        self.asked.append((account, number, ticket, actor.name, actor.role.value, from_phone))
        if self.refusal:
            raise self.refusal


async def test_star_9_asks_the_dial_out_for_the_agent_whose_phone_dialled_with_or_without_a_ticket() -> None:
    centre, dialler = Centre(), Dialler()
    for what in ("13911112222", "20261203000001*13911112222"):
        phone = AgentPhone(what=what)
        await run_dial_code(phone, dialler, "/p", centre._publish)  # type: ignore[arg-type]
        assert phone.played == ["agent-dial"]
    assert dialler.asked == [
        ("1001", "13911112222", "", "1001", "agent", True),
        ("1001", "13911112222", "20261203000001", "1001", "agent", True),
    ]


async def test_star_9_refused_says_so_and_why_on_the_agents_stream() -> None:
    centre = Centre()
    refused = Dialler(ApiError("outbound-not-allowed", "号码 0088216123456 不在外呼许可范围内", 403))
    phone = AgentPhone(what="0088216123456")
    await run_dial_code(phone, refused, "/p", centre._publish)  # type: ignore[arg-type]
    assert phone.played == ["agent-refused"]
    assert centre.events[-1] == {
        "type": "agent.refused",
        "agent": "1001",
        "code": "*9",
        "error_id": "outbound-not-allowed",
        "message": "号码 0088216123456 不在外呼许可范围内",
    }
