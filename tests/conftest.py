"""The suite's order: the longest tests first, so the workers (pytest-xdist) are busy to the end and finish
together instead of one running a long lab test alone; and each run's times, to order the next by.

A fresh clone orders by tests/durations.json (committed); a checkout learns from its own runs
(var/test-durations.json, merged over it). `make durations` copies what was learned into the committed file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

COMMITTED = Path(__file__).with_name("durations.json")
LEARNED = Path(__file__).resolve().parents[1] / "var" / "test-durations.json"
#: A test not timed yet counts as long as a typical one of its tier.
GUESSES = {"lab": 40.0, "deploy": 30.0, "integration": 1.0, "unit": 0.05}

_times: dict[str, float] = {}


def known_durations() -> dict[str, float]:
    known: dict[str, float] = {}
    for source in (COMMITTED, LEARNED):
        if source.exists():
            known.update(json.loads(source.read_text(encoding="utf-8")))
    return known


def test_name(nodeid: str) -> str:
    """The test's id without the group xdist appends to it (``…::test_x@wheel``)."""
    return nodeid.partition("@")[0]


def guess(name: str) -> float:
    parts = name.split("/")
    return GUESSES.get(parts[1], 1.0) if len(parts) > 2 else 1.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every worker sorts the same collection the same way (xdist requires it): the lab tier first, then
    by time, then by name. The lab's tests mostly wait on calls, but their audio and live speech-to-text
    keep time: run beside the CPU-bound property tests on two cores, a live transcript fell behind."""
    known = known_durations()

    def longest_first(item: pytest.Item) -> tuple[bool, float, str]:
        name = test_name(item.nodeid)
        return not name.startswith("tests/lab/"), -known.get(name, guess(name)), name

    items.sort(key=longest_first)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Setup, call and teardown together: a lab test's controller starts and stops in its fixtures."""
    name = test_name(report.nodeid)
    _times[name] = _times.get(name, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or not _times:
        return  # a worker: the controller process hears every worker's reports and writes once
    learned = json.loads(LEARNED.read_text(encoding="utf-8")) if LEARNED.exists() else {}
    learned.update({nodeid: round(seconds, 2) for nodeid, seconds in _times.items()})
    LEARNED.parent.mkdir(exist_ok=True)
    LEARNED.write_text(json.dumps(learned, indent=0, sort_keys=True) + "\n", encoding="utf-8")
