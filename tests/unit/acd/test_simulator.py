"""The simulator against Erlang C, its determinism, scenarios and ``hotline simulate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.acd.engine import Strategy
from hotline.acd.erlang import erlang_c
from hotline.acd.simulator import ScenarioError, load_scenario, simulate, single_skill
from hotline.cli import main

SCENARIO = Path(__file__).parents[3] / "acd" / "scenarios" / "city-day.toml"


@pytest.mark.parametrize(("agents", "calls_per_hour", "aht"), [(10, 160, 180), (3, 40, 200)])
def test_one_fifo_queue_reproduces_erlang_c(agents: int, calls_per_hour: float, aht: float) -> None:
    """Four independent days of 1,000 hours, averaged: service level within 1.5 points, ASA within 8 %,
    occupancy within 1 point (a single 1,000-hour run varies by about 0.7 points and 5 % ASA at 80 % load)."""
    formula = erlang_c(agents, calls_per_hour, aht, 15)
    runs = [
        simulate(single_skill(agents, calls_per_hour, aht, hours=1000, seed=seed)).to_json()
        for seed in range(4)
    ]

    def mean(key: str) -> float:
        return sum(run[key] for run in runs) / len(runs)

    assert mean("service_level") == pytest.approx(formula.service_level, abs=0.015)
    assert mean("asa_seconds") == pytest.approx(formula.asa_seconds, rel=0.08)
    assert mean("occupancy") == pytest.approx(formula.occupancy, abs=0.01)
    assert all(run["abandoned"] == 0 and run["answered"] == run["calls"] for run in runs)


def test_erlang_c_known_values_and_an_overloaded_centre() -> None:
    # 10 agents, 8 Erlangs: the textbook P(wait) is 40.9 %.
    assert erlang_c(10, 160, 180, 15).wait_probability == pytest.approx(0.4092, abs=1e-4)
    overloaded = erlang_c(5, 200, 180, 15)
    assert overloaded.service_level == 0 and overloaded.asa_seconds == float("inf")


def test_the_same_seed_gives_the_same_day_and_impatient_callers_hang_up() -> None:
    plan = single_skill(4, 100, 180, patience_seconds=60, hours=8, seed=3)
    first, again = simulate(plan).to_json(), simulate(plan).to_json()
    assert first == again
    assert first != simulate(single_skill(4, 100, 180, patience_seconds=60, hours=8, seed=4)).to_json()
    assert 0 < first["abandon_rate"] < 1 and first["answered"] + first["abandoned"] == first["calls"]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_strategy_serves_every_call(strategy: Strategy) -> None:
    figures = simulate(
        single_skill(5, 80, 180, hours=4, seed=1, strategy=strategy, wrap_up_seconds=10)
    ).to_json()
    assert figures["answered"] == figures["calls"] > 0


def test_a_scenario_with_a_kept_number_and_an_elderly_line() -> None:
    figures = simulate(load_scenario(SCENARIO)).to_json()
    lines = figures["lines"]
    assert set(lines) == {"12345", "12315", "12345-elderly"}
    assert sum(line["calls"] for line in lines.values()) == figures["calls"]
    assert lines["12345-elderly"]["asa_seconds"] < lines["12345"]["asa_seconds"], (
        "the elderly line goes first"
    )


def test_bad_scenarios_name_the_field(tmp_path: Path) -> None:
    for text, message in [
        ("[[agents]]\ncount = 1\nskills = {general = 5}\n", "at least one"),
        (
            "[[lines]]\ncalls_per_hour = -1\naht_seconds = 60\n[[agents]]\ncount=1\nskills={general=5}",
            "calls_per_hour",
        ),
        ('[[lines]]\ncalls_per_hour = 1\naht_seconds = 60\npriority="vip"\n', "priority"),
        (
            "[[lines]]\ncalls_per_hour = 1\naht_seconds = 60\n[[agents]]\ncount=1\nskills={general=12}",
            "levels 1-9",
        ),
        (
            'strategy = "random"\n[[lines]]\ncalls_per_hour=1\naht_seconds=60\n'
            "[[agents]]\ncount=1\nskills={a=1}",
            "strategy",
        ),
        ("not toml [", "scenario.toml"),
    ]:
        path = tmp_path / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ScenarioError, match=message):
            load_scenario(path)


def test_hotline_simulate_prints_json_and_chinese_text(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(tmp_path / "hotline.env"))
    argv = ["simulate", "--agents", "10", "--calls-per-hour", "160", "--aht", "180", "--hours", "50"]
    assert main([*argv, "--patience", "none", "--seed", "2", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert {"service_level", "asa_seconds", "abandon_rate", "occupancy", "calls"} <= set(figures)
    assert figures["erlang_c"]["service_level"] == pytest.approx(0.6536, abs=1e-4)
    assert main([*argv, "--sl-seconds", "20", "--strategy", "least-talk"]) == 0
    out = capsys.readouterr().out
    assert "服务水平（20 秒内接通）" in out and "Erlang C" in out
    assert main(["simulate", "--scenario", str(SCENARIO), "--hours", "1"]) == 0
    assert "线路 12315" in capsys.readouterr().out
    assert main(["simulate", "--aht", "60"]) == 2
    assert "--agents" in capsys.readouterr().err
