"""Which lab a pytest process owns, so workers (pytest-xdist) and checkouts run side by side."""

from __future__ import annotations

import os


def lab_number() -> int:
    """The xdist worker's index (0 when pytest runs alone), plus HOTLINE_TEST_LABS_FROM: a second checkout
    testing on the same host sets that past the first one's workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(os.environ.get("HOTLINE_TEST_LABS_FROM", "0")) + int(worker.removeprefix("gw"))
