"""The screen pop: the caller's history (without this call) and a draft, on the offered agent's stream."""

from acd.engine import Offer
from agents.screen_pop import ScreenPops


class Desk:
    def __init__(self, fails: bool = False) -> None:
        self.fails, self.asked = fails, []

    async def list(self, actor, where):
        self.asked.append((actor.name, actor.role.value, where.caller_phone))
        if self.fails:
            raise ConnectionError("database away")
        return [{"number": "20261102000001", "status": "archived"}]


async def test_the_offered_agent_sees_who_calls_what_they_asked_before_and_a_draft():
    popped = []

    async def calls(number):
        return [{"call_id": "c9", "line": "12345"}, {"call_id": "c1", "line": "12345"}]

    async def to_agent(account, event):
        popped.append((account, event))

    desk = Desk()
    pops = ScreenPops(desk, calls, to_agent)  # type: ignore[arg-type]
    about = {"caller_number": "13800138000", "caller_name": "张三", "line": "12345"}
    await pops.pop(Offer("c1", "1001", ""), about)
    [(account, event)] = popped
    assert account == "1001" and desk.asked == [("1001", "agent", "13800138000")], "as the agent may see them"
    assert event["type"] == "agent.screen_pop" and event["caller_name"] == "张三"
    assert event["history"]["calls"] == [{"call_id": "c9", "line": "12345"}], (
        "this call is not its own history"
    )
    assert event["draft"]["call_id"] == "c1" and event["draft"]["channel"] == "phone"


async def test_a_callback_pops_with_the_number_to_call_and_a_failed_lookup_still_pops():
    popped = []

    async def calls(number):
        raise AssertionError("not reached: the desk failed first")

    async def to_agent(account, event):
        popped.append(event)

    pops = ScreenPops(Desk(fails=True), calls, to_agent)  # type: ignore[arg-type]
    await pops.pop(Offer("c2", "1002", "13900139000"), {"line": "callback"})
    assert popped[0]["caller_number"] == "13900139000" and popped[0]["history"] == {
        "tickets": [],
        "calls": [],
    }
