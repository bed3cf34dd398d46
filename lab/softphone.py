"""A real softphone for the lab: baresip in the chroot, registered to the system as one agent.

It answers every call by itself, sends a 440 Hz tone and writes what it hears
to a WAV file, so a test can tell that a caller's audio reached the agent.
Everything binds to loopback (baresip's defaults would open 0.0.0.0 consoles).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline.lab.processes import ManagedProcess

CONFIG = """\
poll_method\tepoll
sip_listen\t127.0.0.1:{sip_port}
net_interface\t127.0.0.1
audio_source\taufile,{home}/tone.wav
audio_player\taufile,{home}/heard.wav
audio_alert\taufile,{home}/alert.wav
module_path\t/usr/lib/baresip/modules
module\tg711.so
module\taufile.so
module_tmp\taccount.so
module_app\tmenu.so
"""


@dataclass(frozen=True)
class Softphone:
    root: Path  # the chroot
    account: str
    password: str
    registrar: str  # host:port of the system's SIP transport
    sip_port: int
    state_dir: Path

    @property
    def home(self) -> str:
        """The phone's folder as baresip (inside the chroot) sees it; by port, as phones of labs side by side
        may share an account."""
        return f"/tmp/hotline-softphone-{self.sip_port}"

    @property
    def host_home(self) -> Path:
        return self.root / self.home.lstrip("/")

    @property
    def heard(self) -> Path:
        return self.host_home / "heard.wav"

    @property
    def process(self) -> ManagedProcess:
        argv = ("chroot", str(self.root), "baresip", "-f", self.home)
        return ManagedProcess(f"softphone-{self.account}", argv, self.state_dir, self.home)

    def start(self) -> None:
        shutil.rmtree(self.host_home, ignore_errors=True)
        self.host_home.mkdir(parents=True)
        (self.host_home / "config").write_text(CONFIG.format(sip_port=self.sip_port, home=self.home))
        (self.host_home / "accounts").write_text(
            f"<sip:{self.account}@{self.registrar}>;auth_pass={self.password};"
            "answermode=auto;regint=60;audio_codecs=PCMA,PCMU\n"
        )
        tone = subprocess.run(
            [
                "chroot",
                str(self.root),
                "sox",
                "-n",
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                f"{self.home}/tone.wav",
                "synth",
                "120",
                "sine",
                "440",
                "vol",
                "0.3",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if tone.returncode != 0:
            raise RuntimeError(f"sox could not make the softphone's tone: {tone.stderr}")
        self.process.start()

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.host_home, ignore_errors=True)
