"""One typed settings object, loaded once from the environment and a local file.

Every setting has an environment name (``HOTLINE_<FIELD>``). The local file
(``hotline.env`` by default, ignored by git) holds the same ``KEY=value``
lines; the environment wins over it. Secrets that are missing are generated on
first load and written to that file, so they never live in the repository.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "HOTLINE_"
DEFAULT_CONFIG_FILE = "hotline.env"
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: Listening ports, and the port ranges (first, last) that Asterisk binds for RTP.
LISTEN_PORTS = (
    "web_port",
    "fastagi_port",
    "audiosocket_port",
    "smtp_port",
    "redis_port",
    "ami_port",
    "sip_port",
    "carrier_port",
    "pstn_backup_trunk_port",
    "pstn_ami_port",
    "pstn_phone_port",
)
PORT_RANGES = (("rtp_start", "rtp_end"), ("pstn_rtp_start", "pstn_rtp_end"))
#: app_voicemail's box for every message left with the hotline (night, overflow, the fallback's).
VOICEMAIL_BOX = "12345"
#: A registering carrier trunk's password: HOTLINE_TRUNK_PASSWORD_<NAME>, given by the carrier.
TRUNK_PASSWORD_PREFIX = f"{ENV_PREFIX}TRUNK_PASSWORD_"
SECRET_FIELDS = ("ami_secret", "pstn_ami_secret", "voicemail_pin", "webhook_secret", "agi_key")


class ConfigError(ValueError):
    """A setting is malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    home: Path = Path("var")
    bind_host: str = "127.0.0.1"
    web_port: int = 8080
    fastagi_port: int = 4573
    # Asterisk streams a waiting caller's words here (AudioSocket), for speech-to-text as they speak.
    audiosocket_port: int = 4575
    redis_port: int = 6390
    redis_url: str = ""
    database_url: str = ""
    # The system's Asterisk ("sut" in the lab).
    ami_port: int = 5038
    ami_user: str = "hotline"
    ami_secret: str = ""
    # Who may log in to AMI (Asterisk's permit syntax) and where Asterisk finds FastAGI.
    ami_permit: str = "127.0.0.1/255.255.255.255"
    controller_host: str = "127.0.0.1"
    # FastAGI serves only these Asterisk addresses, and only requests carrying this key in their URL.
    agi_permit: tuple[str, ...] = ("127.0.0.1",)
    agi_key: str = ""
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999
    # Where Asterisk's file system is, seen from the controller: "/" in a
    # deployment, the chroot in the lab.
    asterisk_root: Path = Path("/")
    asterisk_instance_dir: str = "/var/lib/hotline/sut"
    # Numbers the carrier delivers: 12345 and kept department numbers ("12315=市场监管").
    lines: str = "12345"
    # Other numbers the carrier delivers, and the line each one is ("88001234=12315"); a number on which
    # 110/119/120/122 hand callers to 12345 says which ("96110=12345:110").
    number_map: str = ""
    fallback_queue_seconds: int = 120
    # The dialling plan (trunks/dialling.py): besides mainland mobiles and local landlines, these area
    # codes ("0717,027") and service numbers may be dialled out; nothing else, against toll fraud.
    outbound_area_codes: tuple[str, ...] = ()
    outbound_numbers: tuple[str, ...] = ("110", "119", "120", "122", "12315", "12333", "12329")
    voicemail_pin: str = ""
    # Agent and supervisor SIP accounts; passwords are per-account secrets.
    agents: tuple[str, ...] = ("1001", "1002", "1003", "1004", "1005")
    supervisors: tuple[str, ...] = ("9001",)
    account_passwords: Mapping[str, str] = field(default_factory=dict)
    # The carrier, as seen from the system: its address and source port.
    carrier_host: str = "127.0.0.1"
    carrier_port: int = 25060
    # Several carrier trunks, tried in this order for outbound calls (trunks/carriers.py):
    # "carrier=10.0.0.5:5060,backup=hotline@sip.example.cn:5060"; empty: the one carrier above. A trunk
    # that registers (USER@) finds its password in HOTLINE_TRUNK_PASSWORD_<NAME>.
    trunks: str = ""
    trunk_passwords: Mapping[str, str] = field(default_factory=dict)
    # The lab's second Asterisk, which plays carrier and phones.
    pstn_ami_port: int = 25038
    pstn_ami_secret: str = ""
    pstn_phone_port: int = 25070
    # The lab's second carrier trunk, for outbound failover.
    pstn_backup_trunk_port: int = 25062
    pstn_rtp_start: int = 20000
    pstn_rtp_end: int = 20999
    pstn_instance_dir: str = "/var/lib/hotline/pstn"
    lab_phones: tuple[str, ...] = ("1001", "1002", "1003", "9001")
    chroot_cache: Path = Path("/var/cache/hotline-lab")
    # Deadline rules: a preset (zhijiang, yunnan, yingkou) or a TOML file's path.
    ticket_policy: str = "zhijiang"
    # This platform's name in the exchange format (the "sender" of forwarded tickets).
    platform_id: str = "hotline"
    # How often the controller reminds (催办) and supervises (督办) tickets near or past due.
    ticket_sweep_seconds: int = 300
    # Files attached to tickets live under home/attachments; larger uploads are refused.
    attachment_max_mb: int = 20
    # The hotline's mailbox (ticketing/mailbox.py): citizens' mail to these addresses becomes tickets.
    smtp_port: int = 2525
    mail_addresses: tuple[str, ...] = ("12345@hotline.local",)
    # Its certificate and key for STARTTLS (PEM files); empty: a self-signed one made on the first start
    # in home/tls (ticketing/mail_tls.py).
    mail_tls_cert: str = ""
    mail_tls_key: str = ""
    # Or (and) the hotline's mailbox on the deployment's mail server, polled: imaps://user@host/INBOX.
    imap_url: str = ""
    imap_password: str = ""
    imap_poll_seconds: int = 60
    # Notices out (notices/): email through this SMTP relay ("host:port"), SMS through the provider's
    # HTTP gateway, signed with its secret. Empty: that medium is off and no such notice is decided.
    mail_relay: str = ""
    mail_relay_user: str = ""
    mail_relay_password: str = ""
    sms_gateway_url: str = ""
    sms_gateway_secret: str = ""
    # Who hears of each voicemail by email, with its recording and transcript ("a@x.cn,b@x.cn"), and gets
    # the digest of the night's voicemails and emails each morning at this hour (the policy's time zone).
    on_duty_mailboxes: tuple[str, ...] = ()
    night_digest_at: str = "08:00"
    # Shared with the SMS/WeChat gateways, which sign each message with it (ticketing/webhooks.py).
    webhook_secret: str = ""
    # The IVR: a preset in ivr/menus/ (no-menu, as GB/T 33358 asks; keyed) or a TOML file's path.
    ivr_menu: str = "no-menu"
    # Skills with levels 1-9, "1003=12315:8,12345:3;1004=dialect:6"; others get 12345:5.
    agent_skills: str = ""
    acd_strategy: str = "longest-idle"
    wrap_up_seconds: float = 15.0
    # How long an agent's phone rings before the call goes to the next agent.
    ring_seconds: int = 15
    # How often a waiting caller's flow looks for an offer (the bound on ready-to-ringing delay).
    queue_poll_ms: int = 300
    # Speech-to-text: a Vosk model folder (vosk-model-small-cn-0.22 in production); empty turns it off.
    stt_model: str = ""
    # An agent may hear the recordings of calls they answered for this many days (supervisors always).
    recording_agent_days: int = 7
    # The words that guess a draft's or a message's type and raise emergency alerts (ticketing/guesses.py):
    # a TOML file's path; empty keeps the built-in Chinese lists.
    prefill_keywords: str = ""
    stt_workers: int = 1
    # Worker processes of their own that write each call's directions down after it (the caller's, what
    # they heard, each number dialled), for search and quality review; 0 leaves calls unwritten. Their own,
    # so a waiting caller's description never queues behind a long call.
    stt_call_workers: int = 0
    ami_action_timeout: float = 10.0
    agi_command_timeout: float = 60.0
    # Password guessing at the SIP edge (trunks/guard.py): an address that fails SIP authentication this
    # many times within the window is refused by Asterisk for the ban's seconds; a trunk's address never is.
    sip_ban_failures: int = 10
    sip_ban_window_seconds: float = 60.0
    sip_ban_seconds: float = 900.0
    # Networks never banned (CIDR, comma-separated: the office NAT the agents' phones share), reported as
    # security.sip_guessing instead; an address that signed in within the window is not banned either.
    sip_trusted_networks: tuple[str, ...] = ()
    # Asterisk's messages.log is rotated when it grows past this (kernel/asterisk/logfiles.py).
    asterisk_log_max_mb: int = 50

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


def load_settings(environ: Mapping[str, str] | None = None, *, create_secrets: bool = True) -> Settings:
    """Build the settings; generate and save missing secrets unless told not to."""
    environ = os.environ if environ is None else environ
    path = config_file_path(environ)
    merged = {**read_env_file(path), **{k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)}}
    values: dict[str, object] = {}
    for spec in fields(Settings):
        if spec.name in ("account_passwords", "trunk_passwords"):
            continue
        raw = merged.get(f"{ENV_PREFIX}{spec.name.upper()}")
        if raw is not None:
            values[spec.name] = _parse(spec.name, str(spec.type), raw)
    settings = Settings(**values)  # type: ignore[arg-type]
    check_ports(settings, ephemeral_port_range())

    missing: dict[str, str] = {}
    for name in SECRET_FIELDS:
        if not getattr(settings, name):
            missing[f"{ENV_PREFIX}{name.upper()}"] = (
                str(secrets.randbelow(10**8)).zfill(8)
                if name == "voicemail_pin"
                else secrets.token_urlsafe(18)
            )
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
        settings = dataclasses.replace(
            settings,
            **{
                name: missing.get(f"{ENV_PREFIX}{name.upper()}", getattr(settings, name))
                for name in SECRET_FIELDS
            },
        )
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
    env = {name: f"{ENV_PREFIX}{name.upper()}" for name in (*LISTEN_PORTS, *sum(PORT_RANGES, ()))}
    spans = [(env[name], getattr(settings, name), getattr(settings, name)) for name in LISTEN_PORTS]
    spans += [(f"{env[a]}/{env[b]}", getattr(settings, a), getattr(settings, b)) for a, b in PORT_RANGES]
    for label, first, last in spans:
        shown = str(first) if first == last else f"{first}-{last}"
        if not 0 < first <= last <= 65535:
            raise ConfigError(f"{label}={shown} is not a port or a port range")
        if first <= high and last >= low:
            raise ConfigError(
                f"{label}={shown} lies in the kernel's ephemeral port range {low}-{high} "
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
