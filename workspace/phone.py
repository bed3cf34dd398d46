"""Feature codes dialled from an agent's own phone: *71 ready, *72 break, *73 wrap-up, *79 logout, and
*9 to call a citizen (*9 and the number, or *9, a ticket's number, * and the number: about that ticket).

The phone is the agent: the command applies to the PJSIP endpoint that dialled.
The agent hears a short confirmation, or that it did not work (the web page
says why).
"""

from __future__ import annotations

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AcdError
from hotline.ivr.prompts import prompt_path
from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.asterisk.fastagi import AgiSession
from hotline.kernel.runtime.events import Publish
from hotline.workspace.commands import FEATURE_CODES, apply_agent_command
from hotline.workspace.dial_out import DialOut

CONFIRMATIONS = {
    "ready": "agent-ready",
    "break": "agent-break",
    "wrap-up": "agent-wrap-up",
    "logout": "agent-logged-out",
}


async def run_feature_code(
    session: AgiSession, dispatcher: Dispatcher, prompts_dir: str, publish: Publish
) -> None:
    account = await session.get_variable("CHANNEL(endpoint)")
    code = session.params.get("code", "")
    command = FEATURE_CODES.get(code, "")  # an unknown code is refused by the command itself
    prompt = "agent-refused"
    try:
        await dispatcher.step(lambda engine, now: apply_agent_command(engine, account, command, "", now))
        prompt = CONFIRMATIONS[command]
    except AcdError as error:
        await publish(
            {
                "type": "agent.refused",
                "agent": account,
                "code": code,
                "error_id": error.error_id,
                "message": str(error),
            }
        )
    await session.answer()
    await session.stream_file(prompt_path(prompts_dir, prompt))


async def run_dial_code(session: AgiSession, dial_out: DialOut, prompts_dir: str, publish: Publish) -> None:
    """``*9``: checked as the API checks a dial-out, for the agent whose phone dialled; their phone rings
    back once the dialplan has ended this call, then the citizen's."""
    account = await session.get_variable("CHANNEL(endpoint)")
    ticket, _, number = session.params.get("what", "").rpartition("*")
    prompt = "agent-dial"
    try:
        await dial_out.dial(account, number, ticket, Actor(account, Role.AGENT), from_phone=True)
    except ApiError as error:
        prompt = "agent-refused"
        await publish(
            {
                "type": "agent.refused",
                "agent": account,
                "code": "*9",
                "error_id": error.error_id,
                "message": error.message,
            }
        )
    await session.answer()
    await session.stream_file(prompt_path(prompts_dir, prompt))
