"""Speech workers that cannot do their work say so, rather than leaving a caller's text waited for."""

from __future__ import annotations

import pytest

from hotline.speech.workers import SpeechError, VoskWorkers


def test_a_folder_that_is_no_model_is_refused_at_once(tmp_path):
    with pytest.raises(SpeechError, match="not a Vosk model folder"):
        VoskWorkers(tmp_path)


async def test_a_model_that_does_not_load_fails_the_start_and_every_text_asked_for(tmp_path):
    (tmp_path / "conf").mkdir()  # looks like a model, holds none
    workers = VoskWorkers(tmp_path, workers=1)
    try:
        with pytest.raises(SpeechError, match="the model did not load"):
            await workers.warm()
        with pytest.raises(SpeechError):
            await workers.transcribe(tmp_path / "call.wav")
    finally:
        await workers.close()
