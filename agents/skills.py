"""Which skills each agent has: levels 1-9 per skill (a line, or a group such as ``dialect``).

Settings seed them as ``"1003=12315:8,12345:3;1004=dialect:6"``: agent 1003
answers the kept 12315 number at level 8 and 12345 at level 3. Agents not named
answer 12345 at level 5. The agent API takes the same levels as a JSON object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hotline.trunks.numbers import MAIN_NUMBER

DEFAULT_SKILLS = {MAIN_NUMBER: 5}


class SkillSpecError(ValueError):
    """The skills are malformed; the message names the part."""


def checked_levels(levels: Mapping[str, object]) -> dict[str, int]:
    """Skill names without spaces or separators, each with a whole level from 1 to 9; at least one."""
    checked: dict[str, int] = {}
    for skill, level in levels.items():
        name = str(skill).strip()
        if not name or any(c in name for c in ",;:= \t"):
            raise SkillSpecError(f"技能名 {skill!r} 不能为空，也不能含有空格或 , ; : =")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9:
            raise SkillSpecError(f"技能 {name} 的级别须为 1-9 的整数，收到 {level!r}")
        checked[name] = level
    if not checked:
        raise SkillSpecError("至少需要一项技能")
    return checked


def parse_agent_skills(spec: str, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
    known = list(accounts)
    skills = {account: dict(DEFAULT_SKILLS) for account in known}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        account, sep, listed = part.partition("=")
        account = account.strip()
        if not sep or account not in skills:
            raise SkillSpecError(f"{part!r}: expected ACCOUNT=skill:level,… for one of {', '.join(known)}")
        levels: dict[str, object] = {}
        for item in filter(None, (i.strip() for i in listed.split(","))):
            skill, _, level = item.partition(":")
            levels[skill] = int(level) if level.strip().isdigit() else level
        try:
            skills[account] = checked_levels(levels)
        except SkillSpecError as exc:
            raise SkillSpecError(f"{account}: {exc}") from None
    return skills
