"""A discrete-event simulation of a day at the centre, driving the real engine.

Calls arrive by a Poisson process on each line, wait with an exponential
patience (or forever), and are handled for an exponential time; agents answer
the moment they are offered a call and then do their wrap-up. The same seed
gives the same day, because the engine is deterministic.

Figures count the calls that arrived during the simulated hours, each followed
to its end: service level is the share of them answered within
``sl_seconds`` (abandoned calls count against it), ASA is the mean wait of the
answered ones, occupancy is the agents' handling time (talk and wrap-up) over
their logged-in time.
"""

from __future__ import annotations

import heapq
import random
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.acd.engine import AgentState, Engine, Priority, QueuedCall, Settings, Strategy


class ScenarioError(ValueError):
    """The scenario is malformed; the message names the field."""


@dataclass(frozen=True)
class LineTraffic:
    number: str
    skill: str
    calls_per_hour: float
    aht_seconds: float
    patience_seconds: float | None = None
    priority: Priority = Priority.NORMAL
    overflow_skill: str = ""
    overflow_after: float | None = None


@dataclass(frozen=True)
class AgentGroup:
    count: int
    skills: Mapping[str, int]


@dataclass(frozen=True)
class Scenario:
    lines: tuple[LineTraffic, ...]
    agents: tuple[AgentGroup, ...]
    hours: float = 8.0
    seed: int = 1
    sl_seconds: float = 15.0
    strategy: Strategy = Strategy.LONGEST_IDLE
    wrap_up_seconds: float = 0.0

    @property
    def agent_count(self) -> int:
        return sum(group.count for group in self.agents)


@dataclass
class Tally:
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    within_sl: int = 0
    total_wait: float = 0.0

    def to_json(self) -> dict[str, Any]:
        finished = self.answered + self.abandoned
        return {
            "calls": self.calls,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level": round(self.within_sl / finished, 4) if finished else None,
            "asa_seconds": round(self.total_wait / self.answered, 2) if self.answered else None,
            "abandon_rate": round(self.abandoned / finished, 4) if finished else None,
        }


@dataclass
class Result:
    scenario: Scenario
    overall: Tally = field(default_factory=Tally)
    by_line: dict[str, Tally] = field(default_factory=dict)
    handling_seconds: float = 0.0
    logged_in_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        occupancy = self.handling_seconds / self.logged_in_seconds if self.logged_in_seconds else 0.0
        return {
            **self.overall.to_json(),
            "occupancy": round(occupancy, 4),
            "agents": self.scenario.agent_count,
            "hours": self.scenario.hours,
            "sl_seconds": self.scenario.sl_seconds,
            "strategy": self.scenario.strategy.value,
            "lines": {number: tally.to_json() for number, tally in self.by_line.items()},
        }


def simulate(scenario: Scenario) -> Result:
    rng = random.Random(scenario.seed)
    engine = Engine(Settings(strategy=scenario.strategy, wrap_up_seconds=scenario.wrap_up_seconds))
    number = 0
    for group in scenario.agents:
        for _ in range(group.count):
            number += 1
            account = f"{number:04d}"
            engine.add_agent(account, group.skills)
            engine.login(account, 0.0)
            engine.ready(account, 0.0)
    horizon = scenario.hours * 3600
    result = Result(scenario, by_line={line.number: Tally() for line in scenario.lines})
    events: list[tuple[float, int, str, Any]] = []
    sequence = 0

    def schedule(at: float, kind: str, subject: Any) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, sequence, kind, subject))

    for line in scenario.lines:
        if line.calls_per_hour > 0:
            schedule(rng.expovariate(line.calls_per_hour / 3600), "arrival", line)
    lines_of: dict[str, LineTraffic] = {}
    now = 0.0
    while events:
        now, _, kind, subject = heapq.heappop(events)
        if kind == "arrival":
            line = subject
            call_id = f"c{result.overall.calls}"
            lines_of[call_id] = line
            engine.call_arrived(
                QueuedCall(
                    call_id,
                    line.number,
                    line.skill,
                    now,
                    priority=line.priority,
                    overflow_skill=line.overflow_skill,
                    overflow_after=line.overflow_after,
                )
            )
            result.by_line[line.number].calls += 1
            result.overall.calls += 1
            if line.patience_seconds is not None:
                schedule(now + rng.expovariate(1 / line.patience_seconds), "abandon", call_id)
            if line.overflow_after is not None:
                schedule(now + line.overflow_after, "wake", None)
            following = now + rng.expovariate(line.calls_per_hour / 3600)
            if following < horizon:
                schedule(following, "arrival", line)
        elif kind == "abandon":
            call = engine.calls.get(subject)
            if call is not None and not call.offered_to:
                engine.call_left(subject, now)
                for tally in (result.overall, result.by_line[lines_of[subject].number]):
                    tally.abandoned += 1
        elif kind == "end":
            account, started = subject
            engine.call_ended(account, now)
            result.handling_seconds += now - started + scenario.wrap_up_seconds
            if scenario.wrap_up_seconds:
                schedule(now + scenario.wrap_up_seconds, "wake", None)
        for offer in engine.assign(now):
            call = engine.calls[offer.call_id]
            line = lines_of[offer.call_id]
            wait = now - call.arrived_at
            engine.answered(offer.call_id, offer.account, now)
            for tally in (result.overall, result.by_line[line.number]):
                tally.answered += 1
                tally.total_wait += wait
                tally.within_sl += wait <= scenario.sl_seconds
            schedule(now + rng.expovariate(1 / line.aht_seconds), "end", (offer.account, now))
    end = max(now, horizon)
    result.logged_in_seconds = end * scenario.agent_count
    if engine.calls or any(a.state == AgentState.TALKING for a in engine.agents.values()):
        raise RuntimeError("the simulation ended with calls unfinished")
    return result


def single_skill(
    agents: int,
    calls_per_hour: float,
    aht_seconds: float,
    patience_seconds: float | None = None,
    **options: Any,
) -> Scenario:
    line = LineTraffic("12345", "general", calls_per_hour, aht_seconds, patience_seconds)
    return Scenario(lines=(line,), agents=(AgentGroup(agents, {"general": 5}),), **options)


def load_scenario(path: Path, **overrides: Any) -> Scenario:
    """A TOML file with ``[[lines]]`` and ``[[agents]]`` tables (see docs/routing.md)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    where = str(path)

    def number(table: Mapping[str, Any], key: str, label: str, default: Any = ..., minimum: float = 0) -> Any:
        value = table.get(key, default)
        if value is ...:
            raise ScenarioError(f"{where}: {label} is missing")
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
            raise ScenarioError(f"{where}: {label} must be a number ≥ {minimum}, got {value!r}")
        return value

    lines = []
    for i, table in enumerate(data.get("lines", [])):
        label = f"lines[{i}]"
        try:
            priority = Priority[str(table.get("priority", "normal")).upper()]
        except KeyError:
            names = ", ".join(p.name.lower() for p in Priority)
            raise ScenarioError(f"{where}: {label}.priority must be one of {names}") from None
        patience = table.get("patience_seconds")
        lines.append(
            LineTraffic(
                number=str(table.get("number", f"line{i}")),
                skill=str(table.get("skill", "general")),
                calls_per_hour=number(table, "calls_per_hour", f"{label}.calls_per_hour"),
                aht_seconds=number(table, "aht_seconds", f"{label}.aht_seconds", minimum=1),
                patience_seconds=None
                if patience in (None, "none")
                else number(table, "patience_seconds", label),
                priority=priority,
                overflow_skill=str(table.get("overflow_skill", "")),
                overflow_after=number(table, "overflow_after", f"{label}.overflow_after", None),
            )
        )
    groups = []
    for i, table in enumerate(data.get("agents", [])):
        skills = table.get("skills")
        if not isinstance(skills, dict) or not all(
            isinstance(v, int) and 1 <= v <= 9 for v in skills.values()
        ):
            raise ScenarioError(f"{where}: agents[{i}].skills must map skills to levels 1-9")
        groups.append(AgentGroup(int(number(table, "count", f"agents[{i}].count", minimum=1)), skills))
    if not lines or not groups:
        raise ScenarioError(f"{where}: needs at least one [[lines]] and one [[agents]] table")
    options = {
        key: data[key] for key in ("hours", "seed", "sl_seconds", "wrap_up_seconds") if key in data
    } | {key: value for key, value in overrides.items() if value is not None}
    if "strategy" in data and "strategy" not in options:
        options["strategy"] = data["strategy"]
    if "strategy" in options:
        try:
            options["strategy"] = Strategy(options["strategy"])
        except ValueError:
            raise ScenarioError(f"{where}: strategy must be one of {', '.join(Strategy)}") from None
    return Scenario(lines=tuple(lines), agents=tuple(groups), **options)
