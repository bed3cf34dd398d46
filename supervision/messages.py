"""Short messages from a supervisor to agents' screens (班长消息): one agent, several, or everyone signed
in. They go to each agent's own stream; the floor's stream records who sent what to whom."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from hotline.kernel.api.errors import ApiError, invalid
from hotline.kernel.api.identity import Actor
from hotline.kernel.runtime.events import Publish

TEXT_MAX = 200
EVERYONE = "all"

PublishToAgent = Callable[[str, dict[str, object]], Awaitable[None]]


class Messenger:
    def __init__(
        self,
        agents: Callable[[], Mapping[str, bool]],  # every agent, and whether they are signed in
        publish: Publish,
        publish_to_agent: PublishToAgent,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.agents = agents
        self.publish = publish
        self.publish_to_agent = publish_to_agent
        self.clock = clock

    async def send(self, to: object, text: str, actor: Actor) -> list[str]:
        """Returns the agents it went to; refuses an empty or long text and an unknown agent."""
        text = text.strip()
        if not text or len(text) > TEXT_MAX:
            raise invalid("text", f"消息须为 1 至 {TEXT_MAX} 个字")
        signed_in = self.agents()
        if to == EVERYONE:
            targets = sorted(account for account, present in signed_in.items() if present)
        elif isinstance(to, list) and to and all(isinstance(a, str) for a in to):
            unknown = sorted(set(to) - set(signed_in))
            if unknown:
                raise ApiError("unknown-agent", f"没有坐席 {'、'.join(unknown)}", 404, agents=unknown)
            targets = sorted(set(to))
        else:
            raise invalid("to", f'须为坐席工号列表或 "{EVERYONE}"')
        at = self.clock()
        for account in targets:
            await self.publish_to_agent(
                account,
                {"type": "agent.message", "agent": account, "from": actor.name, "text": text, "at": at},
            )
        await self.publish(
            {"type": "supervision.message", "by": actor.name, "to": targets, "text": text, "at": at}
        )
        return targets
