"""Adding and changing agents: the table first, then Asterisk's endpoint, then the ACD.

The table is written first so nothing accepted is lost: if Asterisk is away
the endpoint follows when it is back. Stopping an agent goes the other way
round, ACD first, because the ACD is what refuses while the agent is on a call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable

from hotline.acd.dispatch import Dispatcher
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.profiles import AgentProfile, ProfileError, changed_profile, new_profile
from hotline.kernel.asterisk.ami import AmiError

log = logging.getLogger(__name__)
Provision = Callable[[Iterable[AgentRecord]], Awaitable[bool]]
#: Whether a user of this name exists (the API's users: the seat's account becomes one).
UserExists = Callable[[str], Awaitable[bool]]


class UnknownAgent(ProfileError):
    pass


class NameTaken(ProfileError):
    """The account is an existing user's name (an administrator's, say): a seat would take their name over."""


class Roster:
    def __init__(
        self,
        directory: AgentDirectory,
        provision: Provision,
        dispatcher: Dispatcher,
        reserved: Collection[str],
    ) -> None:
        self.directory = directory
        self._provision = provision
        self._dispatcher = dispatcher
        self._reserved = reserved
        self.profiles: dict[str, AgentProfile] = {}

    def is_agent(self, account: str) -> bool:
        """An active agent's account: their phone's events go to the ACD."""
        profile = self.profiles.get(account)
        return profile is not None and profile.active

    def active_skills(self) -> dict[str, dict[str, int]]:
        return {a: p.skills for a, p in self.profiles.items() if p.active}

    async def start(self, seeds: Iterable[AgentRecord]) -> None:
        """Seed the table from the settings and write the endpoints of everyone in it."""
        await self.directory.seed(seeds)
        records = await self.directory.all()
        await self._provision_quietly(records)
        self.profiles = {r.profile.account: r.profile for r in records}

    async def add(self, body: object, user_exists: UserExists) -> tuple[AgentRecord, str, bool]:
        """A new agent, ready to sign in: its record, its SIP password (this once) and whether Asterisk
        has it. An account that names an existing user is refused before anything is written: the seat's
        account becomes a user, and nobody may take over another's name."""
        profile = new_profile(body, self._reserved)
        if await self.directory.get(profile.account) is None and await user_exists(profile.account):
            raise NameTaken("account", f"{profile.account} 已是系统用户的名字，不能用作坐席工号")
        record, password = await self.directory.add(profile)
        provisioned = await self._provision_quietly(await self.directory.all())
        self.profiles[profile.account] = profile
        await self._dispatcher.step(lambda engine, now: engine.add_agent(profile.account, profile.skills))
        return record, password, provisioned

    async def change(self, account: str, body: object) -> tuple[AgentRecord, bool]:
        """Rename, re-skill, stop (``active: false``) or bring back an agent."""
        current = await self.directory.get(account)
        if current is None:
            raise UnknownAgent("account", f"没有坐席 {account}")
        profile = changed_profile(current.profile, body)
        if not profile.active and self._dispatcher.agent(account) is not None:
            await self._dispatcher.step(lambda engine, now: engine.remove_agent(account))
        record = await self.directory.save(profile)
        self.profiles[account] = profile
        provisioned = await self._provision_quietly(await self.directory.all())
        if profile.active:
            await self._dispatcher.step(lambda engine, now: engine.add_agent(account, profile.skills))
        return record, provisioned

    async def _provision_quietly(self, records: list[AgentRecord]) -> bool:
        try:
            return await self._provision(records)
        except (AmiError, OSError) as exc:
            log.error("agent endpoints not provisioned, will retry when AMI reconnects: %s", exc)
            return False
