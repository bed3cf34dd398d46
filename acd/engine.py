"""The routing brain: who gets which call. Pure, deterministic, and the one writer of ACD state.

The controller (and the simulator) feed it what happened — a call arrived, an
agent turned ready, a phone rang out, a call ended — with the time, and ask it
``assign(now)`` for offers. Every offer moves a call from waiting to offered
and an agent from ready to ringing in the same step, so one call is never
offered to two agents, and one agent never rings for two calls.

Order: waiting calls by priority class (higher first), then by the moment they
first joined the queue. A call whose agent does not answer goes back with its
place, and so does a callback the caller left while waiting. A call may also be
answered by a wider skill group once it has waited ``overflow_after`` seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RINGING = "ringing"
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class PhoneStatus(StrEnum):
    """What Asterisk says of an agent's phone: only a free phone is offered a call."""

    FREE = "free"
    IN_USE = "in_use"  # on a call the ACD did not offer, or ringing
    UNREGISTERED = "unregistered"  # Asterisk has no contact for it: it cannot ring at all


#: Why a phone takes no calls, as a supervisor reads it.
PHONE_NOTES = {
    PhoneStatus.FREE: "",
    PhoneStatus.IN_USE: "话机占用中",
    PhoneStatus.UNREGISTERED: "话机未注册（系统没有它的联系地址），不会分配来电；请检查话机并重新注册",
}


class Priority(IntEnum):
    """Priority classes; a higher class is answered first, whatever its wait."""

    NORMAL = 0
    REPEAT_CALLER = 1  # called several times today
    ELDERLY = 2  # the elderly line
    FROM_110 = 3  # handed back from 110


#: Break reasons an agent chooses (user-facing text), and the one the engine sets itself.
BREAK_REASONS = ("小休", "用餐", "培训", "会议")
MISSED_CALLS_BREAK = "连续未接"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest-idle"
    LEAST_TALK = "least-talk"
    FEWEST_CALLS = "fewest-calls"
    ROUND_ROBIN = "rrmemory"


class AcdError(ValueError):
    """A request the engine refuses (unknown agent, wrong state); the message says why."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id


@dataclass
class Agent:
    account: str
    skills: dict[str, int]  # skill → level, 1 (basic) to 9 (expert)
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    idle_since: float = 0.0
    break_reason: str = ""
    call_id: str = ""
    wrap_up_until: float | None = None  # None: held until the agent turns ready
    talk_seconds: float = 0.0
    calls: int = 0
    missed_in_row: int = 0
    phone: PhoneStatus = PhoneStatus.FREE  # Asterisk's device state of the phone

    @property
    def phone_free(self) -> bool:
        return self.phone == PhoneStatus.FREE


@dataclass
class QueuedCall:
    call_id: str
    line: str
    skill: str
    arrived_at: float  # its place in the queue; kept through ring timeouts and callbacks
    priority: Priority = Priority.NORMAL
    min_level: int = 1
    overflow_skill: str = ""
    overflow_after: float | None = None
    callback_number: str = ""  # set when the caller left a callback instead of holding
    offered_to: str = ""
    tried: tuple[str, ...] = ()
    #: An agent's transfer to one colleague: offered to that agent alone, whatever the skill.
    for_agent: str = ""

    def skills_at(self, now: float) -> tuple[str, ...]:
        overflowing = (
            self.overflow_skill
            and self.overflow_after is not None
            and now - self.arrived_at >= self.overflow_after
        )
        return (self.skill, self.overflow_skill) if overflowing else (self.skill,)


@dataclass(frozen=True)
class Offer:
    call_id: str
    account: str
    callback_number: str = ""


@dataclass(frozen=True)
class Notice:
    """Something a supervisor should see (the engine put an agent on break by itself)."""

    kind: str
    account: str
    detail: str


@dataclass(frozen=True)
class Changes:
    agents: dict[str, dict[str, Any] | None]  # None: the agent was removed
    calls: dict[str, dict[str, Any] | None]  # None: the call left the queue
    last_offered: dict[str, str]


@dataclass
class Settings:
    strategy: Strategy = Strategy.LONGEST_IDLE
    wrap_up_seconds: float = 15.0
    missed_before_break: int = 3


@dataclass
class Engine:
    settings: Settings = field(default_factory=Settings)
    agents: dict[str, Agent] = field(default_factory=dict)
    calls: dict[str, QueuedCall] = field(default_factory=dict)
    last_offered: dict[str, str] = field(default_factory=dict)  # skill → account, for rrmemory
    notices: list[Notice] = field(default_factory=list)
    # What changed since the last ``take_changes``, for the state store to write.
    _changed_agents: set[str] = field(default_factory=set, repr=False)
    _changed_calls: set[str] = field(default_factory=set, repr=False)

    # ------------------------------------------------------------------ agents

    def add_agent(self, account: str, skills: Mapping[str, int]) -> Agent:
        for skill, level in skills.items():
            if not 1 <= level <= 9:
                raise AcdError("bad-skill-level", f"{account}: skill {skill} level must be 1-9, got {level}")
        agent = self.agents.get(account)
        if agent is None:
            agent = self.agents[account] = Agent(account, dict(skills))
        else:
            agent.skills = dict(skills)
        self._changed_agents.add(account)
        return agent

    def remove_agent(self, account: str, even_on_call: bool = False) -> None:
        """The agent no longer works here; refused while their phone rings or talks for a call."""
        agent = self._agent(account)
        if agent.state in (AgentState.RINGING, AgentState.TALKING) and not even_on_call:
            raise AcdError("agent-on-call", f"坐席 {account} 正在通话，结束后再停用")
        del self.agents[account]
        self._changed_agents.add(account)

    def login(self, account: str, now: float) -> Agent:
        agent = self._agent(account)
        if agent.state == AgentState.LOGGED_OUT:
            self._set(agent, AgentState.BREAK, now, reason="小休")
        return agent

    def logout(self, account: str, now: float) -> Agent:
        agent = self._agent(account)
        if agent.state in (AgentState.RINGING, AgentState.TALKING):
            raise AcdError("agent-on-call", f"坐席 {account} 正在通话，结束后再签出")
        self._set(agent, AgentState.LOGGED_OUT, now)
        return agent

    def ready(self, account: str, now: float) -> Agent:
        agent = self._agent(account)
        if agent.state == AgentState.LOGGED_OUT:
            raise AcdError("agent-logged-out", f"坐席 {account} 未签入")
        if agent.state in (AgentState.RINGING, AgentState.TALKING):
            raise AcdError("agent-on-call", f"坐席 {account} 正在通话")
        if agent.state != AgentState.READY:
            agent.missed_in_row = 0
            self._set(agent, AgentState.READY, now)
        return agent

    def pause(self, account: str, reason: str, now: float) -> Agent:
        agent = self._agent(account)
        if reason not in BREAK_REASONS:
            raise AcdError("bad-break-reason", f"小休原因须为 {'、'.join(BREAK_REASONS)} 之一")
        if agent.state == AgentState.LOGGED_OUT:
            raise AcdError("agent-logged-out", f"坐席 {account} 未签入")
        if agent.state in (AgentState.RINGING, AgentState.TALKING):
            raise AcdError("agent-on-call", f"坐席 {account} 正在通话，结束后再小休")
        self._set(agent, AgentState.BREAK, now, reason=reason)
        return agent

    def phone_state(self, account: str, status: PhoneStatus) -> None:
        """Asterisk says whether the phone can ring: not when unregistered or on a call we did not offer."""
        agent = self.agents.get(account)
        if agent is not None and agent.phone != status:
            agent.phone = status
            self._changed_agents.add(account)

    def wrap_up(self, account: str, now: float) -> Agent:
        """The agent asks for (more) after-call work time: held until they turn ready."""
        agent = self._agent(account)
        if agent.state in (AgentState.LOGGED_OUT, AgentState.RINGING, AgentState.TALKING):
            raise AcdError("agent-not-idle", f"坐席 {account} 当前不能进入话后处理")
        self._set(agent, AgentState.WRAP_UP, now)
        return agent

    # ------------------------------------------------------------------ calls

    def call_arrived(self, call: QueuedCall) -> QueuedCall:
        if call.call_id in self.calls:
            raise AcdError("duplicate-call", f"call {call.call_id} is already waiting")
        self.calls[call.call_id] = call
        self._changed_calls.add(call.call_id)
        return call

    def call_left(self, call_id: str, now: float) -> QueuedCall | None:
        """The caller hung up (or left a voicemail) before an agent answered."""
        call = self.calls.pop(call_id, None)
        self._changed_calls.add(call_id)
        if call and call.offered_to:
            agent = self.agents.get(call.offered_to)
            if agent and agent.call_id == call_id:
                self._set(agent, AgentState.READY, now)
        return call

    def leave_callback(self, call_id: str, number: str, now: float) -> QueuedCall:
        """The caller hangs up but keeps their place; when it comes, the agent calls them.

        An offer already ringing for the caller is withdrawn: the agent turns
        ready again, and the callback is offered anew as an outbound call.
        """
        call = self.calls.get(call_id)
        if call is None:
            raise AcdError("no-such-call", f"call {call_id} is not waiting")
        if not number.isdigit():
            raise AcdError("no-callback-number", f"call {call_id}: no number to call back")
        call.callback_number = number
        if call.offered_to:
            agent = self.agents.get(call.offered_to)
            if agent and agent.call_id == call_id:
                self._set(agent, AgentState.READY, now)
            call.offered_to = ""
        self._changed_calls.add(call_id)
        return call

    def answered(self, call_id: str, account: str, now: float) -> None:
        agent = self._agent(account)
        call = self.calls.get(call_id)
        if call is None or call.offered_to != account:
            raise AcdError("not-offered", f"call {call_id} was not offered to {account}")
        del self.calls[call_id]
        self._changed_calls.add(call_id)
        agent.missed_in_row = 0
        agent.calls += 1
        self._set(agent, AgentState.TALKING, now)
        agent.call_id = call_id

    def not_answered(self, call_id: str, account: str, now: float) -> None:
        """The phone rang out or refused: the call keeps its place, the agent may go on break."""
        agent = self._agent(account)
        call = self.calls.get(call_id)
        if call is not None and call.offered_to == account:
            call.offered_to = ""
            call.tried = (*call.tried, account)
            self._changed_calls.add(call_id)
        if agent.call_id != call_id or agent.state != AgentState.RINGING:
            return
        agent.missed_in_row += 1
        if agent.missed_in_row >= self.settings.missed_before_break:
            self._set(agent, AgentState.BREAK, now, reason=MISSED_CALLS_BREAK)
            self.notices.append(
                Notice("agent.auto_break", account, f"连续 {agent.missed_in_row} 次未接，已置小休")
            )
        else:
            self._set(agent, AgentState.READY, now)

    def call_ended(self, account: str, now: float) -> None:
        """The conversation ended: wrap-up time, then ready by itself."""
        agent = self._agent(account)
        if agent.state != AgentState.TALKING:
            return
        agent.talk_seconds += now - agent.since
        self._changed_agents.add(account)
        self._set(agent, AgentState.WRAP_UP, now)
        agent.wrap_up_until = now + self.settings.wrap_up_seconds

    def tick(self, now: float) -> None:
        """End wrap-ups that are due."""
        for agent in self.agents.values():
            if (
                agent.state == AgentState.WRAP_UP
                and agent.wrap_up_until is not None
                and now >= agent.wrap_up_until
            ):
                self._set(agent, AgentState.READY, now)

    # ------------------------------------------------------------------ routing

    def assign(self, now: float) -> list[Offer]:
        """Offer waiting calls, in order, to ready agents by the configured strategy."""
        self.tick(now)
        ready: dict[str, set[str]] = {}
        for agent in self.agents.values():
            if agent.state == AgentState.READY and agent.phone_free:
                for skill in agent.skills:
                    ready.setdefault(skill, set()).add(agent.account)
        if not ready:
            return []
        offers = []
        staffed: set[str] | None = None  # worked out once, and only if a call can overflow
        for call in self.waiting():
            if call.offered_to:
                continue
            if staffed is None and call.overflow_skill:
                staffed = self._staffed_skills()
            candidates = (
                {call.for_agent} & set().union(*ready.values())
                if call.for_agent
                else {
                    account
                    for skill in self._skills_now(call, now, staffed or set())
                    for account in ready.get(skill, ())
                    if self.agents[account].skills[skill] >= call.min_level
                }
            )
            if not candidates:
                continue
            fresh = candidates.difference(call.tried) or candidates
            account = self._choose(fresh, call.skill)
            agent = self.agents[account]
            call.offered_to = account
            self._changed_calls.add(call.call_id)
            self._set(agent, AgentState.RINGING, now)
            agent.call_id = call.call_id
            self.last_offered[call.skill] = account
            for skill in agent.skills:
                ready[skill].discard(account)
            offers.append(Offer(call.call_id, account, call.callback_number))
            if not any(ready.values()):
                break
        return offers

    def position(self, call_id: str) -> int:
        """How many calls for the same skill will be answered before this one."""
        call = self.calls[call_id]
        ahead = 0
        for other in self.waiting():
            if other.call_id == call_id:
                return ahead
            ahead += other.skill == call.skill
        return ahead

    def staffed(self, skills: Iterable[str]) -> int:
        """Logged-in agents (on a call, on break or ready) who have any of these skills."""
        wanted = set(skills)
        return sum(
            1 for a in self.agents.values() if a.state != AgentState.LOGGED_OUT and wanted & a.skills.keys()
        )

    def expected_wait(self, call_id: str, now: float, default_handle_seconds: float = 180.0) -> float:
        """A plain estimate for the caller: calls ahead (and this one) times handle time over staff."""
        call = self.calls[call_id]
        handled = sum(a.calls for a in self.agents.values())
        talk = sum(a.talk_seconds for a in self.agents.values())
        handle = talk / handled if handled else default_handle_seconds
        staff = self.staffed(self._skills_now(call, now, self._staffed_skills())) or 1
        return (self.position(call_id) + 1) * handle / staff

    def recover(self, now: float) -> None:
        """After a controller restart: the callers' flows are gone (Asterisk's fallback queue has them).

        Callbacks keep their place, and offers that were ringing are withdrawn;
        agents keep their states, except a ring, which ends.
        """
        for call in list(self.calls.values()):
            if not call.callback_number:
                del self.calls[call.call_id]
            elif call.offered_to:
                call.offered_to = ""
            self._changed_calls.add(call.call_id)
        for agent in self.agents.values():
            if agent.state == AgentState.RINGING:
                self._set(agent, AgentState.READY, now)

    def phones_on_calls(self, accounts: Iterable[str], now: float) -> None:
        """Asterisk's channel list: an agent shown talking whose phone has no call goes to wrap-up."""
        busy = set(accounts)
        for agent in self.agents.values():
            if agent.state == AgentState.TALKING and agent.account not in busy:
                self.call_ended(agent.account, now)

    def waiting(self) -> list[QueuedCall]:
        """Calls in queue order: priority class, then their place."""
        return sorted(self.calls.values(), key=lambda c: (-c.priority, c.arrived_at, c.call_id))

    def _choose(self, accounts: Iterable[str], skill: str) -> str:
        """Agents for whom this is their best skill first (a 12315 seat keeps to 12315), then the strategy."""
        candidates = [self.agents[a] for a in accounts]

        def shortfall(agent: Agent) -> int:
            return max(agent.skills.values()) - agent.skills.get(skill, 0)

        best = min(shortfall(agent) for agent in candidates)
        agents = [agent for agent in candidates if shortfall(agent) == best]
        strategy = self.settings.strategy
        if strategy == Strategy.ROUND_ROBIN:
            last = self.last_offered.get(skill, "")
            after = sorted(a.account for a in agents if a.account > last)
            return after[0] if after else min(a.account for a in agents)
        key: Callable[[Agent], Any] = {
            Strategy.LONGEST_IDLE: lambda a: (a.idle_since, a.account),
            Strategy.LEAST_TALK: lambda a: (a.talk_seconds, a.idle_since, a.account),
            Strategy.FEWEST_CALLS: lambda a: (a.calls, a.idle_since, a.account),
        }[strategy]
        return min(agents, key=key).account

    # ------------------------------------------------------------------ plumbing

    def _staffed_skills(self) -> set[str]:
        return {skill for a in self.agents.values() if a.state != AgentState.LOGGED_OUT for skill in a.skills}

    @staticmethod
    def _skills_now(call: QueuedCall, now: float, staffed: set[str]) -> tuple[str, ...]:
        """Its own skill, plus its overflow once the wait is up, or at once if no one signed in has it."""
        skills = call.skills_at(now)
        if call.overflow_skill and len(skills) == 1 and call.skill not in staffed:
            return (call.skill, call.overflow_skill)
        return skills

    def _agent(self, account: str) -> Agent:
        try:
            return self.agents[account]
        except KeyError:
            raise AcdError("unknown-agent", f"没有坐席 {account}") from None

    def _set(self, agent: Agent, state: AgentState, now: float, reason: str = "") -> None:
        if state == AgentState.READY and agent.state != AgentState.RINGING:
            agent.idle_since = now  # a ring that went unanswered does not reset the idle clock
        agent.state, agent.since, agent.break_reason, agent.wrap_up_until = state, now, reason, None
        self._changed_agents.add(agent.account)
        if state not in (AgentState.RINGING, AgentState.TALKING):
            agent.call_id = ""

    # ------------------------------------------------------------------ snapshots

    def take_changes(self) -> Changes:
        """What changed since the last call, as JSON, for the state store to write."""
        changes = Changes(
            agents={
                a: dataclasses.asdict(self.agents[a]) if a in self.agents else None
                for a in self._changed_agents
            },
            calls={
                c: dataclasses.asdict(self.calls[c]) if c in self.calls else None for c in self._changed_calls
            },
            last_offered=dict(self.last_offered),
        )
        self._changed_agents.clear()
        self._changed_calls.clear()
        return changes

    def to_json(self) -> dict[str, Any]:
        return {
            "agents": {a.account: dataclasses.asdict(a) for a in self.agents.values()},
            "calls": {c.call_id: dataclasses.asdict(c) for c in self.calls.values()},
            "last_offered": dict(self.last_offered),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], settings: Settings | None = None) -> Engine:
        engine = cls(settings or Settings())
        for values in data.get("agents", {}).values():
            agent = agent_from_json(values)
            engine.agents[agent.account] = agent
        for values in data.get("calls", {}).values():
            call = call_from_json(values)
            engine.calls[call.call_id] = call
        engine.last_offered = dict(data.get("last_offered", {}))
        return engine


AGENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Agent))


def agent_from_json(values: Mapping[str, Any]) -> Agent:
    """An agent as saved, by this version or an older one (a field it no longer has is dropped; the
    phone's state is read again from Asterisk at reconcile)."""
    known = {key: value for key, value in values.items() if key in AGENT_FIELDS}
    return Agent(
        **{
            **known,
            "state": AgentState(values["state"]),
            "skills": dict(values["skills"]),
            "phone": PhoneStatus(values.get("phone", PhoneStatus.FREE)),
        }
    )


def call_from_json(values: Mapping[str, Any]) -> QueuedCall:
    return QueuedCall(**{**values, "priority": Priority(values["priority"]), "tried": tuple(values["tried"])})
