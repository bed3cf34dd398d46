"""Speech-to-text wired from the core: a waiting caller's words streamed in over AudioSocket, and each
call's words written down after it by workers of their own (neither without a model)."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from pathlib import Path

from hotline.kernel.asterisk.audiosocket import AudioSocketServer, ChannelTaps
from hotline.kernel.asterisk.refusals import Refusal
from hotline.kernel.wiring import Deps, Plugin, Server
from hotline.speech.transcripts import Transcripts
from hotline.speech.workers import VoskWorkers


@dataclasses.dataclass(frozen=True)
class Speech:
    transcripts: Transcripts
    #: Each call's directions written down after it (None: not at all).
    call_words: VoskWorkers | None
    plugin: Plugin


def setup(deps: Deps) -> Speech:
    settings = deps.settings

    def refused(refusal: Refusal) -> None:
        deps.outbox.announce({"type": "security.audiosocket_refused", **asdict(refusal)})

    audiosocket = AudioSocketServer(settings.bind_host, settings.audiosocket_port, on_refused=refused)
    taps = ChannelTaps(deps.ami, audiosocket, f"{settings.controller_host}:{settings.audiosocket_port}")
    model = Path(settings.stt_model) if settings.stt_model else None
    transcripts = Transcripts(
        VoskWorkers(model, settings.stt_workers) if model else None, settings.host_path, tap=taps.tap
    )
    call_words = (
        VoskWorkers(model, settings.stt_call_workers) if model and settings.stt_call_workers else None
    )

    async def close_call_words() -> None:
        if call_words is not None:
            await call_words.close()

    plugin = Plugin(
        "speech",
        servers=[Server("AudioSocket", settings.audiosocket_port, audiosocket.start)]
        if transcripts.enabled
        else [],
        tasks=[("speech-to-text-warm-up", transcripts.warm)],
        stop=[
            ("speech-to-text", transcripts.close),
            ("callers' words streaming in", audiosocket.close),
            ("calls being written down", close_call_words),
        ],
    )
    return Speech(transcripts, call_words, plugin)
