"""The screen pop: the caller's history (without this call) and a draft, on the offered agent's stream."""

import asyncio
from pathlib import Path

from acd.engine import Offer
from agents.screen_pop import ScreenPops
from recordings.speech import Transcript, tidy
from recordings.transcripts import Transcripts


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


async def test_the_draft_carries_the_transcript_when_ready_and_a_late_one_follows_the_pop():
    class Recognizer:
        def __init__(self) -> None:
            self.heard: list[Path] = []
            self.release = asyncio.Event()

        async def transcribe(self, path: Path) -> Transcript:
            self.heard.append(path)
            await self.release.wait()
            return Transcript(tidy("路灯 坏了 三天"), 3.0, 1.2)  # as Vosk's Chinese model spaces words

        async def warm(self) -> None: ...

        async def close(self) -> None: ...

    async def calls(number):
        return []

    popped = []

    async def to_agent(account, event):
        popped.append(event)

    recognizer = Recognizer()
    transcripts = Transcripts(recognizer, lambda path: Path("/chroot") / path.lstrip("/"))  # type: ignore[arg-type]
    pops = ScreenPops(Desk(), calls, to_agent, transcripts.text)  # type: ignore[arg-type]
    transcripts.start("c1", "/var/recordings/c1-intake.wav")
    late = asyncio.create_task(pops.pop(Offer("c1", "1001", ""), {"caller_number": "13800138000"}))
    async with asyncio.timeout(5):
        while not popped:
            await asyncio.sleep(0.01)
    assert "description" not in popped[0]["draft"], "not ready at the ring: the pop does not wait for it"
    recognizer.release.set()
    await late
    told = {"type": "agent.transcript", "agent": "1001", "call_id": "c1", "text": "路灯坏了三天"}
    assert popped[1] == {**told, "draft": {"description": "路灯坏了三天", "guessed": ["description"]}}
    assert recognizer.heard == [Path("/chroot/var/recordings/c1-intake.wav")]

    await pops.pop(Offer("c1", "1002", ""), {"caller_number": "13800138000"})  # ready now: in the draft
    assert popped[2]["draft"]["description"] == "路灯坏了三天" and popped[2]["draft"]["guessed"] == [
        "description"
    ]
    await transcripts.close()


def test_chinese_words_are_joined_and_other_text_keeps_single_spaces():
    assert tidy(" 路灯  坏了 三天 ") == "路灯坏了三天"
    assert tidy("도로에  구멍이 있어요") == "도로에 구멍이 있어요"
