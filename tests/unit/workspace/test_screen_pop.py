"""The screen pop: the caller's history (without this call) and a draft, on the offered agent's stream."""

import asyncio
from pathlib import Path

from hotline.acd.engine import Offer
from hotline.speech.transcripts import TAP_DELAY_SECONDS, Transcripts
from hotline.speech.workers import Transcript, tidy
from hotline.ticketing.guesses import guess
from hotline.workspace.screen_pop import ScreenPops
from tests.unit.ticketing.gazetteer import PLACES


class Desk:
    def __init__(self, fails: bool = False) -> None:
        self.fails, self.asked = fails, []

    async def guesses(self, text):
        """As ``TicketDesk.guesses`` does, on the seed directory."""
        return guess(text, gazetteer=PLACES)

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


class LiveStream:
    """Speech heard as it comes: each piece of 'audio' here is UTF-8 text, said so far."""

    def __init__(self, on_text) -> None:
        self.on_text, self.said, self.cancelled = on_text, b"", False

    def feed(self, audio: bytes) -> None:
        self.said += audio
        self.on_text(self.said.decode())

    @property
    def audio_seconds(self) -> float:
        return len(self.said) / 3  # a word a second

    async def finish(self) -> Transcript:
        return Transcript(tidy(self.said.decode() + " 三天"), self.audio_seconds, 0.1)

    def cancel(self) -> None:
        self.cancelled = True


class Recognizer:
    def __init__(self) -> None:
        self.heard: list[Path] = []
        self.release = asyncio.Event()
        self.streams: list[LiveStream] = []

    async def transcribe(self, path: Path) -> Transcript:
        self.heard.append(path)
        await self.release.wait()
        return Transcript(tidy("路灯 坏了 三天"), 3.0, 1.2)  # as Vosk's Chinese model spaces words

    def stream(self, on_text) -> LiveStream:
        self.streams.append(LiveStream(on_text))
        return self.streams[-1]

    async def warm(self) -> None: ...

    async def close(self) -> None: ...


class Tap:
    def __init__(self, works: bool = True) -> None:
        self.works, self.tapped, self.stopped = works, [], False

    async def __call__(self, channel, on_audio):
        self.tapped.append((channel, on_audio))
        return self if self.works else None

    def stop(self) -> None:
        self.stopped = True


async def no_calls(number):
    return []


async def first_pop(popped: list) -> None:
    async with asyncio.timeout(5):
        while not popped:
            await asyncio.sleep(0.01)


async def test_without_live_audio_the_recording_is_transcribed_and_its_text_follows_the_pop():
    popped = []

    async def to_agent(account, event):
        popped.append(event)

    recognizer, tap = Recognizer(), Tap(works=False)  # Asterisk could not tap the caller's channel
    transcripts = Transcripts(recognizer, lambda path: Path("/chroot") / path.lstrip("/"), tap=tap)  # type: ignore[arg-type]
    pops = ScreenPops(Desk(), no_calls, to_agent, transcripts.text, follow=transcripts.follow)  # type: ignore[arg-type]
    description = await transcripts.listen("c1", "PJSIP/carrier-00000001")
    assert not description.live and recognizer.streams[0].cancelled
    description.recorded("/var/recordings/c1-intake.wav")
    late = asyncio.create_task(pops.pop(Offer("c1", "1001", ""), {"caller_number": "13800138000"}))
    await first_pop(popped)
    assert "description" not in popped[0]["draft"], "not ready at the ring: the pop does not wait for it"
    recognizer.release.set()
    await late
    told = {"type": "agent.transcript", "agent": "1001", "call_id": "c1", "text": "路灯坏了三天"}
    draft = {"description": "路灯坏了三天", "category": "urban.roads", "guessed": ["description", "category"]}
    assert popped[1:] == [{**told, "partial": False, "draft": draft}]
    assert recognizer.heard == [Path("/chroot/var/recordings/c1-intake.wav")]

    await pops.pop(Offer("c1", "1002", ""), {"caller_number": "13800138000"})  # ready now: in the draft
    assert popped[2]["draft"]["description"] == "路灯坏了三天" and popped[2]["draft"]["guessed"] == [
        "description",
        "category",
    ]
    await transcripts.close()


async def test_an_agent_offered_while_the_caller_speaks_reads_the_words_as_they_come_then_the_draft():
    popped = []

    async def to_agent(account, event):
        popped.append(event)

    recognizer, tap = Recognizer(), Tap()
    transcripts = Transcripts(recognizer, lambda path: Path(path), tap=tap)  # type: ignore[arg-type]
    pops = ScreenPops(Desk(), no_calls, to_agent, transcripts.text, follow=transcripts.follow)  # type: ignore[arg-type]
    description = await transcripts.listen("c1", "PJSIP/carrier-00000001")
    assert description.live and tap.tapped[0][0] == "PJSIP/carrier-00000001"
    on_audio = tap.tapped[0][1]
    on_audio("请讲".encode())  # the prompt, before the recording: not the description
    description.begins()
    on_audio(b"\0" * int(TAP_DELAY_SECONDS * 8000 * 2))  # the beep's tail, which the tap hears late
    on_audio("路灯".encode())
    popping = asyncio.create_task(pops.pop(Offer("c1", "1001", ""), {"caller_number": "13800138000"}))
    await first_pop(popped)
    assert "description" not in popped[0]["draft"]
    await asyncio.sleep(0.01)
    on_audio("坏了".encode())
    await asyncio.sleep(0.01)
    description.recorded("/var/recordings/c1-intake.wav")
    await popping
    told = {"type": "agent.transcript", "agent": "1001", "call_id": "c1"}
    assert popped[1:] == [
        {**told, "text": "路灯", "partial": True},
        {**told, "text": "路灯坏了", "partial": True},
        {
            **told,
            "text": "路灯坏了三天",
            "partial": False,
            "draft": {
                "description": "路灯坏了三天",
                "category": "urban.roads",
                "guessed": ["description", "category"],
            },
        },
    ]
    assert tap.stopped and recognizer.heard == [], "the live text is final: the recording is not read again"
    await transcripts.close()


async def test_a_caller_who_hangs_up_while_describing_leaves_no_text_and_no_one_waiting_for_it():
    recognizer, tap = Recognizer(), Tap()
    transcripts = Transcripts(recognizer, lambda path: Path(path), tap=tap)  # type: ignore[arg-type]
    description = await transcripts.listen("c1", "PJSIP/carrier-00000001")
    following = [said async for said in _follow_until_abandoned(transcripts, description)]
    assert following == [] and await transcripts.text("c1", 1) is None
    assert tap.stopped and recognizer.streams[0].cancelled
    await transcripts.close()


async def _follow_until_abandoned(transcripts, description):
    asyncio.get_running_loop().call_later(0.01, description.abandoned)
    async for said in transcripts.follow("c1"):
        yield said


def test_chinese_words_are_joined_and_other_text_keeps_single_spaces():
    assert tidy(" 路灯  坏了 三天 ") == "路灯坏了三天"
    assert tidy("도로에  구멍이 있어요") == "도로에 구멍이 있어요"
