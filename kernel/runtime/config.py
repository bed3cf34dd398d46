"""One typed settings object, loaded once from the environment and a local file.

Every setting has an environment name (``HOTLINE_<FIELD>``) and its meaning beside it, from which
``hotline settings`` writes docs/settings.md and docs/hotline.env.example (kernel/runtime/reference.py).
The local file (``hotline.env`` by default, ignored by git) holds the same ``KEY=value`` lines; the
environment wins over it. Secrets that are missing are generated on first load and written to that file,
so they never live in the repository. A tool's settings extend these (the lab's ``LabSettings``) and are
loaded by the same loader, from the same file.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

ENV_PREFIX = "HOTLINE_"
DEFAULT_CONFIG_FILE = "hotline.env"
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: app_voicemail's box for every message left with the hotline (night, overflow, the fallback's).
VOICEMAIL_BOX = "12345"
#: A registering carrier trunk's password: HOTLINE_TRUNK_PASSWORD_<NAME>, given by the carrier.
TRUNK_PASSWORD_PREFIX = f"{ENV_PREFIX}TRUNK_PASSWORD_"


class ConfigError(ValueError):
    """A setting is malformed; the message names it."""


def setting(default: Any, meaning: str, *, group: str = "", generated: str = "") -> Any:
    """A field of the settings with its meaning, which the reference prints (kernel/runtime/reference.py):
    ``group`` opens a new section of it there; ``generated`` ("token" or "digits") makes a missing value a
    secret made on the first load and kept in the local file."""
    return field(default=default, metadata={"meaning": meaning, "group": group, "generated": generated})


def env_name(spec: Field[Any]) -> str:
    """A field's environment name: ``HOTLINE_<FIELD>``, or the pattern of the names it is read from."""
    return spec.metadata.get("env", f"{ENV_PREFIX}{spec.name.upper()}")


@dataclass(frozen=True)
class Settings:
    #: Ports that Asterisk and the controller listen on, and the ranges (first, last) Asterisk binds for RTP.
    LISTEN_PORTS: ClassVar[tuple[str, ...]] = (
        "web_port",
        "fastagi_port",
        "audiosocket_port",
        "smtp_port",
        "redis_port",
        "ami_port",
        "sip_port",
    )
    PORT_RANGES: ClassVar[tuple[tuple[str, str], ...]] = (("rtp_start", "rtp_end"),)

    home: Path = setting(  # noqa: RUF009 (setting() is field(): the default is made once)
        Path("var"),
        "The controller's folder: the SQLite database, the attachments, the mailbox's certificate.",
        group="Where it runs",
    )
    bind_host: str = setting("127.0.0.1", "The address the listeners bind (web, FastAGI, AudioSocket, SMTP).")
    web_port: int = setting(8080, "The web server: the API, the agents' desk, the wallboard, /healthz.")
    redis_port: int = setting(
        6390,
        "The port of the Redis that `hotline run` starts, used unless HOTLINE_REDIS_URL names another.",
    )
    redis_url: str = setting(
        "", "Redis elsewhere (redis://host:port/db); empty: the one on HOTLINE_REDIS_PORT."
    )
    database_url: str = setting(
        "", "The database (postgresql+asyncpg://…); empty: SQLite in the home folder (hotline.db)."
    )

    ami_port: int = setting(5038, "The system Asterisk's AMI port.", group="Asterisk")
    ami_user: str = setting("hotline", "The AMI account the controller logs in with.")
    ami_secret: str = setting("", "That AMI account's password.", generated="token")
    ami_permit: str = setting(
        "127.0.0.1/255.255.255.255", "Who may log in to AMI, in Asterisk's permit syntax (address/mask)."
    )
    controller_host: str = setting("127.0.0.1", "Where Asterisk finds the controller (FastAGI, AudioSocket).")
    fastagi_port: int = setting(4573, "The controller's FastAGI port, which runs the call flow.")
    agi_permit: tuple[str, ...] = setting(("127.0.0.1",), "The Asterisk addresses FastAGI serves; no other.")
    agi_key: str = setting(
        "",
        "The key the FastAGI server asks each channel for (GET VARIABLE HOTLINE_AGI_KEY), never in the URL.",
        generated="token",
    )
    audiosocket_port: int = setting(
        4575, "Where Asterisk streams a waiting caller's words (AudioSocket), transcribed as they speak."
    )
    sip_port: int = setting(5060, "The system Asterisk's SIP port (UDP): the carrier's and the phones'.")
    rtp_start: int = setting(10000, "The first port of the system Asterisk's RTP range.")
    rtp_end: int = setting(10999, "The last port of the system Asterisk's RTP range.")
    asterisk_root: Path = setting(  # noqa: RUF009 (setting() is field(): the default is made once)
        Path("/"),
        "Where Asterisk's file system is, seen from the controller: / in a deployment, the lab's chroot.",
    )
    asterisk_instance_dir: str = setting(
        "/var/lib/hotline/sut",
        "The system Asterisk's own folder as it sees it: recordings, voicemail, the IVR's prompts.",
    )
    ami_action_timeout: float = setting(10.0, "Seconds an AMI action may take before it counts as failed.")
    agi_command_timeout: float = setting(60.0, "Seconds a FastAGI command may take before the flow gives up.")
    asterisk_log_max_mb: int = setting(
        50,
        "Asterisk's messages.log is rotated when it grows past this many MB.",
    )

    lines: str = setting(
        "12345",
        "The numbers the carrier delivers: 12345 and kept department numbers (12315=市场监管).",
        group="Lines, carriers and dialling out",
    )
    number_map: str = setting(
        "",
        "Other numbers the carrier delivers and the line each one is (88001234=12315); a number on which "
        "110/119/120/122 hand callers to 12345 says which (96110=12345:110).",
    )
    carrier_host: str = setting("127.0.0.1", "The carrier's address, as the system sees it.")
    carrier_port: int = setting(
        25060, "The carrier's SIP port (the lab's PSTN listens on it as the carrier)."
    )
    trunks: str = setting(
        "",
        "Several carrier trunks, tried in this order for outbound calls "
        "(carrier=10.0.0.5:5060,backup=hotline@sip.example.cn:5060); empty: the one carrier above. "
        "A trunk that registers (USER@) finds its password in HOTLINE_TRUNK_PASSWORD_<NAME>.",
    )
    trunk_passwords: Mapping[str, str] = field(
        default_factory=dict,
        metadata={
            "env": f"{ENV_PREFIX}TRUNK_PASSWORD_<NAME>",
            "meaning": "A registering trunk's password, as its carrier gave it (NAME as in HOTLINE_TRUNKS, "
            "upper case).",
        },
    )
    outbound_area_codes: tuple[str, ...] = setting(
        (),
        "Area codes that may be dialled out (0717,027), besides mainland mobiles and local landlines; "
        "nothing else, against toll fraud.",
    )
    outbound_numbers: tuple[str, ...] = setting(
        ("110", "119", "120", "122", "12315", "12333", "12329"), "Service numbers that may be dialled out."
    )

    sip_ban_failures: int = setting(
        10,
        "An address that fails SIP authentication this many times within the window is refused by Asterisk "
        "for the ban's seconds; a trunk's address never is. Unknown accounts need five "
        "times as many.",
        group="The SIP edge",
    )
    sip_ban_window_seconds: float = setting(60.0, "The window in which SIP authentication failures count.")
    sip_ban_seconds: float = setting(900.0, "How long a banned address is refused.")
    sip_trusted_networks: tuple[str, ...] = setting(
        (),
        "Networks never banned (CIDR: the office NAT the agents' phones share), reported as "
        "security.sip_guessing instead; an address that signed in within the window is not banned either.",
    )

    agents: tuple[str, ...] = setting(
        ("1001", "1002", "1003", "1004", "1005"),
        "The agents' SIP accounts at the first start; seats added through the API join them.",
        group="Agents, queues and the IVR",
    )
    supervisors: tuple[str, ...] = setting(("9001",), "The supervisors' SIP accounts.")
    account_passwords: Mapping[str, str] = field(
        default_factory=dict,
        metadata={
            "env": f"{ENV_PREFIX}PASSWORD_<account>",
            "meaning": "Each agent's and supervisor's SIP password.",
            "generated": "token",
        },
    )
    agent_skills: str = setting(
        "", "Skills with levels 1-9 (1003=12315:8,12345:3;1004=dialect:6); other agents get 12345:5."
    )
    acd_strategy: str = setting(
        "longest-idle",
        "Which ready agent gets the next caller: longest-idle, least-talk, fewest-calls or rrmemory.",
    )
    wrap_up_seconds: float = setting(15.0, "An agent's wrap-up (话后处理) after each call, in seconds.")
    ring_seconds: int = setting(15, "How long an agent's phone rings before the call goes to the next agent.")
    queue_poll_ms: int = setting(
        300, "How often a waiting caller's flow looks for an offer (the bound on ready-to-ringing delay)."
    )
    fallback_queue_seconds: int = setting(
        120, "With the controller unreachable, how long Asterisk's own queue holds a caller before voicemail."
    )
    ivr_menu: str = setting(
        "no-menu",
        "The IVR: a preset in ivr/menus/ (no-menu, as GB/T 33358 asks; keyed) or a TOML file's path.",
    )
    voicemail_pin: str = setting("", "The PIN of the hotline's voicemail box.", generated="digits")

    ticket_policy: str = setting(
        "zhijiang",
        "Deadline rules: a preset (zhijiang, yunnan, yingkou) or a TOML file's path.",
        group="Tickets",
    )
    platform_id: str = setting(
        "hotline", "This platform's name in the exchange format (the sender of forwarded tickets)."
    )
    ticket_sweep_seconds: int = setting(
        300, "How often the controller reminds (催办) and supervises (督办) tickets near or past due."
    )
    attachment_max_mb: int = setting(
        20, "The largest file a ticket takes, in MB; attachments live under home/attachments."
    )
    prefill_keywords: str = setting(
        "",
        "The words that guess a draft's or a message's type and raise emergency alerts: a TOML file's path; "
        "empty keeps the built-in Chinese lists.",
    )

    smtp_port: int = setting(
        2525,
        "The hotline's mailbox: citizens' mail to its addresses becomes tickets.",
        group="Citizens' messages: mail, IMAP, webhooks",
    )
    mail_addresses: tuple[str, ...] = setting(("12345@hotline.local",), "The mailbox's addresses.")
    mail_tls_cert: str = setting(
        "",
        "The mailbox's STARTTLS certificate (PEM file); empty: a self-signed one made on the first start in "
        "home/tls.",
    )
    mail_tls_key: str = setting("", "That certificate's key (PEM file).")
    imap_url: str = setting(
        "",
        "The hotline's mailbox on the deployment's mail server, polled (imaps://user@host/INBOX), as well.",
    )
    imap_password: str = setting("", "That IMAP mailbox's password.")
    imap_poll_seconds: int = setting(60, "How often that IMAP mailbox is polled.")
    webhook_secret: str = setting(
        "",
        "Shared with the SMS/WeChat gateways, which sign each message with it.",
        generated="token",
    )

    mail_relay: str = setting(
        "",
        "The SMTP relay (host:port) that sends notices by email; empty: no email notice is decided.",
        group="Notices",
    )
    mail_relay_user: str = setting("", "The relay's user name.")
    mail_relay_password: str = setting("", "The relay's password.")
    sms_gateway_url: str = setting(
        "", "The SMS provider's HTTP gateway that sends notices by SMS; empty: no SMS notice is decided."
    )
    sms_gateway_secret: str = setting("", "The secret that signs each message to the SMS gateway.")
    on_duty_mailboxes: tuple[str, ...] = setting(
        (),
        "Who hears of each voicemail by email, with its recording and transcript, and gets the night's "
        "digest (a@x.cn,b@x.cn).",
    )
    night_digest_at: str = setting(
        "08:00", "When the digest of the night's voicemails and emails goes out (the policy's time zone)."
    )

    recording_agent_days: int = setting(
        7,
        "An agent may hear the recordings of calls they answered for this many days (supervisors always).",
        group="Recordings and speech",
    )
    stt_model: str = setting(
        "", "Speech-to-text: a Vosk model's folder (vosk-model-small-cn-0.22 in production); empty: off."
    )
    stt_workers: int = setting(1, "Worker processes that transcribe waiting callers' words and messages.")
    stt_call_workers: int = setting(
        0,
        "Worker processes of their own that write each call's directions down after it (the caller's, what "
        "they heard, each number dialled), for search and quality review; 0 leaves calls unwritten.",
    )

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"redis://{self.bind_host}:{self.redis_port}/0"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.home / 'hotline.db').resolve()}"

    def host_path(self, asterisk_path: str) -> Path:
        """Translate a path as Asterisk sees it into the controller's view."""
        return self.asterisk_root / asterisk_path.lstrip("/")

    @property
    def recordings_dir(self) -> str:
        """The recordings folder, as Asterisk sees it."""
        return f"{self.asterisk_instance_dir}/recordings"

    @property
    def voicemail_inbox(self) -> str:
        """The folder where app_voicemail leaves messages, as Asterisk sees it; the controller empties it."""
        return f"{self.asterisk_instance_dir}/spool/voicemail/hotline/{VOICEMAIL_BOX}/INBOX"

    @property
    def prompts_dir(self) -> str:
        """The IVR's prompts, as Asterisk sees them."""
        return f"{self.asterisk_instance_dir}/sounds/hotline"

    def password_for(self, account: str) -> str:
        try:
            return self.account_passwords[account]
        except KeyError:
            raise ConfigError(f"no SIP password for account {account}") from None

    @property
    def accounts(self) -> tuple[str, ...]:
        return self.agents + self.supervisors

    def listeners(self) -> list[tuple[str, int, int]]:
        """Each listening port and RTP range: its setting as an error names it, its first and last port."""
        spans = [
            (f"{ENV_PREFIX}{name.upper()}", getattr(self, name), getattr(self, name))
            for name in self.LISTEN_PORTS
        ]
        spans += [
            (f"{ENV_PREFIX}{a.upper()}/{ENV_PREFIX}{b.upper()}", getattr(self, a), getattr(self, b))
            for a, b in self.PORT_RANGES
        ]
        return [
            (f"{label}={first if first == last else f'{first}-{last}'}", first, last)
            for label, first, last in spans
        ]


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


# Field annotations are strings (postponed evaluation), so converters are keyed by them.
_CONVERTERS: dict[str, tuple[Callable[[str], object], str]] = {
    "int": (int, "a whole number"),
    "float": (float, "a number"),
    "Path": (Path, "a path"),
    "tuple[str, ...]": (_split_list, "a comma-separated list"),
}


def _parse(name: str, annotation: str, raw: str) -> object:
    convert, expected = _CONVERTERS.get(annotation, (str, "text"))
    try:
        return convert(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be {expected}, got {raw!r}") from None


def read_env_file(path: Path) -> dict[str, str]:
    """Read ``KEY=value`` lines; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: expected KEY=value, got {line!r}")
        values[key.strip()] = value.strip()
    return values


def config_file_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get(f"{ENV_PREFIX}CONFIG_FILE", DEFAULT_CONFIG_FILE))


#: The settings a loader builds: Settings, or a tool's settings that extend it (the lab's).
S = TypeVar("S", bound="Settings")


def load_settings(
    environ: Mapping[str, str] | None = None, *, create_secrets: bool = True, kind: type[S] = Settings
) -> S:
    """Build the settings (of ``kind``: Settings or a tool's that extend it); generate and save missing
    secrets unless told not to."""
    environ = os.environ if environ is None else environ
    path = config_file_path(environ)
    merged = {**read_env_file(path), **{k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)}}
    values: dict[str, object] = {}
    for spec in fields(kind):
        raw = None if "env" in spec.metadata else merged.get(env_name(spec))
        if raw is not None:
            values[spec.name] = _parse(spec.name, str(spec.type), raw)
    settings = kind(**values)
    check_ports(settings, ephemeral_port_range())

    missing: dict[str, str] = {}
    generated = {spec.name: spec.metadata["generated"] for spec in fields(kind) if "env" not in spec.metadata}
    for name, how in generated.items():
        if how and not getattr(settings, name):
            secret = str(secrets.randbelow(10**8)).zfill(8) if how == "digits" else secrets.token_urlsafe(18)
            missing[f"{ENV_PREFIX}{name.upper()}"] = secret
    passwords = {}
    for account in settings.accounts:
        key = f"{ENV_PREFIX}PASSWORD_{account}"
        if key in merged:
            passwords[account] = merged[key]
        else:
            passwords[account] = missing[key] = secrets.token_urlsafe(12)
    if missing:
        if not create_secrets:
            raise ConfigError(f"missing secrets: {', '.join(sorted(missing))}")
        _append_secrets(path, missing)
        made = {name: missing.get(f"{ENV_PREFIX}{name.upper()}") for name in generated}
        settings = dataclasses.replace(settings, **{name: value for name, value in made.items() if value})
    trunk_passwords = {key: value for key, value in merged.items() if key.startswith(TRUNK_PASSWORD_PREFIX)}
    return dataclasses.replace(settings, account_passwords=passwords, trunk_passwords=trunk_passwords)


def ephemeral_port_range(path: Path = EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    """The ports the kernel hands to client sockets: any of them may be taken at any moment."""
    try:
        low, high = (int(part) for part in path.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
    return low, high


def check_ports(settings: Settings, ephemeral: tuple[int, int]) -> None:
    """Refuse a listening port inside the ephemeral range: a client socket may hold it, and then
    Asterisk logs the failed bind and carries on without that listener."""
    low, high = ephemeral
    for label, first, last in settings.listeners():
        if not 0 < first <= last <= 65535:
            raise ConfigError(f"{label} is not a port or a port range")
        if first <= high and last >= low:
            raise ConfigError(
                f"{label} lies in the kernel's ephemeral port range {low}-{high} "
                f"({EPHEMERAL_RANGE_FILE}), where any client socket may hold it; choose ports below {low}"
            )


async def listen_or_fail(bind: Awaitable[object], what: str, port: int) -> None:
    """A listener that cannot bind stops the process with its port named, never silently."""
    try:
        await bind
    except OSError as exc:
        raise ConfigError(f"cannot listen for {what} on port {port}: {exc.strerror or exc}") from None


def _append_secrets(path: Path, new: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    with path.open("a", encoding="utf-8") as handle:
        if fresh:
            handle.write("# hotline local settings and generated secrets. Never commit this file.\n")
        for key, value in sorted(new.items()):
            handle.write(f"{key}={value}\n")
    path.chmod(0o600)
