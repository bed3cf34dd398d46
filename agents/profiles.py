"""An agent as the agent table keeps them: SIP account, name, skills, and whether they still work here.

Pure checks, no I/O: every field that later lands in Asterisk's configuration
is refused here if it could break the rendered file (a name with a newline or a
bracket would otherwise start a new section).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from hotline.agents.skills import DEFAULT_SKILLS, SkillSpecError, checked_levels

ACCOUNT_PATTERN = re.compile(r"[1-9][0-9]{3,7}")
# Each of these could end a field or a section in pjsip.conf or queues.conf, or start an expression.
NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f<>\"\\;\[\],$]")
NAME_MAX = 30


class ProfileError(ValueError):
    """A field of an agent is wrong; ``field`` names it for the API's error."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AgentProfile:
    account: str
    name: str
    skills: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SKILLS))
    active: bool = True

    @property
    def label(self) -> str:
        """How the agent shows on phones and in the fallback queue."""
        return self.name or f"坐席{self.account}"


def check_account(account: object, taken: Collection[str]) -> str:
    """4-8 digits not starting with 0, and not a number the centre already uses (a line, a supervisor)."""
    text = str(account).strip() if isinstance(account, str | int) else ""
    if not ACCOUNT_PATTERN.fullmatch(text):
        raise ProfileError("account", "坐席工号须为 4-8 位数字，且不以 0 开头")
    if text in taken:
        raise ProfileError("account", f"号码 {text} 已被热线号码或班长席占用")
    return text


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ProfileError("name", "请填写坐席姓名")
    text = name.strip()
    if len(text) > NAME_MAX or NAME_FORBIDDEN.search(text):
        raise ProfileError("name", f'姓名最多 {NAME_MAX} 个字，且不能含有 < > " \\ ; [ ] 或换行')
    return text


def check_skills(skills: object) -> dict[str, int]:
    if not isinstance(skills, Mapping):
        raise ProfileError("skills", '技能须为对象，例如 {"12345": 5, "12315": 8}')
    try:
        return checked_levels(skills)
    except SkillSpecError as exc:
        raise ProfileError("skills", str(exc)) from None


def new_profile(body: object, taken: Collection[str]) -> AgentProfile:
    """A new agent from the API's body: ``{"account", "name", "skills"?}``; 12345 at level 5 by default."""
    if not isinstance(body, Mapping):
        raise ProfileError("body", "请求体须为 JSON 对象")
    unknown = set(body) - {"account", "name", "skills"}
    if unknown:
        raise ProfileError(sorted(unknown)[0], "不认识的字段")
    return AgentProfile(
        account=check_account(body.get("account"), taken),
        name=check_name(body.get("name")),
        skills=check_skills(body["skills"]) if "skills" in body else dict(DEFAULT_SKILLS),
    )


def changed_profile(profile: AgentProfile, body: object) -> AgentProfile:
    """The same agent with ``name``, ``skills`` or ``active`` changed; the account never changes."""
    if not isinstance(body, Mapping) or not body:
        raise ProfileError("body", "请求体须为 JSON 对象，含 name、skills 或 active")
    unknown = set(body) - {"name", "skills", "active"}
    if unknown:
        raise ProfileError(sorted(unknown)[0], "不认识的字段（工号不能修改）")
    active = body.get("active", profile.active)
    if not isinstance(active, bool):
        raise ProfileError("active", "active 须为 true 或 false")
    return AgentProfile(
        account=profile.account,
        name=check_name(body["name"]) if "name" in body else profile.name,
        skills=check_skills(body["skills"]) if "skills" in body else profile.skills,
        active=active,
    )
