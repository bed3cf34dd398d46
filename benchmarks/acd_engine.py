"""ACD engine decisions under a heavy queue: 5,000 waiting calls, 1,000 agents.

One decision is what the controller does when an agent turns ready: ``assign``
finds the first waiting call that agent may take and offers it. The baseline,
measured in the same run, is the foundation's rule (app_queue's ``leastrecent``:
the agent idle longest) picking among the same 1,000 agents, which knows
nothing of calls, skills or priorities. Latency ratios > 1 mean the engine is that many times slower.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from hotline.acd.engine import Agent, Engine, Priority, QueuedCall

SKILLS = ("general", "12315", "12333", "elderly")


def longest_idle(agents: list[Agent]) -> str:
    """The baseline: the agent idle longest, ties to the lowest account."""
    return min(agents, key=lambda agent: (agent.idle_since, agent.account)).account


def build(agents: int, calls: int, seed: int) -> Engine:
    rng = random.Random(seed)
    engine = Engine()
    for i in range(agents):
        skills = {"general": rng.randint(1, 9)}
        if i % 5 == 0:
            skills[rng.choice(SKILLS[1:])] = rng.randint(5, 9)
        account = f"{i:05d}"
        engine.add_agent(account, skills)
        engine.login(account, 0)
    for i in range(calls):
        arrive(engine, rng, i, float(i))
    return engine


def arrive(engine: Engine, rng: random.Random, number: int, now: float) -> None:
    skill = rng.choices(SKILLS, weights=(80, 10, 5, 5))[0]
    engine.call_arrived(
        QueuedCall(
            f"c{number}",
            "12345",
            skill,
            now,
            priority=rng.choice((Priority.NORMAL,) * 8 + (Priority.ELDERLY, Priority.REPEAT_CALLER)),
            overflow_skill="general" if skill != "general" else "",
            overflow_after=30.0 if skill != "general" else None,
        )
    )


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(agents: int, calls: int, decisions: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    engine = build(agents, calls, seed)
    accounts = sorted(engine.agents)
    latencies, baseline = [], []
    now = float(calls)
    for n in range(decisions):
        now += 0.01
        account = accounts[n % len(accounts)]
        started = time.perf_counter()
        engine.ready(account, now)
        offers = engine.assign(now)
        latencies.append(time.perf_counter() - started)
        for offer in offers:  # keep the queue at its size: answer, hang up, and a new caller arrives
            engine.answered(offer.call_id, offer.account, now)
            engine.call_ended(offer.account, now)
            engine.pause(offer.account, "小休", now)
            arrive(engine, rng, calls + n, now)
        agents = list(engine.agents.values())
        started = time.perf_counter()
        longest_idle(agents)
        baseline.append(time.perf_counter() - started)
    return {
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "decisions_per_second": decisions / sum(latencies),
        "baseline_p50_ms": percentile(baseline, 0.5) * 1000,
        "ratio_p50": percentile(latencies, 0.5) / percentile(baseline, 0.5),
        "ratio_p99": percentile(latencies, 0.99) / percentile(baseline, 0.99),
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    figures = run(args.agents, args.calls, args.decisions, args.seed)
    print(f"ACD engine, {args.calls} waiting calls, {args.agents} agents, {args.decisions} decisions")
    print(f"  agent ready → offer: p50 {figures['p50_ms']:.3f} ms, p99 {figures['p99_ms']:.3f} ms")
    print(f"  throughput: {figures['decisions_per_second']:.0f} decisions/s")
    print(f"  baseline (foundation longest-idle pick, same agents): p50 {figures['baseline_p50_ms']:.3f} ms")
    print(f"  ratio engine/baseline: p50 {figures['ratio_p50']:.2f}, p99 {figures['ratio_p99']:.2f}")


if __name__ == "__main__":
    main()
