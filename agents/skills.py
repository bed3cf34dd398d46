"""Which skills each agent has, from the deployment's settings.

``"1003=12315:8,12345:3;1004=dialect:6"``: agent 1003 answers the kept 12315
number at level 8 and 12345 at level 3. Agents not named answer 12345 at level 5.
"""

from __future__ import annotations

from collections.abc import Iterable

from trunks.numbers import MAIN_NUMBER

DEFAULT_SKILLS = {MAIN_NUMBER: 5}


class SkillSpecError(ValueError):
    """The skills setting is malformed; the message names the part."""


def parse_agent_skills(spec: str, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
    known = list(accounts)
    skills = {account: dict(DEFAULT_SKILLS) for account in known}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        account, sep, listed = part.partition("=")
        account = account.strip()
        if not sep or account not in skills:
            raise SkillSpecError(f"{part!r}: expected ACCOUNT=skill:level,… for one of {', '.join(known)}")
        levels: dict[str, int] = {}
        for item in filter(None, (i.strip() for i in listed.split(","))):
            skill, _, level = item.partition(":")
            if not skill.strip() or not level.strip().isdigit() or not 1 <= int(level) <= 9:
                raise SkillSpecError(f"{account}: {item!r} must be skill:level with a level of 1-9")
            levels[skill.strip()] = int(level)
        if not levels:
            raise SkillSpecError(f"{account}: no skills listed")
        skills[account] = levels
    return skills
