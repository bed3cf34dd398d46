"""Our ACD in the real lab: order, fairness, ring timeouts, kept numbers, callbacks, a crashed controller.

Every caller is a real SIP call from the lab's PSTN with RTP and RFC 4733 keys;
every agent is a registered phone that answers (or only rings) on the PSTN.
What Asterisk did is read back from its own AMI events, not from ours.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.channels import account_of
from hotline.lab.caller import place_call
from hotline.lab.controller import api_token
from hotline.recordings.files import duration_seconds, rms_dbfs
from tests.integration.helpers import COMPLAINT
from tests.lab.conftest import EventStream, api
from tests.lab.helpers import SKIP_GREETING, caller, first

AUDIBLE_DBFS = -45.0


@dataclass
class PhoneWatch:
    """Agent phone channels on the system's Asterisk, with their times: the ground truth of who rang when."""

    agents: tuple[str, ...]
    opened: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    closed: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    open_now: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    most_at_once: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __call__(self, event) -> None:
        account = account_of(str(event.get("Channel", "")))
        if account not in self.agents:
            return
        if event.get("Event") == "Newchannel":
            self.opened[account].append(time.monotonic())
            self.open_now[account] += 1
            self.most_at_once[account] = max(self.most_at_once[account], self.open_now[account])
        elif event.get("Event") == "Hangup":
            self.closed[account].append(time.monotonic())
            self.open_now[account] -= 1


async def watching(settings, watch: PhoneWatch) -> AmiClient:
    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)
    ami.on_event(watch)
    await ami.connect()
    return ami


async def test_ten_callers_three_agents_order_no_double_offers_wrap_up_and_ring_timeout(
    lab, controller, settings, agents
):
    await agents.phone("1002", answers=False)  # rings, never answers
    for account in ("1001", "1003"):
        await agents.phone(account, talk_seconds=4)
    await agents.only_ready("1001", "1002", "1003")
    watch = PhoneWatch(settings.agents)
    ami = await watching(settings, watch)
    plans = [caller() for _ in range(9)]
    elderly = caller(dtmf="8")  # the elderly line's key, pressed by the last caller
    plans.insert(6, elderly)
    try:
        async with agents.floor() as stream:
            for plan in plans:
                await place_call(lab, plan)
                await asyncio.sleep(0.7)
            for plan in plans:
                await stream.wait_for(
                    lambda e, n=plan.caller_number: (
                        e.get("type") == "call.bridged" and e["caller_number"] == n
                    ),
                    timeout=240,
                )
            await stream.wait_for(lambda e: e.get("type") == "agent.auto_break", timeout=30)
    finally:
        await ami.close()
    events = stream.events

    by_call = {e["call_id"]: e["caller_number"] for e in events if e.get("type") == "acd.queued"}
    arrival = [p.caller_number for p in plans]
    offers = [
        (i, e) for i, e in enumerate(events) if e.get("type") == "acd.assigned" and e["call_id"] in by_call
    ]
    first_offer = {}
    for i, e in offers:
        first_offer.setdefault(by_call[e["call_id"]], i)
    offered_order = sorted(first_offer, key=first_offer.get)
    assert sorted(offered_order) == sorted(arrival)
    normal = [n for n in offered_order if n != elderly.caller_number]
    assert normal == [n for n in arrival if n != elderly.caller_number], "offered in arrival order"

    queued_at = events.index(first(events, "acd.queued", caller_number=elderly.caller_number))
    overtaken = [n for n in arrival[: arrival.index(elderly.caller_number)] if first_offer[n] > queued_at]
    assert overtaken, "the elderly caller joined while earlier callers still waited"
    assert all(first_offer[n] > first_offer[elderly.caller_number] for n in overtaken), (
        "elderly callers go first"
    )

    for i, missed in enumerate(events):
        if missed.get("type") != "acd.not_answered":
            continue
        again = next(j for j, e in offers if j > i and e["call_id"] == missed["call_id"])
        jumped = [
            by_call[e["call_id"]]
            for j, e in offers
            if i < j < again and first_offer[by_call[e["call_id"]]] == j
        ]
        later = arrival[arrival.index(by_call[missed["call_id"]]) + 1 :]
        assert not set(jumped) & set(later) - {elderly.caller_number}, "a missed call keeps its place"

    assert max(watch.most_at_once.values()) == 1, f"a phone rang twice at once: {dict(watch.most_at_once)}"
    for account in ("1001", "1003"):
        gaps = [b - a for a, b in zip(watch.closed[account], watch.opened[account][1:], strict=False)]
        assert gaps and min(gaps) >= settings.wrap_up_seconds - 0.3, f"{account} wrap-up cut short: {gaps}"

    missed = [e for e in events if e.get("type") == "acd.not_answered" and e["agent"] == "1002"]
    assert len(missed) == 3, "1002 missed three calls, then was put on break"
    first_missed = by_call[missed[0]["call_id"]]
    assert first(events, "call.bridged", caller_number=first_missed)["agent"] in ("1001", "1003")
    auto_break = first(events, "agent.auto_break")
    assert auto_break["agent"] == "1002" and "连续" in auto_break["detail"]
    assert (await agents.states())["1002"]["break_reason"] == "连续未接"


async def test_a_kept_number_goes_to_its_own_seat_and_overflows_after_the_wait(
    lab, controller, settings, agents
):
    await agents.phone("1003", talk_seconds=40)
    await agents.phone("1001", talk_seconds=3)
    await agents.only_ready("1001", "1003")  # 1001 is idle longest, yet 1003 is the 12315 seat
    states = await agents.states()
    assert states["1003"]["phone_free"] and states["1001"]["phone_free"], states
    first_call, second_call = caller(to="12315"), caller(to="12315")
    async with agents.floor() as stream:
        await place_call(lab, first_call)
        bridged = await stream.wait_for(
            lambda e: e.get("type") == "call.bridged" and e["caller_number"] == first_call.caller_number, 60
        )
        assert bridged["agent"] == "1003"
        await place_call(lab, second_call)
        arrived = time.monotonic()
        offered = await stream.wait_for(
            lambda e: e.get("type") == "acd.offered" and e["caller_number"] == second_call.caller_number, 60
        )
        waited = time.monotonic() - arrived
    assert offered["agent"] == "1001", "no 12315 seat was free, so it overflowed to 12345"
    # The lab's menu overflows kept numbers after 25 s; without the wait it would ring at ~12 s.
    assert waited >= 24, f"the 12345 agent took the 12315 call after only {waited:.1f} s"


async def test_a_callback_keeps_the_place_and_connects_agent_and_caller(lab, controller, settings, agents):
    await agents.only_ready()
    await agents.command("1001", "login")  # on duty, but on a break: the caller waits
    wanting = caller(dtmf=SKIP_GREETING + "w" * 40 + "1", hold=60)  # presses 1 about 21 s in, while waiting
    behind = caller(hold=90)
    recordings = lab.root / lab.pstn_recordings_dir().lstrip("/")
    async with agents.floor() as stream:
        await place_call(lab, wanting)
        await stream.wait_for(
            lambda e: e.get("type") == "acd.queued" and e["caller_number"] == wanting.caller_number, 60
        )
        await place_call(lab, behind)
        request = await stream.wait_for(
            lambda e: (
                e.get("type") == "acd.callback_requested" and e["caller_number"] == wanting.caller_number
            ),
            60,
        )
        await stream.wait_for(
            lambda e: e.get("type") == "call.hangup" and e["caller_number"] == wanting.caller_number, 30
        )
        await agents.phone("1001", talk_seconds=6)
        ready = await agents.command("1001", "ready")
        assert ready["phone_free"], ready
        dialing = await stream.wait_for(lambda e: e.get("type") == "acd.callback_dialing", 30)
        answered = await stream.wait_for(lambda e: e.get("type") == "acd.callback_answered", 30)
        await agents.phone("1001", talk_seconds=2)
        await stream.wait_for(
            lambda e: e.get("type") == "call.bridged" and e["caller_number"] == behind.caller_number, 60
        )
    assert dialing["call_id"] == request["call_id"] and dialing["agent"] == "1001", "the place was kept"
    assert answered["caller_number"] == wanting.caller_number
    async with asyncio.timeout(30):
        while not (heard := list(recordings.glob(f"callee-{wanting.caller_number}-*.wav"))):
            await asyncio.sleep(0.5)
        while True:  # MixMonitor writes the header when the call ends
            try:
                level = rms_dbfs(heard[0])
                break
            except Exception:
                await asyncio.sleep(0.5)
    assert level > AUDIBLE_DBFS, "the caller called back heard the agent's phone"


async def test_a_killed_controller_leaves_callers_to_the_fallback_and_its_restart_keeps_agent_states(
    lab, controller, settings, agents
):
    await agents.only_ready("1003")
    await agents.command("1003", "break", reason="培训")
    await agents.command("1001", "login")
    await agents.command("1001", "break", reason="用餐")
    await agents.command("1002", "login")
    for account in settings.agents:
        await agents.phone(account, talk_seconds=5)
    before = {a: (s["state"], s["break_reason"]) for a, s in (await agents.states()).items()}
    watch = PhoneWatch(settings.agents)
    ami = await watching(settings, watch)
    joined: list[str] = []
    ami.on_event(
        lambda e: joined.append(str(e["CallerIDNum"])) if e.get("Event") == "QueueCallerJoin" else None
    )
    plans = [caller(hold=60), caller(hold=60)]
    try:
        async with agents.floor() as stream:
            for plan in plans:
                await place_call(lab, plan)
            for plan in plans:
                await stream.wait_for(
                    lambda e, n=plan.caller_number: e.get("type") == "acd.queued" and e["caller_number"] == n,
                    60,
                )
        controller.kill()
        async with asyncio.timeout(60):
            while len(joined) < 2:
                await asyncio.sleep(0.05)
        # app_queue rings a member at once as a caller joins, then again each retry (2 s, queues.conf): a
        # retry after the last caller joined, it has had its chances to ring someone. Nothing marks a round
        # that rang no one.
        await asyncio.sleep(2.5)
    finally:
        await ami.close()
    assert sorted(joined) == sorted(p.caller_number for p in plans), "both callers wait in the fallback queue"
    # Every agent is on a break: the fallback queue, which mirrors the ACD, rings none of them (it once did).
    assert not any(watch.opened.values())

    controller.start()
    after = {a: (s["state"], s["break_reason"]) for a, s in (await agents.states()).items()}
    assert after == before, "nobody logged in again; breaks and their reasons survived the crash"
    assert before["1001"] == ("break", "用餐") and before["1003"] == ("break", "培训")


async def test_feature_codes_from_the_agent_phone(lab, controller, settings, agents):
    await agents.command("1002", "logout")
    await agents.dial_feature_code("1002", "*71")
    assert (await agents.states())["1002"]["state"] == "ready"
    await agents.dial_feature_code("1002", "*72")
    assert [(await agents.states())["1002"][k] for k in ("state", "break_reason")] == ["break", "小休"]
    await agents.dial_feature_code("1002", "*73")
    assert (await agents.states())["1002"]["state"] == "wrap_up"
    await agents.dial_feature_code("1002", "*79")
    assert (await agents.states())["1002"]["state"] == "logged_out"


async def test_the_emergency_key_reaches_110_and_nobody_on_duty_means_voicemail(
    lab, controller, settings, agents
):
    recordings = lab.root / lab.pstn_recordings_dir().lstrip("/")
    before = set(recordings.glob("line-110-*.wav"))
    await agents.only_ready("1001")
    async with agents.floor() as stream:
        urgent = caller(dtmf="0", hold=15)
        await place_call(lab, urgent)
        await stream.wait_for(lambda e: e.get("type") == "ivr.emergency", 30)
        async with asyncio.timeout(30):
            while not set(recordings.glob("line-110-*.wav")) - before:
                await asyncio.sleep(0.3)
        await agents.only_ready()
        late = caller(hold=20)
        await place_call(lab, late)
        voicemail = await stream.wait_for(lambda e: e.get("type") == "ivr.voicemail", 30)
    assert voicemail["caller_number"] == late.caller_number
    assert first(stream.events, "acd.queued", caller_number=urgent.caller_number) is None


@dataclass
class PromptWatch:
    """The IVR's STREAM FILE commands on the system's Asterisk (AGIExecStart/End), with their times."""

    started: dict[str, tuple[float, str]] = field(default_factory=dict)  # CommandId → (time, file)
    played: list[tuple[str, float, float]] = field(default_factory=list)  # (file, start, end)

    def __call__(self, event) -> None:
        kind, command_id = event.get("Event"), str(event.get("CommandId", ""))
        command = str(event.get("Command", ""))
        if kind == "AGIExecStart" and command.upper().startswith("STREAM FILE"):
            self.started[command_id] = (time.monotonic(), command.split()[2].strip('"').rsplit("/", 1)[-1])
        elif kind == "AGIExecEnd" and command_id in self.started:
            began, name = self.started.pop(command_id)
            self.played.append((name, began, time.monotonic()))

    def playing(self, name: str) -> bool:
        return any(file == name for _, file in self.started.values())


async def test_an_agent_turning_ready_cuts_the_queue_announcement_short(lab, controller, settings, agents):
    await agents.only_ready()
    await agents.command("1001", "login")  # on break: the centre is staffed, so the caller queues
    prompts = PromptWatch()
    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)
    ami.on_event(prompts)
    await ami.connect()
    plan = caller(hold=90)
    try:
        async with agents.floor() as stream:
            await place_call(lab, plan)
            async with asyncio.timeout(60):  # "press 1 for a callback, 2 for voicemail": 7 s of speech
                while not prompts.playing("queue-exits"):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # the agent turns ready while it plays
            ready_at = time.monotonic()
            await agents.command("1001", "ready")
            await stream.wait_for(
                lambda e: e.get("type") == "call.bridged" and e["caller_number"] == plan.caller_number, 30
            )
    finally:
        await ami.close()
    exits = lab.root / settings.prompts_dir.lstrip("/") / "queue-exits.wav"
    cut = [(start, end) for name, start, end in prompts.played if name == "queue-exits" and start < ready_at]
    [(start, end)] = cut
    assert end - start < duration_seconds(exits) - 2.0, "the prompt stopped when the agent turned ready"
    assert not [name for name, start, _ in prompts.played if start > ready_at], "and nothing more was said"


async def test_a_caller_handed_back_by_110_is_answered_before_those_waiting_longer(
    lab, controller, settings, agents
):
    await agents.only_ready()
    await agents.command("1001", "login")
    await agents.phone("1001", talk_seconds=3)
    earlier, handed_back = caller(hold=120), caller(caller_number="110", dtmf="", hold=120)
    async with agents.floor() as stream:
        for plan in (earlier, handed_back):
            await place_call(lab, plan)
            await stream.wait_for(
                lambda e, n=plan.caller_number: e.get("type") == "acd.queued" and e["caller_number"] == n, 60
            )
        await agents.command("1001", "ready")
        bridged = await stream.wait_for(lambda e: e.get("type") == "call.bridged", 60)
    assert bridged["caller_number"] == "110", "the handed-back caller went first"
    queued = first(stream.events, "acd.queued", caller_number="110")
    assert queued["priority"] == "from_110"
    assert first(stream.events, "ivr.handover", caller_number="110") is not None
    assert first(stream.events, "ivr.menu", caller_number="110") is None, "no greeting for them"


def bridged_with(number: str):
    return lambda e: e.get("type") == "call.bridged" and e.get("caller_number") == number


async def test_the_number_map_rings_an_old_department_number_and_marks_callers_110_hands_over(
    lab, lab_env, controller, settings, agents, supervisor_token
):
    """88001234 is 12315's old number: 12315's seat answers it. On 96110 the police hand a citizen over,
    showing the citizen's own number: no greeting, first in line, and the ticket says 110 handed it."""
    await agents.phone("1003", talk_seconds=3)
    await agents.only_ready("1003")  # the 12315 seat, who also takes 12345's calls
    old_number, handed_over = caller(to="88001234"), caller(to="96110", dtmf="", hold=90)
    sockets = controller.base_url.replace("http", "ws")
    async with (
        agents.floor() as stream,
        EventStream(f"{sockets}/api/agents/1003/events?access_token={supervisor_token}") as desk,
    ):
        await place_call(lab, old_number)
        first_bridged = await stream.wait_for(bridged_with(old_number.caller_number), 60)
        await place_call(lab, handed_over)
        bridged = await stream.wait_for(bridged_with(handed_over.caller_number), 60)
        pop = await desk.wait_for(
            lambda e: e.get("type") == "agent.screen_pop" and e.get("call_id") == bridged["call_id"], 10
        )
    assert (first_bridged["line"], first_bridged["agent"]) == ("12315", "1003")
    handover = first(stream.events, "ivr.handover", caller_number=handed_over.caller_number)
    assert handover is not None and (handover["by"], handover["line"]) == ("110", "12345"), handover
    assert first(stream.events, "ivr.menu", caller_number=handed_over.caller_number) is None
    queued = first(stream.events, "acd.queued", caller_number=handed_over.caller_number)
    assert queued is not None and queued["priority"] == "from_110"
    draft = pop["draft"]
    assert draft["handed_over_by"] == "110" and draft["caller_phone"] == handed_over.caller_number

    agent_token = await asyncio.to_thread(api_token, lab_env, "1003", "agent")
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}
    status, ticket = await api("POST", f"{controller.base_url}/api/tickets", agent_token, {**draft, **said})
    assert status == 201 and ticket["intake"]["handed_over_by"] == "110", ticket
