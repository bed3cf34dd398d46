"""The whole system's Asterisk configuration: every capability's part of the templates' context.

The kernel renders templates; what goes into them (lines, the dialling plan,
accounts) comes from the capabilities, so it is assembled here, at the top.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hotline import asterisk_conf
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.provisioning import endpoint_accounts
from hotline.agents.tables import AgentRow
from hotline.kernel.asterisk.conf import SIP_REALM, Account, render_tree, sip_digest
from hotline.kernel.runtime.config import VOICEMAIL_BOX, Settings
from hotline.kernel.runtime.db import create_engine
from hotline.plans import carrier_trunks
from hotline.transfers.targets import EMERGENCY_NUMBERS, HANDBACK_EVENT, HANDBACK_PREFIX
from hotline.trunks.dialling import DiallingPlan
from hotline.trunks.numbers import parse_lines, parse_number_map

log = logging.getLogger(__name__)
CONF_DIR = Path(asterisk_conf.__file__).parent
# Files that describe an Asterisk process rather than the contact centre:
# the lab's other instance reuses them.
INSTANCE_FILES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "rtp.conf",
    "indications.conf",
    "manager.conf",
    "cdr.conf",
    "cel.conf",
    "musiconhold.conf",
    "confbridge.conf",
)


def settings_agents(settings: Settings) -> list[Account]:
    """The agents named in the settings: Asterisk's first boot, before the agent table exists."""
    return [
        Account(a, sip_digest(a, settings.password_for(a)), "from-agents", f"坐席{a}")
        for a in settings.agents
    ]


def agents_at_start(settings: Settings) -> list[Account]:
    """The agents an Asterisk about to start is given: those the controller will provision.

    That is the agent table's active seats (those added through the API too) and the settings' accounts
    the table does not hold yet (the controller seeds them). Rendered before Asterisk starts, a seat's
    phone registers from Asterisk's first second, not after the controller's first reload: a phone refused
    in between waits minutes before it tries again. Call it from synchronous code.
    """
    try:
        records = asyncio.run(_agent_table(settings.effective_database_url))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("agent table not read (%s): Asterisk starts with the settings' agents alone", exc)
        records = []
    stored = {record.profile.account for record in records}
    unseeded = [account for account in settings_agents(settings) if account.name not in stored]
    # In the table's order (by account), so the controller's own rendering finds nothing to change.
    return sorted(endpoint_accounts(records) + unseeded, key=lambda account: account.name)


async def _agent_table(database_url: str) -> list[AgentRecord]:
    """The agent table's rows, read without creating or migrating anything: none before a first start."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        return []
    engine = create_engine(database_url, connect_args={"timeout": 5})
    try:
        async with engine.connect() as connection:
            table = AgentRow.__tablename__
            if not await connection.run_sync(lambda sync: inspect(sync).has_table(table)):
                return []
        return await AgentDirectory(engine).all()
    finally:
        await engine.dispose()


def system_context(
    settings: Settings, agents: Sequence[Account] | None = None, banned: Sequence[str] = ()
) -> dict[str, object]:
    """Everything the system's templates may name; ``agents`` come from the agent table once it exists,
    ``banned`` (addresses Asterisk refuses) from the SIP edge's guard (``trunks/guard.py``)."""
    agents = settings_agents(settings) if agents is None else list(agents)
    supervisors = [
        Account(s, sip_digest(s, settings.password_for(s)), "from-agents", f"班长{s}")
        for s in settings.supervisors
    ]
    return {
        "system_name": "hotline",
        "instance_dir": settings.asterisk_instance_dir,
        "bind_host": settings.bind_host,
        "sip_port": settings.sip_port,
        "sip_realm": SIP_REALM,
        "rtp_start": settings.rtp_start,
        "rtp_end": settings.rtp_end,
        "ami_port": settings.ami_port,
        "ami_user": settings.ami_user,
        "ami_secret": settings.ami_secret,
        "ami_permit": settings.ami_permit,
        "trunks": carrier_trunks(settings),
        "controller_host": settings.controller_host,
        "fastagi_port": settings.fastagi_port,
        "agi_key": settings.agi_key,
        "recordings_dir": settings.recordings_dir,
        "prompts_dir": settings.prompts_dir,
        "lines": parse_lines(settings.lines),
        "mapped_numbers": parse_number_map(settings.number_map, parse_lines(settings.lines)),
        "accounts": agents + supervisors,
        "banned_addresses": list(banned),
        "agents": agents,
        "fallback_queue_seconds": settings.fallback_queue_seconds,
        "outbound_patterns": DiallingPlan.of(
            settings.outbound_area_codes, settings.outbound_numbers
        ).dialplan_patterns(),
        "emergency_numbers": EMERGENCY_NUMBERS,
        "handback_prefix": HANDBACK_PREFIX,
        "handback_event": HANDBACK_EVENT,
        "voicemail_box": VOICEMAIL_BOX,
        "voicemail_pin": settings.voicemail_pin,
    }


def render_system(
    settings: Settings,
    out_dir: Path,
    names: Iterable[str] | None = None,
    agents: Sequence[Account] | None = None,
    banned: Sequence[str] = (),
) -> list[Path]:
    """Render the system's configuration (or only ``names``); returns the files whose text changed."""
    names = [p.name for p in CONF_DIR.glob("*.conf")] if names is None else names
    return render_tree([CONF_DIR], names, system_context(settings, agents, banned), out_dir)
