"""Plays Asterisk's side of a FastAGI call: sends the environment, answers each command, records them."""

from __future__ import annotations

import asyncio

from hotline.kernel.asterisk.fastagi import KEY_VARIABLE

KEY = "deployment-key"


def environment(script: str, *args: str) -> bytes:
    lines = [
        f"agi_network_script: {script}",
        "agi_uniqueid: 1700000000.1",
        "agi_callerid: 13800138000",
        "agi_calleridname: 张三",
    ]
    lines += [f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, 1)]
    return ("\n".join(lines) + "\n\n").encode()


async def play_asterisk(
    port: int, script: str, replies: dict[str, bytes], *args: str, key: str | None = KEY
) -> list[str]:
    """Answer each command with the first reply whose prefix it starts with; return the commands seen.

    The server's question for the key is answered with ``key`` (``None``: no such variable) and is not
    among the commands returned."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(environment(script, *args))
    seen = []
    while line := await reader.readline():
        command = line.decode().strip()
        if command == f"GET VARIABLE {KEY_VARIABLE}":
            writer.write(b"200 result=0\n" if key is None else f"200 result=1 ({key})\n".encode())
            continue
        seen.append(command)
        reply = next((r for prefix, r in replies.items() if command.startswith(prefix)), None)
        if reply is not None:
            writer.write(reply)
    writer.close()
    return seen
