"""``hotline simulate``: how a staffing plan and a routing strategy would serve a given load."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hotline.acd.engine import Strategy
from hotline.acd.erlang import erlang_c
from hotline.acd.simulator import Scenario, ScenarioError, load_scenario, simulate, single_skill


def _patience(text: str) -> float | None:
    if text.lower() == "none":
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a number of seconds > 0, or none")
    return value


def _positive(kind: type, allow_zero: bool = False) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"must be {'≥' if allow_zero else '>'} 0, got {text}")
        return value

    return parse


def add_simulate_command(commands: Any) -> None:
    simulate_parser = commands.add_parser(
        "simulate",
        help="simulate a load through the real ACD engine (service level, ASA, abandon rate, occupancy)",
    )
    simulate_parser.add_argument("--agents", type=_positive(int), help="agents logged in (one skill)")
    simulate_parser.add_argument("--calls-per-hour", type=_positive(float))
    simulate_parser.add_argument("--aht", type=_positive(float), help="average handling time, seconds")
    simulate_parser.add_argument(
        "--patience", type=_patience, default=None, help="mean seconds before a caller hangs up, or none"
    )
    simulate_parser.add_argument("--hours", type=_positive(float))
    simulate_parser.add_argument("--seed", type=int)
    simulate_parser.add_argument("--sl-seconds", type=_positive(float), help="service level target (15)")
    simulate_parser.add_argument("--strategy", choices=[s.value for s in Strategy])
    simulate_parser.add_argument(
        "--wrap-up", type=float, dest="wrap_up_seconds", help="seconds after each call"
    )
    simulate_parser.add_argument("--scenario", type=Path, help="a TOML file with many lines and skills")
    simulate_parser.add_argument("--json", action="store_true")


def run_simulate(args: argparse.Namespace) -> int:
    options = {
        "hours": args.hours,
        "seed": args.seed,
        "sl_seconds": args.sl_seconds,
        "strategy": args.strategy,
        "wrap_up_seconds": args.wrap_up_seconds,
    }
    try:
        scenario = _scenario(args, options)
    except ScenarioError as exc:
        print(f"hotline simulate: {exc}", file=sys.stderr)
        return 2
    figures = simulate(scenario).to_json()
    if len(scenario.lines) == 1 and len(scenario.agents) == 1:
        line = scenario.lines[0]
        formula = erlang_c(scenario.agent_count, line.calls_per_hour, line.aht_seconds, scenario.sl_seconds)
        figures["erlang_c"] = {
            "service_level": round(formula.service_level, 4),
            "asa_seconds": round(formula.asa_seconds, 2) if formula.asa_seconds != float("inf") else None,
            "occupancy": round(formula.occupancy, 4),
        }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print(_text(figures))
    return 0


def _scenario(args: argparse.Namespace, options: dict[str, Any]) -> Scenario:
    if args.scenario:
        return load_scenario(args.scenario, **options)
    missing = [
        flag
        for flag, value in (
            ("--agents", args.agents),
            ("--calls-per-hour", args.calls_per_hour),
            ("--aht", args.aht),
        )
        if value is None
    ]
    if missing:
        raise ScenarioError(f"give --scenario FILE, or {', '.join(missing)}")
    chosen = {key: value for key, value in options.items() if value is not None}
    if "strategy" in chosen:
        chosen["strategy"] = Strategy(chosen["strategy"])
    return single_skill(args.agents, args.calls_per_hour, args.aht, args.patience, **chosen)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _text(figures: dict[str, Any]) -> str:
    rows = [
        f"坐席 {figures['agents']} 人，模拟 {figures['hours']} 小时，策略 {figures['strategy']}",
        f"来电 {figures['calls']}，接通 {figures['answered']}，放弃 {figures['abandoned']}",
        f"服务水平（{figures['sl_seconds']:g} 秒内接通）: {_percent(figures['service_level'])}",
        f"平均应答时间: {figures['asa_seconds'] if figures['asa_seconds'] is not None else '-'} 秒",
        f"放弃率: {_percent(figures['abandon_rate'])}",
        f"坐席占用率: {_percent(figures['occupancy'])}",
    ]
    if len(figures["lines"]) > 1:
        for number, line in figures["lines"].items():
            rows.append(
                f"  线路 {number}: 来电 {line['calls']}，服务水平 {_percent(line['service_level'])}，"
                f"平均应答 {line['asa_seconds']} 秒，放弃率 {_percent(line['abandon_rate'])}"
            )
    if "erlang_c" in figures:
        formula = figures["erlang_c"]
        rows.append(
            f"Erlang C 理论值: 服务水平 {_percent(formula['service_level'])}，"
            f"平均应答 {formula['asa_seconds']} 秒，占用率 {_percent(formula['occupancy'])}"
        )
    return "\n".join(rows)
