"""``hotline lab …``, ``hotline run`` and ``hotline call``: the lab's own commands.

Registered through the ``hotline.commands`` entry point, so the engine's CLI
lists them while no runtime module imports the lab.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from hotline.cli import serve
from hotline.controller import Controller
from hotline.kernel.runtime.config import Settings, config_file_path
from hotline.lab.caller import CallError, CallPlan, PlacedCall, call_and_hold
from hotline.lab.chroot import ChrootError, ensure_chroot, is_ready
from hotline.lab.lab import Lab, LabError
from hotline.lab.settings import LabSettings, load_lab_settings

#: The README's first call, word for word: a supervisor's token, the lab's phone 1001 signed in and ready
#: (nobody is on a fresh start, and the call would go to voicemail), then the call (tests hold them alike).
SUPERVISOR_TOKEN = "BOSS=$(.venv/bin/hotline users add 李班长 --role supervisor)"
SIGN_IN_1001 = 'curl -X POST -H "Authorization: Bearer $BOSS" {web}/api/agents/1001/ready'
TRY_A_CALL = (
    ".venv/bin/hotline call --from 13800138000 --name 张三 --to 12345 --dtmf 1 "
    "--say \"楼下饭店油烟很大，影响休息\" --end-key '#' --hold 60"
)


def register(commands: Any) -> None:
    """Add the lab's commands to the ``hotline`` parser. The CLI hands each the system's settings; they load
    the lab's instead (``load_lab_settings``: the system's and the lab's own, from the same file)."""
    commands.add_parser(
        "run", help="bring up the lab, then serve; Ctrl-C stops what it started"
    ).set_defaults(handler=cmd_run)
    lab = commands.add_parser("lab", help="the two-Asterisk lab in a sid chroot")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True)
    lab_commands.add_parser("build", help="build (or reuse) the Asterisk chroot")
    lab_commands.add_parser("up")
    lab_commands.add_parser("down")
    status = lab_commands.add_parser("status")
    status.add_argument("--json", action="store_true")
    lab.set_defaults(handler=cmd_lab)

    call = commands.add_parser("call", help="place a real call from the lab's PSTN")
    call.add_argument("--from", dest="caller_number", required=True)
    call.add_argument("--name", default="", help="caller name, e.g. 张三")
    call.add_argument("--to", default="12345")
    call.add_argument("--dtmf", default="", help="keys to press once answered")
    call.add_argument("--say", default="", help="Mandarin text to speak (espeak-ng)")
    call.add_argument("--wav", type=Path, help="a WAV file to play instead of --say")
    call.add_argument("--hold", type=int, default=60, help="seconds to stay on the line")
    call.add_argument("--dtmf-after", type=float, default=3.0, help="seconds after answer before the keys")
    call.add_argument(
        "--say-after",
        type=float,
        default=9.0,
        help="seconds after the keys before speaking (with no speech, before the end key)",
    )
    call.add_argument("--end-key", default="", help="a key to press after speaking, e.g. '#'")
    call.add_argument("--tone", type=int, default=None, help="then speak as a steady tone of this many Hz")
    call.set_defaults(handler=cmd_call)


def cmd_run(args: argparse.Namespace, _system: Settings) -> int:
    lab = Lab(load_lab_settings(), log=lambda line: print(line, flush=True))
    settings = dataclasses.replace(lab.settings, asterisk_root=lab.root)
    first_time = "" if is_ready(lab.root) else " (first time: builds the chroot, about a minute)"
    print(f"hotline: bringing up Redis and Asterisk{first_time}", flush=True)
    # Processes a crashed run left behind are adopted: this run stops them too.
    lab.up()
    try:
        asyncio.run(serve(settings, on_serving=lambda controller: print_summary(settings, controller)))
    finally:
        stopped = lab.down()
        if stopped:
            print(f"hotline: stopped {', '.join(stopped)}")
    return 0


def print_summary(settings: LabSettings, controller: Controller) -> None:
    """What runs where, once the controller listens: the agents are the agent table's (seats added through
    the API too), AudioSocket is named only when it listens (speech-to-text on)."""
    host = settings.bind_host
    web = f"http://{host}:{settings.web_port}"
    audiosocket = (
        f"   AudioSocket tcp {host}:{settings.audiosocket_port}"
        if controller.speech.transcripts.enabled
        else ""
    )
    agents = ", ".join(sorted(controller.agents.roster.active_skills()))
    print(
        f"""
hotline is running (all on {host}):
  web            {web}/healthz   events: ws://{host}:{settings.web_port}/api/events
  wallboard      {web}/wallboard   (log in with a supervisor's token, made below)
  SIP (agents)   udp {host}:{settings.sip_port}
  AMI            tcp {host}:{settings.ami_port}   FastAGI tcp {host}:{settings.fastagi_port}{audiosocket}
  Redis          tcp {host}:{settings.redis_port}
  mail (SMTP)    tcp {host}:{settings.smtp_port}   to {", ".join(settings.mail_addresses)}: tickets
  lab PSTN       trunks udp {host}:{settings.carrier_port}, {settings.pstn_backup_trunk_port}
                 phones udp {host}:{settings.pstn_phone_port}
  agent accounts {agents} (lab phones use {", ".join(settings.lab_phones)})
  supervisors    {", ".join(settings.supervisors)}
  passwords      HOTLINE_PASSWORD_<account> in {config_file_path({}).resolve()}; a seat added through the API
                 has its own, shown once in the reply that made it
a supervisor's token, printed alone and only once (nobody is signed in yet, so sign in the lab's phone 1001):
  {SUPERVISOR_TOKEN}
  {SIGN_IN_1001.format(web=web)}
try a call:  {TRY_A_CALL}
Ctrl-C stops what this command started.
""",
        flush=True,
    )


def cmd_lab(args: argparse.Namespace, _system: Settings) -> int:
    lab = Lab(load_lab_settings(), log=lambda line: print(line, file=sys.stderr, flush=True))
    try:
        if args.lab_command == "build":
            print(ensure_chroot(lab.settings.chroot_cache, log=lab.log))
        elif args.lab_command == "up":
            started = lab.up()
            print(f"lab up: started {', '.join(started) or 'nothing (already running)'}")
        elif args.lab_command == "down":
            stopped = lab.down()
            print(f"lab down: stopped {', '.join(stopped) or 'nothing'}")
        elif args.json:
            print(json.dumps(lab.status(), ensure_ascii=False, indent=2))
        else:
            status = lab.status()
            for name, process in status["processes"].items():
                print(
                    f"{name:15} {'running pid ' + str(process['pid']) if process['running'] else 'stopped'}"
                )
            for name, port in status["ports"].items():
                state = "" if "listening" not in port else ("listening" if port["listening"] else "closed")
                print(f"{name:15} {port['proto']} {status['host']}:{port['port']} {state}")
    except (LabError, ChrootError) as exc:
        print(f"hotline lab: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_call(args: argparse.Namespace, _system: Settings) -> int:
    plan = CallPlan(
        caller_number=args.caller_number,
        caller_name=args.name,
        to=args.to,
        dtmf=args.dtmf,
        say=args.say,
        wav=args.wav,
        hold=args.hold,
        dtmf_after=args.dtmf_after,
        say_after=args.say_after,
        end_key=args.end_key,
        tone=args.tone,
    )

    def answered(placed: PlacedCall) -> None:
        print(placed.call_id, flush=True)

    try:
        asyncio.run(call_and_hold(Lab(load_lab_settings()), plan, answered))
    except CallError as exc:
        print(f"hotline call: {exc}", file=sys.stderr)
        return 1
    return 0
