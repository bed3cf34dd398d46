"""Runs the controller under tracemalloc and writes where its memory grows.

``python -m benchmarks.memory_trace OUT SECONDS serve`` is ``hotline serve``
with Python's allocation tracer on: after a first snapshot taken once the
controller has warmed up, every SECONDS it writes to OUT the source lines whose
live allocations grew most since that snapshot. A leak shows as a line that keeps
growing from report to report; a cache that fills and stops does not. The soak
starts the controller this way with ``--trace-memory``.
"""

from __future__ import annotations

import sys
import threading
import time
import tracemalloc
from pathlib import Path

from hotline.cli import main as hotline_main

FRAMES = 6
TOP = 25


def report_growth(out: Path, every: float) -> None:
    time.sleep(every)  # the warm-up: imports, pools and caches filled
    first = tracemalloc.take_snapshot()
    started = time.monotonic()
    while True:
        time.sleep(every)
        now = tracemalloc.take_snapshot()
        grown = now.compare_to(first, "traceback")
        traced, peak = tracemalloc.get_traced_memory()
        lines = [
            f"# {(time.monotonic() - started) / 60:.1f} min after the first snapshot: Python's live "
            f"allocations {sum(s.size_diff for s in grown) / 1024:+.1f} KiB in all "
            f"(now {traced / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB)"
        ]
        for stat in grown[:TOP]:
            lines.append(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            lines.extend(f"    {line}" for line in stat.traceback.format()[-2 * FRAMES :])
        with out.open("a") as file:
            file.write("\n".join(lines) + "\n\n")


def main() -> int:
    out, every, *argv = sys.argv[1:]
    tracemalloc.start(FRAMES)
    threading.Thread(target=report_growth, args=(Path(out), float(every)), daemon=True).start()
    return hotline_main(argv)


if __name__ == "__main__":
    sys.exit(main())
