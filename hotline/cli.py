"""``hotline``: serve, run the whole system, drive the lab, place lab calls."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

from aiohttp import web

from acd.cli import add_simulate_command, run_simulate
from agents.http import AGENT_ROUTES, add_agent_state
from hotline.asterisk_conf import render_system
from hotline.config import ConfigError, Settings, config_file_path, listen_or_fail, load_settings
from hotline.controller import Controller
from hotline.logs import setup_logging
from hotline.users import Users
from hotline.web import create_app
from ivr.menu import load_menu
from ivr.prompts import prompt_path, prompt_texts, synthesize
from ticketing.cli import (
    add_policy_commands,
    add_ticket_commands,
    run_policy_command,
    run_ticket_command,
    stored_calendar,
    with_desk,
)
from ticketing.errors import TicketError
from ticketing.http import add_ticket_routes
from ticketing.policy import PolicyError, load_policy
from ticketing.service import TicketDesk

#: How long a stopping controller waits for requests still in flight.
SHUTDOWN_SECONDS = 3.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 contact-centre engine")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the controller (AMI, FastAGI, web) until Ctrl-C")
    commands.add_parser("run", help="bring up the lab, then serve; Ctrl-C stops what it started")
    render = commands.add_parser("render-conf", help="render Asterisk's configuration into a folder")
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--prompts", action="store_true", help="also synthesise the IVR prompts")

    lab = commands.add_parser("lab", help="the two-Asterisk lab in a sid chroot")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True)
    lab_commands.add_parser("build", help="build (or reuse) the Asterisk chroot")
    lab_commands.add_parser("up")
    lab_commands.add_parser("down")
    status = lab_commands.add_parser("status")
    status.add_argument("--json", action="store_true")

    call = commands.add_parser("call", help="place a real call from the lab's PSTN")
    call.add_argument("--from", dest="caller_number", required=True)
    call.add_argument("--name", default="", help="caller name, e.g. 张三")
    call.add_argument("--to", default="12345")
    call.add_argument("--dtmf", default="", help="keys to press once answered")
    call.add_argument("--say", default="", help="Mandarin text to speak (espeak-ng)")
    call.add_argument("--wav", type=Path, help="a WAV file to play instead of --say")
    call.add_argument("--hold", type=int, default=60, help="seconds to stay on the line")
    call.add_argument("--dtmf-after", type=float, default=3.0, help="seconds after answer before the keys")
    call.add_argument("--say-after", type=float, default=9.0, help="seconds after the keys before speaking")
    call.add_argument("--end-key", default="", help="a key to press after speaking, e.g. '#'")
    add_policy_commands(commands)
    add_ticket_commands(commands)
    add_simulate_command(commands)
    users = commands.add_parser("users", help="API users and their tokens")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add_user = users_commands.add_parser("add", help="create a user; prints the token once")
    add_user.add_argument("name")
    add_user.add_argument("--role", required=True, help="agent, supervisor, unit or admin")
    add_user.add_argument("--unit", help="the unit code, for unit users")
    add_user.add_argument(
        "--rotate", action="store_true", help="give an existing user a new token (the old one stops working)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        settings = load_settings()
        return COMMANDS[args.command](args, settings)
    except ConfigError as exc:
        print(f"hotline: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    controller = Controller(settings)
    runner: web.AppRunner | None = None
    try:
        await controller.start()
        app = create_app(controller.health, controller.hub)
        add_agent_state(app, controller.dispatcher, controller.roster)
        add_ticket_routes(
            app,
            controller.desk,
            controller.users,
            settings.platform_id,
            settings.webhook_secret,
            AGENT_ROUTES,
        )
        # A request still running when Ctrl-C comes is cancelled after this long, never waited for a minute.
        runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        await listen_or_fail(
            web.TCPSite(runner, settings.bind_host, settings.web_port).start(), "web", settings.web_port
        )
        print(
            f"hotline serving: web http://{settings.bind_host}:{settings.web_port}/healthz, "
            f"FastAGI {settings.bind_host}:{settings.fastagi_port}",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        logging.getLogger(__name__).info("stopping: the web server, then the controller")
    finally:
        if runner is not None:
            await runner.cleanup()
        await controller.close()


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from lab.chroot import is_ready
    from lab.lab import Lab

    lab = Lab(settings, log=lambda line: print(line, flush=True))
    settings = dataclasses.replace(settings, asterisk_root=lab.root)
    first_time = "" if is_ready(lab.root) else " (first time: builds the chroot, about a minute)"
    print(f"hotline: bringing up Redis and Asterisk{first_time}", flush=True)
    # Processes a crashed run left behind are adopted: this run stops them too.
    lab.up()
    print_summary(settings)
    try:
        asyncio.run(serve(settings))
    finally:
        stopped = lab.down()
        if stopped:
            print(f"hotline: stopped {', '.join(stopped)}")
    return 0


def print_summary(settings: Settings) -> None:
    host = settings.bind_host
    print(
        f"""
hotline is running (all on {host}):
  web            http://{host}:{settings.web_port}/healthz   events: ws://{host}:{settings.web_port}/api/events
  SIP (agents)   udp {host}:{settings.sip_port}
  AMI            tcp {host}:{settings.ami_port}   FastAGI tcp {host}:{settings.fastagi_port}
  Redis          tcp {host}:{settings.redis_port}
  lab PSTN       trunk udp {host}:{settings.carrier_port}, phones udp {host}:{settings.pstn_phone_port}
  agent accounts {", ".join(settings.agents)} (lab phones use {", ".join(settings.lab_phones)})
  supervisors    {", ".join(settings.supervisors)}
  passwords      HOTLINE_PASSWORD_<account> in {config_file_path({}).resolve()}
try a call:  .venv/bin/hotline call --from 13800138000 --name 张三 --dtmf 1 --say "楼下饭店油烟很大"
Ctrl-C stops what this command started.
""",
        flush=True,
    )


def cmd_render_conf(args: argparse.Namespace, settings: Settings) -> int:
    for path in render_system(settings, args.out):
        print(path)
    if args.prompts:
        settings.host_path(settings.prompts_dir).mkdir(parents=True, exist_ok=True)
        for name, text in prompt_texts(load_menu(settings.ivr_menu)).items():
            synthesize(text, str(settings.host_path(prompt_path(settings.prompts_dir, name))), run_here)
            print(f"{prompt_path(settings.prompts_dir, name)}.wav")
    return 0


def run_here(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def cmd_lab(args: argparse.Namespace, settings: Settings) -> int:
    from lab.chroot import ChrootError, ensure_chroot
    from lab.lab import Lab, LabError

    lab = Lab(settings, log=lambda line: print(line, file=sys.stderr, flush=True))
    try:
        if args.lab_command == "build":
            print(ensure_chroot(settings.chroot_cache, log=lab.log))
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


def cmd_call(args: argparse.Namespace, settings: Settings) -> int:
    from lab.caller import CallError, CallPlan, place_call
    from lab.lab import Lab

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
    )
    try:
        print(asyncio.run(place_call(Lab(settings), plan)).call_id)
    except CallError as exc:
        print(f"hotline call: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_policy(args: argparse.Namespace, settings: Settings) -> int:
    calendar = None
    if args.policy_command == "deadline":
        with contextlib.suppress(PolicyError):
            calendar = asyncio.run(stored_calendar(settings.effective_database_url, load_policy(args.preset)))
    return run_policy_command(args, settings.ticket_policy, calendar)


def cmd_tickets(args: argparse.Namespace, settings: Settings) -> int:
    return run_ticket_command(
        args, settings.effective_database_url, settings.ticket_policy, settings.platform_id
    )


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    async def add(desk: TicketDesk) -> str:
        return await Users(desk.store.engine).add(args.name, args.role, args.unit, rotate=args.rotate)

    try:
        policy = load_policy(settings.ticket_policy)
        token = asyncio.run(with_desk(settings.effective_database_url, policy, add))
    except (TicketError, PolicyError) as exc:
        print(f"hotline users: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    print(f"{args.name}: {token}")
    rotated = "; the old token no longer works" if args.rotate else ""
    print(
        f"(the token is shown only now{rotated}; send it as 'Authorization: Bearer <token>')", file=sys.stderr
    )
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    return run_simulate(args)


COMMANDS = {
    "serve": cmd_serve,
    "run": cmd_run,
    "render-conf": cmd_render_conf,
    "lab": cmd_lab,
    "call": cmd_call,
    "policy": cmd_policy,
    "tickets": cmd_tickets,
    "users": cmd_users,
    "simulate": cmd_simulate,
}
