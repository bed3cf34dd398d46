"""``hotline``: serve, render Asterisk's configuration, manage users, read tickets; plugins add the rest."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from aiohttp import web

from hotline.acd.cli import add_simulate_command, run_simulate
from hotline.asterisk_system import agents_at_start, render_system
from hotline.controller import Controller
from hotline.ivr.menu import load_menu
from hotline.ivr.prompts import prompt_path, prompt_texts, synthesize
from hotline.kernel.api.users import Users
from hotline.kernel.api.web import create_app
from hotline.kernel.runtime.config import ConfigError, Settings, listen_or_fail, load_settings
from hotline.kernel.runtime.logs import setup_logging
from hotline.kernel.runtime.reference import add_settings_command
from hotline.kernel.runtime.stopping import STEP_SECONDS, bounded
from hotline.schema import open_store
from hotline.speech.cli import add_stt_commands, run_stt
from hotline.ticketing.cli import (
    OpenStore,
    add_policy_commands,
    add_ticket_commands,
    run_policy_command,
    run_ticket_command,
    stored_calendar,
    with_desk,
)
from hotline.ticketing.errors import TicketError
from hotline.ticketing.policy import PolicyError, load_policy
from hotline.ticketing.service import TicketDesk

#: How long a stopping controller waits for requests still in flight.
SHUTDOWN_SECONDS = 3.0
#: The entry-point group through which installed tools add ``hotline`` commands.
COMMAND_PLUGINS = "hotline.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 contact-centre engine")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the controller (AMI, FastAGI, web) until Ctrl-C").set_defaults(
        handler=cmd_serve
    )
    render = commands.add_parser("render-conf", help="render Asterisk's configuration into a folder")
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--prompts", action="store_true", help="also synthesise the IVR prompts")
    render.set_defaults(handler=cmd_render_conf)
    add_policy_commands(commands)
    add_ticket_commands(commands)
    add_simulate_command(commands)
    add_stt_commands(commands)
    add_settings_command(commands)
    commands.choices["stt"].set_defaults(handler=lambda args, settings: run_stt(args, settings.stt_model))
    for name, handler in (("policy", cmd_policy), ("tickets", cmd_tickets), ("simulate", cmd_simulate)):
        commands.choices[name].set_defaults(handler=handler)
    users = commands.add_parser("users", help="API users and their tokens")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add_user = users_commands.add_parser("add", help="create a user; prints the token once")
    add_user.add_argument("name")
    add_user.add_argument("--role", required=True, help="agent, supervisor, unit or admin")
    add_user.add_argument("--unit", help="the unit code, for unit users")
    add_user.add_argument(
        "--rotate", action="store_true", help="give an existing user a new token (the old one stops working)"
    )
    users.set_defaults(handler=cmd_users)
    # Tools installed beside the engine (the lab) add their own commands; no runtime module imports them.
    for plugin in entry_points(group=COMMAND_PLUGINS):
        plugin.load()(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        settings = load_settings()
        return int(args.handler(args, settings))
    except ConfigError as exc:
        print(f"hotline: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings, on_serving: Callable[[Controller], None] | None = None) -> None:
    """Run the controller and its web server until SIGINT or SIGTERM; ``on_serving`` is told once
    everything listens (``hotline run`` prints its summary then, so the summary is true)."""
    controller = Controller(settings)
    runner: web.AppRunner | None = None
    try:
        await controller.start()
        app = create_app(controller.health, controller.hub)
        controller.install(app)
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
        if on_serving is not None:
            on_serving(controller)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        logging.getLogger(__name__).info("stopping: the web server, then the controller")
    finally:
        if runner is not None:
            await bounded("the web server", runner.cleanup(), SHUTDOWN_SECONDS + STEP_SECONDS)
        await controller.close()


def cmd_render_conf(args: argparse.Namespace, settings: Settings) -> int:
    for path in render_system(settings, args.out, agents=agents_at_start(settings)):
        print(path)
    if args.prompts:
        settings.host_path(settings.prompts_dir).mkdir(parents=True, exist_ok=True)
        for name, text in prompt_texts(load_menu(settings.ivr_menu)).items():
            synthesize(text, str(settings.host_path(prompt_path(settings.prompts_dir, name))), run_here)
            print(f"{prompt_path(settings.prompts_dir, name)}.wav")
    return 0


def run_here(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def cmd_policy(args: argparse.Namespace, settings: Settings) -> int:
    calendar = None
    if args.policy_command == "deadline":
        with contextlib.suppress(PolicyError):
            calendar = asyncio.run(stored_calendar(store_of(settings), load_policy(args.preset)))
    return run_policy_command(args, settings.ticket_policy, calendar)


def cmd_tickets(args: argparse.Namespace, settings: Settings) -> int:
    return run_ticket_command(args, store_of(settings), settings.ticket_policy, settings.platform_id)


def store_of(settings: Settings) -> OpenStore:
    return functools.partial(open_store, settings.effective_database_url)


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    async def add(desk: TicketDesk) -> str:
        return await Users(desk.store.engine).add(args.name, args.role, args.unit, rotate=args.rotate)

    try:
        policy = load_policy(settings.ticket_policy)
        token = asyncio.run(with_desk(store_of(settings), policy, add))
    except (TicketError, PolicyError) as exc:
        print(f"hotline users: {getattr(exc, 'message', exc)} (no token made)", file=sys.stderr)
        return 2
    # The token alone on standard output, so `BOSS=$(hotline users add …)` captures exactly it.
    print(token)
    rotated = "; the old token no longer works" if args.rotate else ""
    print(
        f"hotline users: {args.name}'s token is shown only now{rotated}; "
        "send it as 'Authorization: Bearer <token>'",
        file=sys.stderr,
    )
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    return run_simulate(args)
