"""The settings' structured parts (policy, skills, dialling plan, menu, ACD strategy, digest hour, lines and
the number map), parsed once."""

from __future__ import annotations

import dataclasses
from datetime import time
from pathlib import Path

from hotline.acd.engine import Settings as AcdSettings
from hotline.acd.engine import Strategy
from hotline.agents.skills import SkillSpecError, parse_agent_skills
from hotline.intake.imap_box import ImapAccount, ImapUrlError
from hotline.ivr.menu import Menu, MenuError, load_menu
from hotline.kernel.runtime.config import ConfigError, Settings
from hotline.ticketing.calendar import CalendarError, parse_clock
from hotline.ticketing.guesses import DEFAULT_KEYWORDS, Keywords, KeywordsError, load_keywords
from hotline.ticketing.policy import Policy, PolicyError, load_policy
from hotline.trunks.carriers import Trunk, TrunkSpecError, parse_trunks
from hotline.trunks.dialling import DiallingPlan, DiallingPlanError
from hotline.trunks.numbers import Line, LineSpecError, MappedNumber, parse_lines, parse_number_map


@dataclasses.dataclass(frozen=True)
class Plans:
    """The settings' structured parts, parsed once: a bad one stops the start, naming the setting."""

    policy: Policy
    seed_skills: dict[str, dict[str, int]]
    dialling: DiallingPlan
    menu: Menu
    acd: AcdSettings
    night_digest_at: time
    imap: ImapAccount | None
    keywords: Keywords
    lines: tuple[Line, ...]
    mapped_numbers: tuple[MappedNumber, ...]
    trunks: tuple[Trunk, ...]

    @classmethod
    def of(cls, settings: Settings) -> Plans:
        try:
            policy = load_policy(settings.ticket_policy)
        except PolicyError as exc:
            raise ConfigError(f"HOTLINE_TICKET_POLICY: {exc}") from None
        try:
            lines = parse_lines(settings.lines)
            mapped_numbers = parse_number_map(settings.number_map, lines)
        except LineSpecError as exc:
            raise ConfigError(f"HOTLINE_LINES / HOTLINE_NUMBER_MAP: {exc}") from None
        try:
            strategy = Strategy(settings.acd_strategy)
        except ValueError:
            names = ", ".join(s.value for s in Strategy)
            raise ConfigError(f"HOTLINE_ACD_STRATEGY must be one of {names}") from None
        try:
            return cls(
                policy=policy,
                seed_skills=parse_agent_skills(settings.agent_skills, settings.agents),
                dialling=DiallingPlan.of(settings.outbound_area_codes, settings.outbound_numbers),
                menu=load_menu(settings.ivr_menu),
                acd=AcdSettings(strategy, settings.wrap_up_seconds),
                night_digest_at=parse_clock(settings.night_digest_at),
                imap=ImapAccount.parse(settings.imap_url) if settings.imap_url else None,
                keywords=load_keywords(Path(settings.prefill_keywords))
                if settings.prefill_keywords
                else DEFAULT_KEYWORDS,
                lines=lines,
                mapped_numbers=mapped_numbers,
                trunks=carrier_trunks(settings),
            )
        except SkillSpecError as exc:
            raise ConfigError(f"HOTLINE_AGENT_SKILLS: {exc}") from None
        except MenuError as exc:
            raise ConfigError(f"HOTLINE_IVR_MENU: {exc}") from None
        except KeywordsError as exc:
            raise ConfigError(f"HOTLINE_PREFILL_KEYWORDS: {exc}") from None
        except ImapUrlError as exc:
            raise ConfigError(f"HOTLINE_IMAP_URL: {exc}") from None
        except CalendarError as exc:
            raise ConfigError(f"HOTLINE_NIGHT_DIGEST_AT: {exc}") from None
        except DiallingPlanError as exc:
            raise ConfigError(f"HOTLINE_OUTBOUND_AREA_CODES / HOTLINE_OUTBOUND_NUMBERS: {exc}") from None


def carrier_trunks(settings: Settings) -> tuple[Trunk, ...]:
    """The trunks in outbound order; without ``HOTLINE_TRUNKS``, the one carrier of ``HOTLINE_CARRIER_*``."""
    try:
        default = Trunk("carrier", settings.carrier_host, settings.carrier_port)
        return parse_trunks(settings.trunks, settings.trunk_passwords, default)
    except TrunkSpecError as exc:
        raise ConfigError(f"HOTLINE_TRUNKS: {exc}") from None
