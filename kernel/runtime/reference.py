"""``hotline settings``: the settings reference (docs/settings.md) and an example local file
(docs/hotline.env.example), written from the settings' own fields, their defaults and meanings, so neither
can drift from the code (a unit test compares them)."""

from __future__ import annotations

import argparse
import re
from dataclasses import MISSING, dataclass, fields
from typing import Any

from hotline.kernel.runtime.config import DEFAULT_CONFIG_FILE, ENV_PREFIX, Settings, env_name

#: How the two documents are written again after a setting changed.
REGENERATE = (
    "hotline settings --markdown > docs/settings.md"
    " && hotline settings --env-example > docs/hotline.env.example"
)
GENERATED = "generated on the first start"


@dataclass(frozen=True)
class Entry:
    group: str
    env: str
    default: str
    meaning: str
    generated: bool


def documented() -> tuple[type[Settings], ...]:
    """Settings and the settings that tools installed beside it add (the lab's ``LabSettings``): the CLI
    loads its plugins before any command runs, and with them their settings."""
    return (Settings, *Settings.__subclasses__())


def entries(kinds: tuple[type[Settings], ...]) -> list[Entry]:
    """Every setting once, in the order of the fields; a tool's settings after the ones it extends."""
    found: list[Entry] = []
    seen: set[str] = set()
    group = ""
    for kind in kinds:
        for spec in fields(kind):
            if spec.name in seen:
                continue
            seen.add(spec.name)
            group = spec.metadata.get("group") or group
            default: Any = "" if spec.default is MISSING else spec.default
            shown = ",".join(default) if isinstance(default, tuple) else str(default)
            generated = bool(spec.metadata.get("generated"))
            found.append(Entry(group, env_name(spec), shown, spec.metadata["meaning"], generated))
    return found


def markdown(kinds: tuple[type[Settings], ...]) -> str:
    lines = [
        "# Settings",
        "",
        f"<!-- Written by `hotline settings --markdown` from the code; do not edit. Again: {REGENERATE} -->",
        "",
        f"Every setting is an environment variable `{ENV_PREFIX}…`. The local file (`{DEFAULT_CONFIG_FILE}` "
        f"in the working folder, or the file `{ENV_PREFIX}CONFIG_FILE` names) holds the same `KEY=value` "
        "lines; the environment wins over it. Lists are comma-separated. Secrets shown as *generated* are "
        "made on the first start and written to that file (mode 600), which must never be committed. An "
        "example file, every setting at its default: [hotline.env.example](hotline.env.example).",
    ]
    group = None
    for entry in entries(kinds):
        if entry.group != group:
            group = entry.group
            lines += ["", f"## {group}", "", "| Setting | Default | Meaning |", "|---|---|---|"]
        default = (
            f"*{GENERATED}*" if entry.generated else (f"`{entry.default}`" if entry.default else "(empty)")
        )
        meaning = re.sub(rf"({ENV_PREFIX}[A-Z_]+(<\w+>)?)", r"`\1`", entry.meaning)  # <NAME> is no HTML tag
        lines.append(f"| `{entry.env}` | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


def env_example(kinds: tuple[type[Settings], ...]) -> str:
    lines = [
        f"# hotline's settings, each at its default and commented out: copy to {DEFAULT_CONFIG_FILE} and set",
        "# what differs. The environment wins over the file. Empty secrets are generated on the first start.",
        "# Written by `hotline settings --env-example`; docs/settings.md says more.",
    ]
    group = None
    for entry in entries(kinds):
        if entry.group != group:
            group = entry.group
            lines += ["", f"## {group}"]
        value = "" if entry.generated else entry.default
        first_sentence = entry.meaning.split(". ")[0].removesuffix(".")
        lines += [f"# {first_sentence}.", f"# {entry.env}={value}"]
    return "\n".join(lines) + "\n"


def add_settings_command(commands: Any) -> None:
    command = commands.add_parser("settings", help="print the settings reference or an example hotline.env")
    what = command.add_mutually_exclusive_group(required=True)
    what.add_argument("--markdown", action="store_true", help="the reference, as docs/settings.md")
    what.add_argument(
        "--env-example", action="store_true", help="every setting at its default, commented out"
    )
    command.set_defaults(handler=cmd_settings)


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    print(markdown(documented()) if args.markdown else env_example(documented()), end="")
    return 0
