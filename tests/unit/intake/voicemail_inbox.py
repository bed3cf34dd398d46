"""A voicemail inbox as Asterisk's app_voicemail leaves it: a message's information file and its audio."""

from __future__ import annotations

from pathlib import Path

#: What Asterisk 22's app_voicemail writes beside each message.
INFO = """;
; Message Information file
;
[message]
origmailbox=12345
context=hotline-voicemail
macrocontext=
exten=12345
rdnis=unknown
priority=3
callerchan=PJSIP/carrier-00000003
callerid="张三" <13800138000>
origdate=Wed Dec  2 02:41:15 PM UTC 2026
origtime=1796222475
category=
msg_id=1796222475-00000001
flag=
duration=9
"""


def leave(inbox: Path, slot: str = "msg0000", info: str = INFO, audio: bool = True) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f"{slot}.txt").write_text(info, encoding="utf-8")
    if audio:
        (inbox / f"{slot}.wav").write_bytes(b"RIFF....WAVE")
    return inbox / f"{slot}.txt"
