"""What an agent can do with their own state, from the web page or from the phone's feature codes."""

from __future__ import annotations

from hotline.acd.engine import AcdError, Agent, AgentState, Engine

COMMANDS = ("login", "logout", "ready", "break", "wrap-up")
#: The phone's feature codes (dialled from an agent's softphone) and the command each runs.
FEATURE_CODES = {"*71": "ready", "*72": "break", "*73": "wrap-up", "*79": "logout"}
DEFAULT_BREAK = "小休"


def apply_agent_command(engine: Engine, account: str, command: str, reason: str, now: float) -> Agent:
    """Run one command; ``ready`` logs a logged-out agent in first, as a phone's single key would."""
    if command == "login":
        return engine.login(account, now)
    if command == "logout":
        return engine.logout(account, now)
    if command == "ready":
        if account in engine.agents and engine.agents[account].state == AgentState.LOGGED_OUT:
            engine.login(account, now)
        return engine.ready(account, now)
    if command == "break":
        return engine.pause(account, reason or DEFAULT_BREAK, now)
    if command == "wrap-up":
        return engine.wrap_up(account, now)
    raise AcdError("bad-command", f"没有坐席操作 {command!r}，可用：{'、'.join(COMMANDS)}")
