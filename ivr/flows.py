"""The hotline's FastAGI call flow.

Short by design (GB/T 33358 discourages deep menus): greet, take one key,
record the caller's own description of their request, record the rest of the
call, ring the agent idle longest, then the next if nobody answers. If nobody
can take the call the flow returns without setting ``HOTLINE_DONE``, and the
dialplan's own fallback (the all-agents queue, then voicemail) carries on, the
same path a call takes when the controller is down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agents.board import AgentBoard
from hotline.fastagi import AgiSession
from ivr.prompts import prompt_path
from recordings.files import conversation_path, intake_path

Publish = Callable[[dict[str, object]], Awaitable[None]]
ALL_KEYS = "0123456789*#"


@dataclass
class IvrServices:
    board: AgentBoard
    publish: Publish
    recordings_dir: str
    prompts_dir: str
    ring_seconds: int = 20
    ring_attempts: int = 3
    intake_max_seconds: int = 60
    max_call_seconds: int = 4 * 3600


async def answer_hotline(session: AgiSession, services: IvrServices) -> None:
    call_id = await session.get_variable("CHANNEL(linkedid)") or session.unique_id
    line = session.params.get("line") or session.env.get("agi_extension", "")
    about = {
        "call_id": call_id,
        "caller_number": session.caller_number,
        "caller_name": session.caller_name,
        "line": line,
    }

    async def publish(kind: str, **details: object) -> None:
        await services.publish({"type": kind, **about, **details})

    def prompt(name: str) -> str:
        return prompt_path(services.prompts_dir, name)

    await session.answer()
    digit = await session.stream_file(prompt("greeting"), ALL_KEYS) or await session.wait_for_digit(5000)
    await publish("ivr.menu", digit=digit)

    await session.stream_file(prompt("describe"))
    intake = intake_path(services.recordings_dir, call_id)
    recorded = await session.record_file(intake, max_ms=services.intake_max_seconds * 1000, silence_s=4)
    await publish("ivr.intake_recorded", recording=f"{intake}.wav", ended_by=recorded.data or "key")

    await session.exec("MixMonitor", conversation_path(services.recordings_dir, call_id))
    await session.stream_file(prompt("connecting"))

    tried: list[str] = []
    for _ in range(services.ring_attempts):
        agent = services.board.offer(call_id, exclude=tried)
        if agent is None:
            break
        tried.append(agent)
        await publish("acd.offered", agent=agent)
        try:
            await session.exec(
                "Dial", f"PJSIP/{agent},{services.ring_seconds}", timeout=services.max_call_seconds
            )
            status = await session.get_variable("DIALSTATUS")
        finally:
            services.board.release(agent)
        if status == "ANSWER":
            await session.set_variable("HOTLINE_DONE", "1")
            return
        await publish("acd.not_answered", agent=agent, dial_status=status)
    await publish("ivr.fallback", reason="no agent answered" if tried else "no agent available")
