"""``hotline lab up|down|status``: the chroot, Redis, and the two Asterisk instances."""

from __future__ import annotations

import contextlib
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

from hotline.asterisk_system import CONF_DIR, INSTANCE_FILES, agents_at_start, render_system
from hotline.ivr.menu import load_menu
from hotline.ivr.prompts import SPEECH_VERSION, prompt_texts, synthesize
from hotline.kernel.asterisk.conf import render_tree
from hotline.lab.chroot import chroot_path, ensure_chroot, is_ready
from hotline.lab.instances import AsteriskInstance, InstanceError, run_in_chroot
from hotline.lab.network import clear_silences
from hotline.lab.ports import Port, describe_holders, holders, is_free, is_listening
from hotline.lab.processes import ManagedProcess
from hotline.lab.settings import LabSettings
from hotline.plans import carrier_trunks

PSTN_DIR = Path(__file__).resolve().parent / "pstn"
HOTLINES = ("12315", "12333", "12329", "110", "119", "120")
PSTN_SOUNDS = {
    **{f"line-{number}": f"您好，这里是{number}。" for number in HOTLINES},
    "phone-greeting": "您好，12345热线，请讲。",
}
Log = Callable[[str], None]


class LabError(RuntimeError):
    """The lab could not be brought up; the message says what failed."""


class Lab:
    def __init__(self, settings: LabSettings, log: Log = print) -> None:
        self.settings = settings
        self.log = log
        self.state_dir = (settings.home / "lab").resolve()
        self.root = chroot_path(settings.chroot_cache)

    # -- parts ---------------------------------------------------------------

    @property
    def sut(self) -> AsteriskInstance:
        return AsteriskInstance("sut", self.root, self.settings.asterisk_instance_dir, self.state_dir)

    @property
    def pstn(self) -> AsteriskInstance:
        return AsteriskInstance("pstn", self.root, self.settings.pstn_instance_dir, self.state_dir)

    @property
    def redis(self) -> ManagedProcess:
        s = self.settings
        data = (s.home / "redis").resolve()
        argv = (
            "redis-server",
            "--bind",
            s.bind_host,
            "--port",
            str(s.redis_port),
            "--dir",
            str(data),
            # Agent states, callbacks' places and the event history survive a Redis restart: every write
            # is in the append-only file within a second.
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--protected-mode",
            "yes",
        )
        return ManagedProcess("redis", argv, self.state_dir, f":{s.redis_port}")

    def pstn_sounds_dir(self) -> str:
        return f"{self.settings.pstn_instance_dir}/sounds/hotline"

    def pstn_recordings_dir(self) -> str:
        return f"{self.settings.pstn_instance_dir}/recordings"

    def run(self, argv: list[str]) -> None:
        result = run_in_chroot(self.root, argv)
        if result.returncode != 0:
            raise LabError(f"{argv[0]} failed in the chroot: {result.stderr.strip()}")

    # -- lifecycle -----------------------------------------------------------

    def up(self) -> list[str]:
        """Start whatever is not running; returns the names of what this call started.

        Every port is checked before anything starts and every listener after; on any
        failure, what this call started is stopped again: a half-started lab is never
        handed on.
        """
        if shutil.which("redis-server") is None:
            raise LabError("redis-server is not installed (apt-get install redis-server)")
        ensure_chroot(self.settings.chroot_cache, log=self.log)
        started: list[str] = []
        try:
            self._check_ports_before_start()
            for table in clear_silences((self.settings.carrier_port, self.settings.pstn_backup_trunk_port)):
                self.log(f"removed {table}, left by a run that was killed")
            (self.settings.home / "redis").mkdir(parents=True, exist_ok=True)
            if self.redis.start():
                started.append("redis")
            wait_for_port(self.settings.bind_host, self.settings.redis_port, "redis")
            # The phones' contacts live in the system Asterisk's astdb: kept while the phones run on,
            # as a deployment keeps them; wiped when everything starts anew.
            phones_running = self.pstn.process.pid() is not None
            for instance, render, keep_contacts in (
                (self.sut, self._render_sut, phones_running),
                (self.pstn, self._render_pstn, False),
            ):
                fresh = instance.process.pid() is None
                instance.prepare(render, fresh, keep_contacts)
                if fresh:
                    self.log(f"starting asterisk {instance.name}")
                    instance.process.start()
                    started.append(f"asterisk-{instance.name}")
                else:
                    instance.cli("core reload")
            self._speak_prompts()
            for instance in (self.sut, self.pstn):
                instance.wait_booted()
            self._check_listeners()
            self.wait_for_phones()
        except BaseException:
            stopped = self.stop(started)
            if stopped:
                self.log(f"lab up failed; stopped {', '.join(stopped)}")
            raise
        return started

    def promised_ports(self) -> dict[str, tuple[Port, ...]]:
        """Each lab process's listeners, and the controller's (which `hotline serve` opens)."""
        s = self.settings
        return {
            "redis": (Port("Redis", "tcp", s.redis_port),),
            "asterisk-sut": (Port("system AMI", "tcp", s.ami_port), Port("system SIP", "udp", s.sip_port)),
            "asterisk-pstn": (
                Port("PSTN AMI", "tcp", s.pstn_ami_port),
                Port("PSTN carrier trunk SIP", "udp", s.carrier_port),
                Port("PSTN backup trunk SIP", "udp", s.pstn_backup_trunk_port),
                Port("PSTN phones SIP", "udp", s.pstn_phone_port),
            ),
            "controller": (
                Port("FastAGI", "tcp", s.fastagi_port),
                Port("AudioSocket", "tcp", s.audiosocket_port),
                Port("web", "tcp", s.web_port),
                Port("mail (SMTP)", "tcp", s.smtp_port),
            ),
        }

    def _check_ports_before_start(self) -> None:
        """A process about to start needs its ports free; the controller's may be held by a controller."""
        running = {p.name: p.pid() for p in self._processes()}
        for owner, ports in self.promised_ports().items():
            if running.get(owner) is not None:
                continue
            for port in ports:
                if owner == "controller" and _held_by_a_controller(port):
                    continue
                if not self._free_soon(port):
                    raise LabError(
                        f"port {port} on {self.settings.bind_host} is held by "
                        f"{describe_holders(port.number, port.proto)}; {owner} needs it"
                    )

    def _free_soon(self, port: Port, seconds: float = 5.0) -> bool:
        """Whether ``port`` is free, or frees itself: a process killed a moment ago may still be
        releasing its sockets after its pid is gone, and then nothing holds the port."""
        deadline = time.monotonic() + seconds
        while not is_free(self.settings.bind_host, port):
            if holders(port.number, port.proto) or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _check_listeners(self) -> None:
        """Asterisk logs a failed bind and runs on: make sure each process holds what it promised."""
        for process in self._processes():
            pid = process.pid()
            if pid is None:
                raise LabError(f"{process.name} is not running; see {process.log_file}")
            for port in self.promised_ports()[process.name]:
                deadline = time.monotonic() + 5
                while not is_listening(pid, port):
                    if time.monotonic() > deadline:
                        raise LabError(
                            f"{process.name} (pid {pid}) is not listening on {port}: held by "
                            f"{describe_holders(port.number, port.proto)}"
                        )
                    time.sleep(0.05)

    def down(self) -> list[str]:
        return self.stop([p.name for p in self._processes()])

    def stop(self, names: list[str]) -> list[str]:
        """Stop the named processes, phones' side first; returns what was running."""
        return [p.name for p in self._processes() if p.name in names and p.stop()]

    def _processes(self) -> tuple[ManagedProcess, ...]:
        return (self.pstn.process, self.sut.process, self.redis)

    def status(self) -> dict[str, object]:
        s = self.settings
        processes = {p.name: p.pid() for p in self._processes()}
        tcp = {
            "sut_ami": s.ami_port,
            "pstn_ami": s.pstn_ami_port,
            "fastagi": s.fastagi_port,
            "audiosocket": s.audiosocket_port,
            "smtp": s.smtp_port,
            "redis": s.redis_port,
            "web": s.web_port,
        }
        return {
            "chroot": {"path": str(self.root), "ready": is_ready(self.root)},
            "processes": {name: {"running": pid is not None, "pid": pid} for name, pid in processes.items()},
            "ports": {
                **{
                    name: {"port": port, "proto": "tcp", "listening": port_open(s.bind_host, port)}
                    for name, port in tcp.items()
                },
                "sut_sip": {"port": s.sip_port, "proto": "udp"},
                "pstn_trunk_sip": {"port": s.carrier_port, "proto": "udp"},
                "pstn_backup_trunk_sip": {"port": s.pstn_backup_trunk_port, "proto": "udp"},
                "pstn_phone_sip": {"port": s.pstn_phone_port, "proto": "udp"},
            },
            "host": s.bind_host,
            "agents": list(s.agents),
            "supervisors": list(s.supervisors),
            "lab_phones": list(s.lab_phones),
        }

    def wait_for_phones(self, timeout: float = 30) -> None:
        """Outbound registrations start 1-10 s after boot: wait for the contacts, not a fixed time."""
        deadline = time.monotonic() + timeout
        missing: list[str] = list(self.settings.lab_phones)
        while time.monotonic() < deadline:
            contacts = self.sut.cli("pjsip show contacts")
            missing = [p for p in self.settings.lab_phones if f" {p}/sip:{p}@" not in contacts]
            if not missing:
                return
            time.sleep(0.3)
        raise LabError(f"lab phones not registered to the system after {timeout}s: {', '.join(missing)}")

    # -- rendering -----------------------------------------------------------

    def _render_sut(self, out_dir: Path) -> None:
        # The agent table's seats too: a seat added through the API registers as soon as Asterisk is up.
        render_system(self.settings, out_dir, agents=agents_at_start(self.settings))

    def _render_pstn(self, out_dir: Path) -> None:
        s = self.settings
        context = {
            "system_name": "pstn",
            "instance_dir": s.pstn_instance_dir,
            "bind_host": s.bind_host,
            "rtp_start": s.pstn_rtp_start,
            "rtp_end": s.pstn_rtp_end,
            "ami_port": s.pstn_ami_port,
            "ami_user": "lab",
            "ami_secret": s.pstn_ami_secret,
            "ami_permit": s.ami_permit,
            "trunk_port": s.carrier_port,
            "backup_trunk_port": s.pstn_backup_trunk_port,
            "phone_port": s.pstn_phone_port,
            "sut_host": s.bind_host,
            "sut_port": s.sip_port,
            # The phones' side logs in, so it holds the passwords themselves.
            "phones": [{"name": p, "password": s.password_for(p)} for p in s.lab_phones],
            # As a carrier's registrar, it challenges each registering trunk for the password it was given.
            "customers": [trunk for trunk in carrier_trunks(s) if trunk.registers],
            "hotlines": HOTLINES,
            "recordings_dir": self.pstn_recordings_dir(),
            "sounds_dir": self.pstn_sounds_dir(),
        }
        names = [p.name for p in PSTN_DIR.glob("*.conf")] + list(INSTANCE_FILES)
        render_tree([PSTN_DIR, CONF_DIR], names, context, out_dir)

    def _speak_prompts(self) -> None:
        """Synthesise prompts once; a changed text is synthesised again."""
        targets = [
            (self.settings.prompts_dir, prompt_texts(load_menu(self.settings.ivr_menu))),
            (self.pstn_sounds_dir(), PSTN_SOUNDS),
        ]
        for directory, texts in targets:
            for name, text in texts.items():
                self.speak(text, f"{directory}/{name}")

    def speak(self, text: str, target: str) -> None:
        """``target.wav`` (a path inside the chroot) says ``text``, cached by a stamp file."""
        stamp = self.root / f"{target.lstrip('/')}.txt"
        key = f"{SPEECH_VERSION}\n{text}"
        if stamp.exists() and stamp.read_text(encoding="utf-8") == key:
            return
        synthesize(text, target, self.run)
        stamp.write_text(key, encoding="utf-8")


def _held_by_a_controller(port: Port) -> bool:
    for pid in holders(port.number, port.proto, listening_only=True):
        with contextlib.suppress(OSError):
            if b"hotline" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
    return False


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise InstanceError(f"{what} is not listening on {host}:{port} after {timeout}s")
