"""The lab's legacy hotlines answer a call from the system and record what they hear."""

import asyncio
import wave

import pytest

from hotline.ivr.prompts import prompt_path
from hotline.kernel.asterisk.ami import AmiClient
from hotline.recordings.files import rms_dbfs


@pytest.mark.parametrize("number", ["12315", "110"])
async def test_a_legacy_line_answers_and_records_the_system(lab, settings, number):
    recordings = lab.root / lab.pstn_recordings_dir().lstrip("/")
    before = set(recordings.glob(f"line-{number}-*.wav"))
    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)
    await ami.connect()
    try:
        prompt = prompt_path(settings.prompts_dir, "connecting")
        result = await ami.originate(
            {
                "Channel": f"PJSIP/{number}@carrier",
                "Application": "Playback",
                "Data": prompt,
                "Timeout": "10000",
            },
            timeout=20,
        )
        assert result["Response"] == "Success"
    finally:
        await ami.close()
    async with asyncio.timeout(20):
        while (level := finished_level(set(recordings.glob(f"line-{number}-*.wav")) - before)) is None:
            await asyncio.sleep(0.2)
    assert level > -45, f"{number} recorded silence"


def finished_level(new_files: set) -> float | None:
    """Loudness of the new recording once MixMonitor has closed it (the header comes last)."""
    for path in new_files:
        try:
            return rms_dbfs(path)
        except (wave.Error, EOFError):
            return None
    return None
