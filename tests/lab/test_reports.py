"""The call report after a set of real lab calls counts exactly what was placed, one of each ending.

The callers are real SIP calls from the lab's PSTN; the agent is a registered
phone that answers and hangs up. The records and the report are read back
through the API, as a supervisor would.
"""

from __future__ import annotations

import asyncio

from hotline.lab.caller import place_call
from tests.lab.conftest import api
from tests.lab.helpers import SKIP_GREETING, caller

COUNTED = ("offered", "requested", "answered", "abandoned", "abandoned_short", "callbacks", "callbacks_made")
COUNTED += ("voicemails", "emergency", "transfers")


async def owed_callbacks_made(agents) -> None:
    """Callbacks an earlier test left owed are made now, so none lands among this test's figures."""
    every = ("1001", "1002", "1003")  # whatever skill a callback waits for
    for account in every:
        await agents.phone(account, talk_seconds=1)
    await agents.only_ready(*every)
    async with asyncio.timeout(180):
        while True:
            status, waiting = await api("GET", f"{agents.base_url}/api/acd/queue", agents.token)
            assert status == 200, waiting
            states = await agents.states()
            if not waiting and all(states[a]["state"] not in ("ringing", "talking") for a in every):
                return
            await asyncio.sleep(0.3)


async def day_report(agents) -> dict:
    status, body = await api("GET", f"{agents.base_url}/api/reports/calls?by=day", agents.token)
    assert status == 200, body
    return body["rows"][-1] if body["rows"] else dict.fromkeys(COUNTED, 0)


async def test_the_report_counts_answered_abandoned_callback_and_voicemail_calls(
    lab, controller, settings, agents
):
    await owed_callbacks_made(agents)
    before = await day_report(agents)
    async with agents.floor() as stream:

        def ended(plan):
            return lambda e: e.get("type") == "call.hangup" and e["caller_number"] == plan.caller_number

        # nobody on duty: the caller leaves a message
        await agents.only_ready()
        voicemail = caller(hold=8)
        await place_call(lab, voicemail)
        await stream.wait_for(ended(voicemail), 60)

        # an agent on duty but on a break: one caller gives up about 10 s into the queue (the lab menu
        # calls back whoever waited 5 s), one asks to be called back
        await agents.command("1001", "login")
        gives_up = caller(hold=20)
        await place_call(lab, gives_up)
        await stream.wait_for(ended(gives_up), 60)
        wanting = caller(dtmf=SKIP_GREETING + "w" * 40 + "1", hold=60)
        await place_call(lab, wanting)
        await stream.wait_for(ended(wanting), 90)

        # the agent turns ready: the callback rings first, then a new caller is answered
        await agents.phone("1001", talk_seconds=3)
        await agents.command("1001", "ready")
        for plan in (gives_up, wanting):  # each called back in turn, in the order they called
            await stream.wait_for(
                lambda e, n=plan.caller_number: (
                    e.get("type") == "acd.callback_answered" and e["caller_number"] == n
                ),
                90,
            )
        answered = caller(hold=60)
        await place_call(lab, answered)
        await stream.wait_for(lambda e: e.get("type") == "call.bridged" and e["agent"] == "1001"
                              and e["caller_number"] == answered.caller_number, 60)  # fmt: skip
        await stream.wait_for(ended(answered), 60)

    status, records = await api("GET", f"{agents.base_url}/api/reports/records?limit=50", agents.token)
    assert status == 200, records
    mine = {r["caller_number"]: r for r in reversed(records)}  # the newest, had a number called before
    outcomes = {
        plan.caller_number: mine[plan.caller_number]["outcome"]
        for plan in (voicemail, gives_up, wanting, answered)
    }
    assert outcomes == {
        voicemail.caller_number: "voicemail",
        gives_up.caller_number: "abandoned",
        wanting.caller_number: "callback",
        answered.caller_number: "answered",
    }
    talk = mine[answered.caller_number]
    assert talk["agent"] == "1001" and talk["ended_by"] == "agent", talk  # the phone hung up after 3 s
    # the lab phone answers, waits 1 s, greets (a few seconds), talks 3 s and hangs up
    assert 4.0 <= talk["talk_seconds"] <= 14.0, talk
    gave_up = mine[gives_up.caller_number]
    assert gave_up["ended_by"] == "caller" and gave_up["wait_seconds"] >= 5, gave_up
    assert gave_up["callback_agent"] == mine[wanting.caller_number]["callback_agent"] == "1001"

    after = await day_report(agents)
    placed = {name: after[name] - before[name] for name in COUNTED}
    assert placed == {
        "offered": 4,
        "requested": 3,  # the voicemail caller never asked for an agent
        "answered": 1,
        "abandoned": 1,
        "abandoned_short": 0,
        "callbacks": 1,  # asked for; the caller who gave up was called back too
        "callbacks_made": 2,
        "voicemails": 1,
        "emergency": 0,
        "transfers": 0,
    }
