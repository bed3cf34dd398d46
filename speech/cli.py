"""``hotline stt transcribe FILE.wav``: what the configured model hears in a file, and how fast."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hotline.speech.workers import SpeechError, Transcript, VoskWorkers


def add_stt_commands(commands: Any) -> None:
    stt = commands.add_parser("stt", help="speech-to-text: check a model on a recording")
    sub = stt.add_subparsers(dest="stt_command", required=True)
    transcribe = sub.add_parser("transcribe", help="print the transcript and the real-time factor")
    transcribe.add_argument("file", type=Path, help="a 16-bit mono WAV file")
    transcribe.add_argument("--model", type=Path, help="a Vosk model folder (default: HOTLINE_STT_MODEL)")
    transcribe.add_argument("--json", action="store_true", help="one JSON object instead of text")


def run_stt(args: argparse.Namespace, model: str) -> int:
    path = args.model or (Path(model) if model else None)
    if path is None:
        print("hotline stt: no model: give --model or set HOTLINE_STT_MODEL", file=sys.stderr)
        return 2
    try:
        transcript = asyncio.run(_transcribe(path, args.file))
    except SpeechError as exc:
        print(f"hotline stt: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(transcript.as_json(), ensure_ascii=False))
    else:
        print(transcript.text)
        print(
            f"{transcript.audio_seconds:.1f} s of audio in {transcript.compute_seconds:.1f} s: "
            f"real-time factor {transcript.real_time_factor:.2f}",
            file=sys.stderr,
        )
    return 0


async def _transcribe(model: Path, file: Path) -> Transcript:
    workers = VoskWorkers(model, workers=1)
    try:
        return await workers.transcribe(file)
    finally:
        await workers.close()
