"""Listen, whisper, barge: the three ways a supervisor joins an agent's call, as Asterisk's ChanSpy does them.

The supervisor's phone is attached to the agent's channel. In 监听 it hears
both sides and says nothing; in 密语 the agent alone hears the supervisor; in
强插 caller and agent both do. ChanSpy's ``d`` option lets the supervisor's
phone switch with keys 4, 5 and 6; the API switches the same way, by making
the phone's channel receive that key.
"""

from __future__ import annotations

from hotline.kernel.api.identity import Labelled


class MonitorMode(Labelled):
    LISTEN = "listen", "监听"
    WHISPER = "whisper", "密语"
    BARGE = "barge", "强插"


#: ChanSpy's option for the mode the supervisor starts in.
START_OPTION = {MonitorMode.LISTEN: "", MonitorMode.WHISPER: "w", MonitorMode.BARGE: "B"}
#: The key that switches ChanSpy (with ``d``) to each mode.
MODE_KEY = {MonitorMode.LISTEN: "4", MonitorMode.WHISPER: "5", MonitorMode.BARGE: "6"}
MODE_OF_KEY = {key: mode for mode, key in MODE_KEY.items()}
#: Quiet (no beep, no channel name spoken), keys switch modes, and leave when the agent's channel ends.
BASE_OPTIONS = "qdE"


def chanspy_options(mode: MonitorMode) -> str:
    return BASE_OPTIONS + START_OPTION[mode]
